//! How a command ended: one table from outcome to exit code, JSON `status` and the exit-code
//! text of `--help` (docs/cli.md), and the one function that classifies a failure.
//!
//! Commands return `anyhow::Result<Outcome>`. A command that ran to its end says how it ended
//! with `Ok(..)` (a check that found drift is `Ok(Outcome::Drift)`); a command that could not
//! finish returns an error. Adapters return their own typed errors, which say what failed;
//! [`classify`] is where those become an outcome and a hint for the operator. Nothing else in
//! the crate decides a process exit code.

use crate::archive::ArchiveError;
use crate::cache::{CacheError, CacheFault};
use crate::config::ConfigError;
use crate::lock::{LockError, LockFault};
use crate::mongo::MongoError;
use crate::storage::{StorageError, StorageFault};

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

/// A failure as the operator sees it: outcome (so exit code), one line, and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub outcome: Outcome,
    pub message: String,
    pub hint: Option<String>,
}

/// The outcome and hint of a failed command. The first cause in the chain whose type says
/// what happened decides; anything unknown is a runtime failure. After a signal every failure
/// is an interruption: the job failed because it was being torn down.
pub fn classify(err: &anyhow::Error, interrupted: bool) -> Classified {
    if let Some(lost) = crate::signal::lost() {
        return Classified {
            outcome: Outcome::Unreachable,
            message: match message_of(err) {
                m if m == "interrupted" => lost,
                m => format!("{lost}; stopped: {m}"),
            },
            hint: Some(
                "check Redis (redis.url) and rerun the job; what this run left unfinished is cleaned up by the next one".into(),
            ),
        };
    }
    let (outcome, hint) = err.chain().find_map(of_cause).unwrap_or((Outcome::Failed, None));
    let outcome = if interrupted { Outcome::Interrupted } else { outcome };
    Classified { outcome, message: message_of(err), hint }
}

type Decision = (Outcome, Option<String>);

