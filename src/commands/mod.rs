//! One module per command, each `pub async fn run(ctx, args) -> anyhow::Result<Outcome>`.
pub mod backup;
pub mod cleanup;
pub mod completions;
pub mod config;
pub mod cron;
pub mod delete;
pub mod describe;
pub mod drill;
pub mod import;
pub mod indexes;
pub mod list;
pub mod lock;
pub mod man;
pub mod mask;
pub mod pitr;
pub mod prune;
pub mod rekey;
pub mod restore;
pub mod stats;
pub mod users;
pub mod verify;

use std::io::IsTerminal as _;

use crate::context::Context;
use crate::error::{CliError, Outcome};

/// Asks before a destructive step: `--yes` answers; without a terminal it refuses (exit 2).
pub(crate) fn confirm(ctx: &Context, question: &str) -> Result<(), CliError> {
    if ctx.global.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(CliError::usage(format!("{question} Refusing without a terminal"))
            .with_hint("pass --yes to confirm in scripts and CI"));
    }
    #[allow(clippy::print_stderr)]
    {
        eprint!("{question} Type 'yes' to continue: ");
    }
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| CliError::new(Outcome::Failed, format!("cannot read the answer: {e}")))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(CliError::usage("not confirmed; nothing was changed"))
    }
}
