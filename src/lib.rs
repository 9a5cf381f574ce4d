//! daraa-ops: one binary for the MongoDB lifecycle of the Daraa marketplace.
//!
//! `main.rs` calls [`main_entry`]; the modules are public so that integration tests and the
//! development examples (`examples/seed.rs`) can use the same config and connection code.

pub mod app;
pub mod archive;
pub mod cache;
pub mod catalog;
pub mod cleanup;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod devdata;
pub mod error;
pub mod exit;
pub mod indexes;
pub mod jobs;
pub mod lock;
pub mod logging;
pub mod mongo;
pub mod output;
pub mod restore;
pub mod retention;
pub mod signal;
pub mod stats;
pub mod storage;
pub mod users;

use std::process::ExitCode;

use clap::Parser as _;
use tokio_util::sync::CancellationToken;

/// Parses, runs and maps the outcome to the documented exit code: the only place that does.
pub fn main_entry() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    logging::init(&cli.global);
    // rustls needs one process-wide crypto provider; MongoDB, Redis and S3 all share it.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let cancel = CancellationToken::new();
    let ctx = context::Context::new(cli.global.clone(), cancel.clone());
    let name = cli.command.name();
    let result = runtime.block_on(async {
        signal::install(cancel.clone());
        app::run(&ctx, &cli.command).await
    });
    let code = match result {
        Ok(status) => {
            ctx.out.finish(name, status.label(), status.code(), None);
            status.code()
        }
        Err(err) => {
            // A job that failed because it was being torn down after a signal was interrupted.
            let kind = if cancel.is_cancelled() {
                error::ErrorKind::Interrupted
            } else {
                exit::kind_of(&err)
            };
            let message = exit::message_of(&err);
            let hint = exit::hint_of(&err);
            ctx.out.finish(name, kind.status(), kind.code(), Some((&message, hint.as_deref())));
            kind.code()
        }
    };
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    ExitCode::from(code)
}

/// clap's own errors: help and version exit 0, the rest 2; with `--output json` the contract's
/// JSON object is printed too.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) && e.exit_code() == 0
    {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let _ = e.print();
    let args: Vec<String> = std::env::args().collect();
    let json = args.windows(2).any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json");
    if json {
        let printer = output::Printer::new(cli::OutputFormat::Json);
        let msg = e.to_string();
        let first =
            msg.lines().next().unwrap_or("usage error").trim_start_matches("error: ").to_owned();
        printer.finish_usage(&first);
    }
    ExitCode::from(2)
}