fn of_cause(cause: &(dyn std::error::Error + 'static)) -> Option<Decision> {
    if let Some(e) = cause.downcast_ref::<CliError>() {
        return Some((e.outcome, e.hint.clone()));
    }
    if let Some(e) = cause.downcast_ref::<KeyError>() {
        return e.inner().chain().find_map(of_cause);
    }
    if let Some(e) = cause.downcast_ref::<ConfigError>() {
        return Some((Outcome::Usage, e.hint()));
    }
    if cause.downcast_ref::<crate::signal::Interrupted>().is_some() {
        return Some((Outcome::Interrupted, None));
    }
    if let Some(e) = cause.downcast_ref::<StorageError>() {
        return Some(storage(e));
    }
    if let Some(e) = cause.downcast_ref::<CacheError>() {
        return Some(cache(e));
    }
    if let Some(e) = cause.downcast_ref::<LockError>() {
        return Some(lock(e));
    }
    if let Some(e) = cause.downcast_ref::<MongoError>() {
        return Some(mongo(e));
    }
    if let Some(e) = cause.downcast_ref::<ArchiveError>() {
        return Some(match e {
            ArchiveError::Corrupt(_) => (
                Outcome::Drift,
                Some(
                    "the archive is damaged or not a backup; use another one (`daraa-ops list`)"
                        .into(),
                ),
            ),
            ArchiveError::Io(_) => (Outcome::Failed, None),
        });
    }
    if let Some(e) = cause.downcast_ref::<mongodb::error::Error>()
        && crate::mongo::is_connection_error(e)
    {
        return Some((
            Outcome::Unreachable,
            Some("the MongoDB server went away or the network failed; nothing was lost: run the command again when it is back".into()),
        ));
    }
    None
}

fn storage(e: &StorageError) -> Decision {
    let hint = |h: &str| Some(h.to_owned());
    match e.fault {
        StorageFault::Unreachable => (
            Outcome::Unreachable,
            hint("check s3.endpoint, the network, and that the S3 service runs"),
        ),
        StorageFault::Denied => (
            Outcome::Unreachable,
            hint("check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile/role in use"),
        ),
        StorageFault::NoCredentials => (
            Outcome::Usage,
            hint(
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or run where an instance role provides them",
            ),
        ),
        StorageFault::Forbidden => (
            Outcome::Unreachable,
            hint(
                "the credentials work but may not do this: check the bucket policy and the IAM permissions for this prefix",
            ),
        ),
        StorageFault::NoBucket => {
            (Outcome::Unreachable, hint("create the bucket or fix s3.bucket"))
        }
        StorageFault::Service => (Outcome::Unreachable, None),
        StorageFault::Mismatch => (
            Outcome::Failed,
            hint("S3 stored something else than was sent; the upload was not counted as complete"),
        ),
        StorageFault::Interrupted => (Outcome::Interrupted, None),
        StorageFault::Local { errno } => (
            Outcome::Failed,
            match errno {
                Some(28) => hint("the disk is full: free space or point backup.dir elsewhere"),
                Some(13) => hint("check the permissions of the backup directory"),
                _ => None,
            },
        ),
    }
}

fn cache(e: &CacheError) -> Decision {
    match e.fault {
        CacheFault::Config => (Outcome::Usage, None),
        CacheFault::AuthFailed => (
            Outcome::Unreachable,
            Some("check redis.password_file (and the user name in redis.url, if any)".into()),
        ),
        CacheFault::Unreachable => (
            Outcome::Unreachable,
            Some(
                "check that redis-server runs and that redis.url names the right host and port"
                    .into(),
            ),
        ),
    }
}

fn lock(e: &LockError) -> Decision {
    match &e.fault {
        LockFault::Held { release } => (
            Outcome::Locked,
            Some(format!(
                "wait for it to finish; if it crashed, the lock expires after lock.ttl, or run: {release}"
            )),
        ),
        LockFault::AliveHere { pid } => (
            Outcome::Locked,
            Some(format!(
                "it is running on this host as pid {pid}: wait for it to finish (stop that process if it is stuck; the lock goes with it)"
            )),
        ),
        LockFault::Redis => (Outcome::Unreachable, None),
        LockFault::Io => (Outcome::Failed, None),
    }
}

fn mongo(e: &MongoError) -> Decision {
    match e {
        MongoError::Config(c) => (Outcome::Usage, c.hint()),
        MongoError::AuthFailed { .. } => (
            Outcome::Unreachable,
            Some("check the user name, its password file and the auth source (authSource)".into()),
        ),
        MongoError::Refused { .. } => (
            Outcome::Unreachable,
            Some(
                "check the user name, its password file, the auth source and the user's roles"
                    .into(),
            ),
        ),
        MongoError::Unreachable { .. } => (
            Outcome::Unreachable,
            Some(
                "check that the server runs and that mongodb.uri names the right host and port"
                    .into(),
            ),
        ),
        MongoError::Other { .. } => (Outcome::Failed, None),
    }
}

/// The one-line message: the context chain joined by `: `, with driver errors in words and
/// no cause repeated (a wrapped error's text often ends with its source's).
fn message_of(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in err.chain() {
        let text = match c.downcast_ref::<mongodb::error::Error>() {
            Some(e) => crate::mongo::describe_error(e),
            None => c.to_string(),
        };
        if parts.last().is_some_and(|last| last.ends_with(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn wrapped_errors_keep_their_outcome() {
        let err = anyhow::Error::new(CliError::new(Outcome::Unreachable, "mongodb down"))
            .context("connecting");
        assert_eq!(classify(&err, false).outcome.code(), 3);
        let err: anyhow::Error = Err::<(), _>(std::io::Error::other("x")).context("y").unwrap_err();
        assert_eq!(classify(&err, false).outcome.code(), 1);
        let err = anyhow::Error::new(crate::signal::Interrupted);
        assert_eq!(classify(&err, false).outcome.code(), 130);
        let err = anyhow::Error::new(CliError::new(Outcome::Locked, "held"));
        assert_eq!(classify(&err, true).outcome, Outcome::Interrupted);
    }

    #[test]
    fn adapter_errors_are_mapped_here() {
        let err = anyhow::Error::new(StorageError::new(
            StorageFault::Local { errno: Some(28) },
            "cannot write x: No space left on device",
        ));
        let c = classify(&err, false);
        assert_eq!(c.outcome, Outcome::Failed);
        assert!(c.hint.unwrap().contains("disk is full"));
        let err = anyhow::Error::new(ArchiveError::Corrupt("bad".into()));
        assert_eq!(classify(&err, false).outcome, Outcome::Drift);
    }

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
    fn repeated_causes_are_said_once() {
        let io = std::io::Error::from_raw_os_error(2);
        let err = anyhow::Error::new(io)
            .context("cannot read /x: No such file or directory (os error 2)");
        assert_eq!(
            classify(&err, false).message,
            "cannot read /x: No such file or directory (os error 2)"
        );
    }
}
