//! Dispatch from the parsed command line to the command modules.

use crate::cli::Command;
use crate::commands;
use crate::context::Context;
use crate::outcome::Outcome;

pub async fn run(ctx: &Context, command: &Command) -> anyhow::Result<Outcome> {
    let Some(job) = recorded_job(command) else { return dispatch(ctx, command).await };
    let started = std::time::Instant::now();
    let started_unix = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
    let result = dispatch(ctx, command).await;
    // Jobs monitoring alerts on; backup and cleanup record their own with bytes and documents.
    if let Ok(loaded) = ctx.config() {
        let code = match &result {
            Ok(s) => s.code(),
            Err(e) => crate::outcome::classify(e, ctx.cancel.is_cancelled()).outcome.code(),
        };
        let documents = ctx.out.get("documents").and_then(|v| v.as_u64()).unwrap_or(0);
        crate::lastrun::save(
            &loaded.config,
            &crate::lastrun::Record {
                job,
                // The database the job acted on: a restore's target, else the configured one.
                database: match command {
                    Command::Restore(a) => a.target_db.clone(),
                    _ => None,
                }
                .unwrap_or_else(|| loaded.config.mongodb.database.clone()),
                exit_code: code,
                started_unix,
                duration_seconds: started.elapsed().as_secs_f64(),
                bytes: 0,
                documents,
            },
        )
        .await;
    }
    result
}

/// The metric name of a job whose runs are recorded here (dry runs are not).
fn recorded_job(command: &Command) -> Option<&'static str> {
    use crate::cli::{IndexesCommand, UsersCommand};
    match command {
        Command::Prune(a) if !a.dry_run => Some("prune"),
        Command::Restore(a) if !a.dry_run => Some("restore"),
        Command::Drill(_) => Some("drill"),
        Command::Indexes(IndexesCommand::Validate(_)) => Some("indexes_validate"),
        Command::Users(UsersCommand::Check) => Some("users_check"),
        _ => None,
    }
}

async fn dispatch(ctx: &Context, command: &Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Config(cmd) => commands::config::run(ctx, cmd).await,
        Command::Backup(args) => commands::backup::run(ctx, args).await,
        Command::List(args) => commands::list::run(ctx, args).await,
        Command::Verify(args) => commands::verify::run(ctx, args).await,
        Command::Import(args) => commands::import::run(ctx, args).await,
        Command::Prune(args) => commands::prune::run(ctx, args).await,
        Command::Rekey(args) => commands::rekey::run(ctx, args).await,
        Command::Restore(args) => commands::restore::run(ctx, args).await,
        Command::Drill(args) => commands::drill::run(ctx, args).await,
        Command::Users(cmd) => commands::users::run(ctx, cmd).await,
        Command::Indexes(cmd) => commands::indexes::run(ctx, cmd).await,
        Command::Cleanup(args) => commands::cleanup::run(ctx, args).await,
        Command::Stats(args) => commands::stats::run(ctx, args).await,
        Command::Cron(cmd) => commands::cron::run(ctx, cmd),
        Command::Lock(cmd) => commands::lock::run(ctx, cmd).await,
        Command::Mask(cmd) => commands::mask::run(ctx, cmd).await,
        Command::Completions(args) => commands::completions::run(ctx, args),
        Command::Man(args) => commands::man::run(ctx, args),
    }
}
