//! How a command ended, as the crate's one error model: the table from outcome to exit code,
//! JSON `status` and the exit-code text of `--help` (docs/cli.md), and the errors commands and
//! engines raise when they know the outcome. A leaf: it imports nothing of the crate.
//!
//! Commands return `anyhow::Result<Outcome>`. A command that ran to its end says how it ended
//! with `Ok(..)` (a check that found drift is `Ok(Outcome::Drift)`); a command that could not
//! finish returns an error. Adapters return their own typed errors, which say what failed;
//! `crate::classify`, at the entry, is where those become an outcome and a hint.

/// How a command ended. The numeric codes are a public contract (docs/cli.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Everything the command was asked to do was done.
    Ok,
    /// A runtime failure.
    Failed,
    /// A usage or configuration error: nothing was attempted.
    Usage,
    /// MongoDB, Redis or S3 did not answer, or refused the credentials.
    Unreachable,
    /// Another run holds the lock.
    Locked,
    /// Part of the work succeeded (for example: archive written, upload failed).
    Partial,
    /// A check failed: drift, a checksum or count mismatch, a corrupt archive.
    Drift,
    /// SIGINT or SIGTERM.
    Interrupted,
}

struct Row {
    outcome: Outcome,
    code: u8,
    status: &'static str,
    meaning: &'static str,
}

/// The table. `--help`, docs/cli.md and the JSON `status` all come from here.
const TABLE: [Row; 8] = [
    Row { outcome: Outcome::Ok, code: 0, status: "ok", meaning: "ok" },
    Row { outcome: Outcome::Failed, code: 1, status: "failed", meaning: "runtime failure" },
    Row {
        outcome: Outcome::Usage,
        code: 2,
        status: "failed",
        meaning: "usage or configuration error",
    },
    Row {
        outcome: Outcome::Unreachable,
        code: 3,
        status: "failed",
        meaning: "a dependency is unreachable or authentication failed (MongoDB, Redis, S3)",
    },
    Row {
        outcome: Outcome::Locked,
        code: 4,
        status: "failed",
        meaning: "another run holds the lock",
    },
    Row {
        outcome: Outcome::Partial,
        code: 5,
        status: "partial",
        meaning: "partial success (e.g. archive written locally but upload failed)",
    },
    Row {
        outcome: Outcome::Drift,
        code: 6,
        status: "drift",
        meaning: "check failed (drift, checksum or count mismatch, corrupt archive)",
    },
    Row {
        outcome: Outcome::Interrupted,
        code: 130,
        status: "failed",
        meaning: "interrupted (SIGINT/SIGTERM)",
    },
];

impl Outcome {
    fn row(self) -> &'static Row {
        TABLE.iter().find(|r| r.outcome == self).expect("every outcome has a row")
    }

    /// The process exit code.
    pub fn code(self) -> u8 {
        self.row().code
    }

    /// The `status` field of the JSON summary.
    pub fn status(self) -> &'static str {
        self.row().status
    }
}

/// The exit-code section of `--help`, generated from the table.
pub fn exit_codes_help() -> String {
    use std::fmt::Write as _;
    let mut text = String::from("Exit codes:");
    for r in &TABLE {
        let _ = write!(text, "\n  {:<4} {}", r.code, r.meaning);
    }
    text
}

/// The error commands and engines raise when they know the outcome (a usage error, a refused
/// target, a failed check), with an optional hint printed under it. Adapters do not use it:
/// they return their own typed errors, which [`classify`] maps.
#[derive(Debug)]
pub struct CliError {
    pub outcome: Outcome,
    pub message: String,
    pub hint: Option<String>,
}

impl CliError {
    pub fn new(outcome: Outcome, message: impl Into<String>) -> Self {
        CliError { outcome, message: message.into(), hint: None }
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Puts what was being done in front of the message.
    #[must_use]
    pub fn prefixed(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    pub fn usage(message: impl Into<String>) -> Self {
        CliError::new(Outcome::Usage, message)
    }

    pub fn unreachable(message: impl Into<String>) -> Self {
        CliError::new(Outcome::Unreachable, message)
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// A backup that could not be opened with the configured keys (none configured, a key file
/// missing or unreadable, no identity among its recipients): it says nothing about the
/// backup, so no check records it as the backup's failure. The wrapped error decides the
/// outcome.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct KeyError(anyhow::Error);

impl KeyError {
    pub fn wrap(e: anyhow::Error) -> anyhow::Error {
        anyhow::Error::new(KeyError(e))
    }

    /// The error inside, for classification.
    pub fn inner(&self) -> &anyhow::Error {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_codes_unique() {
        let mut codes: Vec<u8> = TABLE.iter().map(|r| r.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6, 130]);
        let help = exit_codes_help();
        assert!(help.starts_with("Exit codes:\n  0    ok\n  1    runtime failure"), "{help}");
        assert_eq!(Outcome::Drift.status(), "drift");
        assert_eq!(Outcome::Partial.status(), "partial");
    }

    #[test]
    fn a_cli_error_displays_its_message_alone() {
        // The hint is printed on its own line by the caller, never inside the message.
        let e = CliError::usage("--to-time x: not a time").with_hint("give RFC 3339");
        assert_eq!(e.to_string(), "--to-time x: not a time");
        assert_eq!(format!("{:#}", anyhow::Error::new(e)), "--to-time x: not a time");
    }
}
