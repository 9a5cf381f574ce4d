//! The documented exit codes, and the one place that turns an error into one.
//!
//! Commands return `anyhow::Result<ExitStatus>`; `main` calls [`code_for_error`] for failures.
//! Nothing else in the crate decides a process exit code.

use crate::error::{CliError, ErrorKind};

/// How a command ended. The numeric values are a public contract (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExitStatus {
    /// Everything the command was asked to do was done.
    Ok,
    /// Part of the work succeeded (for example: archive written, upload failed).
    Partial,
    /// A check found drift, a checksum or count mismatch, or a corrupt archive.
    Drift,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::Partial => 5,
            ExitStatus::Drift => 6,
        }
    }

    /// The `status` field of the JSON summary.
    pub fn label(self) -> &'static str {
        match self {
            ExitStatus::Ok => "ok",
            ExitStatus::Partial => "partial",
            ExitStatus::Drift => "drift",
        }
    }
}

/// The table printed in `--help` and docs/cli.md.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    ok
  1    runtime failure
  2    usage or configuration error
  3    a dependency is unreachable or authentication failed (MongoDB, Redis, S3)
  4    another run holds the lock
  5    partial success (e.g. archive written locally but upload failed)
  6    check failed (drift, checksum or count mismatch, corrupt archive)
  130  interrupted (SIGINT/SIGTERM)";

/// The exit code for a failed command: the first [`CliError`] in the chain decides, else 1.
pub fn code_for_error(err: &anyhow::Error) -> u8 {
    kind_of(err).code()
}

pub fn kind_of(err: &anyhow::Error) -> ErrorKind {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<CliError>() {
            return e.kind;
        }
        if cause.downcast_ref::<crate::config::ConfigError>().is_some() {
            return ErrorKind::Config;
        }
        if let Some(f) = cause.downcast_ref::<crate::restore::Failed>() {
            return f.kind;
        }
        if cause.downcast_ref::<crate::signal::Interrupted>().is_some() {
            return ErrorKind::Interrupted;
        }
        if let Some(e) = cause.downcast_ref::<mongodb::error::Error>()
            && crate::mongo::is_connection_error(e)
        {
            return ErrorKind::Unreachable;
        }
    }
    ErrorKind::Runtime
}

/// The one-line message: the context chain joined by `: `, with driver errors in words.
pub fn message_of(err: &anyhow::Error) -> String {
    let parts: Vec<String> = err
        .chain()
        .map(|c| match c.downcast_ref::<mongodb::error::Error>() {
            Some(e) => crate::mongo::describe_error(e),
            None => c.to_string(),
        })
        .collect();
    parts.join(": ").replace('\n', " ")
}

/// The hint attached to the first [`CliError`] in the chain, if any.
pub fn hint_of(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|c| match c.downcast_ref::<CliError>() {
        Some(e) => e.hint.clone(),
        None if c
            .downcast_ref::<mongodb::error::Error>()
            .is_some_and(crate::mongo::is_connection_error) =>
        {
            Some("the MongoDB server went away or the network failed; nothing was lost: run the command again when it is back".into())
        }
        None => c
            .downcast_ref::<crate::config::ConfigError>()
            .and_then(crate::config::ConfigError::hint),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn wrapped_errors_keep_their_kind() {
        let err = anyhow::Error::new(CliError::new(ErrorKind::Unreachable, "mongodb down"))
            .context("connecting");
        assert_eq!(code_for_error(&err), 3);
        let err: anyhow::Error = Err::<(), _>(std::io::Error::other("x")).context("y").unwrap_err();
        assert_eq!(code_for_error(&err), 1);
        let err = anyhow::Error::new(crate::signal::Interrupted);
        assert_eq!(code_for_error(&err), 130);
    }
}
