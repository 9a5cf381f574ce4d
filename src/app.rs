//! Dispatch from the parsed command line to the command modules.

use crate::cli::Command;
use crate::commands;
use crate::context::Context;
use crate::exit::ExitStatus;

pub async fn run(ctx: &Context, command: &Command) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Config(cmd) => commands::config::run(ctx, cmd).await,
        Command::Backup(args) => commands::backup::run(ctx, args).await,
        Command::List(args) => commands::list::run(ctx, args).await,
        Command::Verify(args) => commands::verify::run(ctx, args).await,
        Command::Prune(args) => commands::prune::run(ctx, args).await,
        Command::Restore(args) => commands::restore::run(ctx, args).await,
        Command::Drill(args) => commands::drill::run(ctx, args).await,
        Command::Users(cmd) => commands::users::run(ctx, cmd).await,
        Command::Indexes(cmd) => commands::indexes::run(ctx, cmd).await,
        Command::Cleanup(args) => commands::cleanup::run(ctx, args).await,
        Command::Lock(cmd) => commands::lock::run(ctx, cmd).await,
        Command::Completions(args) => commands::completions::run(ctx, args),
        Command::Man(args) => commands::man::run(ctx, args),
    }
}
