//! tracing setup: human lines or JSON lines on stderr, level from -q/-v or `DARAA_OPS_LOG`.

use tracing_subscriber::EnvFilter;

use crate::config::env_vars;

/// `--log-format`: human lines or JSON lines on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `quiet` and `verbose` are the global `-q` and `-v` flags.
pub fn init(format: LogFormat, quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    // Our own crate at the chosen level; dependencies one notch quieter unless -vv. The AWS
    // SDK's credential providers warn with their internal structures on every miss (IMDS
    // tokens, profiles): errors only, unless -v; daraa-ops names the cause itself.
    let default = match verbose {
        0 => format!("warn,aws_config=error,aws_smithy_runtime=error,daraa_ops={level}"),
        1 => format!("warn,daraa_ops={level}"),
        _ => level.to_owned(),
    };
    let filter = std::env::var(env_vars::LOG)
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let result = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => {
            use std::io::IsTerminal as _;
            builder.with_ansi(std::io::stderr().is_terminal()).try_init()
        }
    };
    // A second init (tests calling run twice) keeps the first subscriber.
    let _ = result;
}
