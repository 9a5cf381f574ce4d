//! Error kinds that decide exit codes, with an optional hint for the operator.
//!
//! Adapters return their own typed errors; they wrap them in [`CliError`] where the kind is
//! known (an unreachable server, a failed authentication), so that `exit.rs` can map the chain.

use std::fmt;

/// What went wrong, as far as the exit code is concerned (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Runtime,
    Config,
    Unreachable,
    Locked,
    Partial,
    Check,
    Interrupted,
}

impl ErrorKind {
    pub fn code(self) -> u8 {
        match self {
            ErrorKind::Runtime => 1,
            ErrorKind::Config => 2,
            ErrorKind::Unreachable => 3,
            ErrorKind::Locked => 4,
            ErrorKind::Partial => 5,
            ErrorKind::Check => 6,
            ErrorKind::Interrupted => 130,
        }
    }

    /// The JSON `status` of a command that ended with this error.
    pub fn status(self) -> &'static str {
        match self {
            ErrorKind::Partial => "partial",
            ErrorKind::Check => "drift",
            _ => "failed",
        }
    }
}

/// An error with a kind (and so an exit code) and an optional hint printed under it.
#[derive(Debug)]
pub struct CliError {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl CliError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CliError { kind, message: message.into(), hint: None }
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
        CliError::new(ErrorKind::Config, message)
    }

    pub fn unreachable(message: impl Into<String>) -> Self {
        CliError::new(ErrorKind::Unreachable, message)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}
