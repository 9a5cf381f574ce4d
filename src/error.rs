//! [`CliError`]: the error commands and engines raise when they know the outcome (a usage
//! error, a refused target, a failed check), with an optional hint printed under it.
//!
//! Adapters do not use it: they return their own typed errors, which `outcome::classify` maps.

use std::fmt;

use crate::outcome::Outcome;

/// An error with an outcome (and so an exit code) and an optional hint for the operator.
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

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}
