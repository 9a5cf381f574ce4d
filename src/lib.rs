//! daraa-ops: one binary for the MongoDB lifecycle of the Daraa marketplace.
//!
//! `main.rs` calls [`main_entry`]; the modules are public so that integration tests and the
//! development examples (`examples/seed.rs`) can use the same config and connection code.

pub mod app;
pub mod archive;
pub mod backup;
pub mod cache;
pub mod classify;
pub mod cleanup;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod cron;
pub mod digest;
pub mod drill;
pub mod engine;
pub mod error;
pub mod files;
pub mod indexes;
pub mod lastrun;
pub mod lock;
pub mod logging;
pub mod mask;
pub mod metrics;
pub mod mongo;
pub mod notify;
pub mod oplog;
pub mod output;
pub mod pitr;
pub mod probe;
pub mod repo;
pub mod restore;
pub mod retention;
pub mod signal;
pub mod stats;
pub mod storage;
pub mod users;
pub mod verify;

use std::process::ExitCode;

use clap::Parser as _;
use tokio_util::sync::CancellationToken;

/// Parses, runs, and turns the outcome into the documented exit code (src/outcome.rs holds
/// the table).
pub fn main_entry() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    logging::init(cli.global.log_format, cli.global.quiet, cli.global.verbose);
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
        let result = app::run(&ctx, &cli.command).await;
        mongo::shutdown_all().await;
        result
    });
    let code = match result {
        Ok(outcome) => {
            ctx.out.finish(name, outcome.status(), outcome.code(), None);
            outcome.code()
        }
        Err(err) => {
            let failure = classify::classify(&err, cancel.is_cancelled());
            let code = failure.outcome.code();
            ctx.out.finish(
                name,
                failure.outcome.status(),
                code,
                Some((&failure.message, failure.hint.as_deref())),
            );
            code
        }
    };
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    ExitCode::from(code)
}

/// `--output json` on the command line, read without clap (which failed or printed already).
fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2).any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json")
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
        if e.kind() == ErrorKind::DisplayVersion && json_requested() {
            let printer = output::Printer::new(output::OutputFormat::Json, true, true);
            printer.finish_version(env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let _ = e.print();
    if json_requested() {
        let printer = output::Printer::new(output::OutputFormat::Json, true, true);
        let msg = e.to_string();
        let first =
            msg.lines().next().unwrap_or("usage error").trim_start_matches("error: ").to_owned();
        printer.finish_usage(&first);
    }
    ExitCode::from(2)
}
