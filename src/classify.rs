//! Where a failure becomes an outcome and a hint for the operator: the first cause in an
//! error chain whose type says what happened decides; anything unknown is a runtime failure.
//! The entry's business: it looks down at every adapter's error type (docs/architecture.md),
//! and nothing else in the crate decides a process exit code.

use crate::archive::ArchiveError;
use crate::cache::{CacheError, CacheFault};
use crate::config::ConfigError;
use crate::error::{CliError, KeyError, Outcome};
use crate::lock::{LockError, LockFault};
use crate::mongo::MongoError;
use crate::storage::{StorageError, StorageFault};

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
    crate::mongo::describe_chain(err)
}

/// Whether a failed verify or drill says something about the backup itself (a damaged or
/// mismatching archive, a runtime failure while reading or restoring it), so that it is
/// recorded beside it; a usage error, a missing key, an unreachable server or a held lock
/// is not.
pub fn about_the_backup(e: &anyhow::Error) -> bool {
    if e.chain().any(|c| c.downcast_ref::<KeyError>().is_some()) {
        return false;
    }
    matches!(classify(e, false).outcome, Outcome::Drift | Outcome::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn only_damage_and_runtime_failures_are_about_the_backup() {
        let drift = || anyhow::Error::new(CliError::new(Outcome::Drift, "checksum differs"));
        assert!(about_the_backup(&drift()));
        assert!(about_the_backup(&anyhow::anyhow!("restore failed")));
        assert!(!about_the_backup(&anyhow::Error::new(CliError::usage("no such backup"))));
        assert!(!about_the_backup(&anyhow::Error::new(CliError::unreachable("mongodb down"))));
        // A key that opens nothing is exit 6 too, but says nothing of the backup.
        assert!(!about_the_backup(&crate::error::KeyError::wrap(drift())));
    }

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
        let err = anyhow::Error::new(StorageError::new(
            StorageFault::Local { errno: Some(13) },
            "cannot write x: Permission denied",
        ));
        assert!(classify(&err, false).hint.unwrap().contains("permissions"));
        let err = anyhow::Error::new(ArchiveError::Corrupt("bad".into()));
        assert_eq!(classify(&err, false).outcome, Outcome::Drift);
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
