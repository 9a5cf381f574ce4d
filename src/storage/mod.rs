//! Where archives live: the local backup directory and an S3 bucket, behind one small
//! interface (`put_file`, `put_bytes`, `get_bytes`, `reader`, `list`, `delete`) so that `list`,
//! `prune`, `verify` and `restore` treat both alike. One conformance test runs against both.

pub mod local;
pub mod s3;

use std::io::Read;
use std::path::Path;

use tokio_util::sync::CancellationToken;

use crate::config::Config;

/// The backup directory, created with mode 0700 when missing.
pub fn local(cfg: &Config) -> Result<local::LocalStore, StorageError> {
    use std::os::unix::fs::DirBuilderExt as _;
    let dir = &cfg.backup.dir;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| StorageError::local("create backup.dir", dir, &e))?;
    }
    Ok(local::LocalStore::new(dir.clone()))
}

/// The S3 storage, when `s3` is configured.
pub async fn remote(cfg: &Config) -> Option<Storage> {
    match &cfg.s3 {
        Some(s3) => Some(Storage::S3(Box::new(s3::S3Store::new(s3).await))),
        None => None,
    }
}

/// Every configured storage, local first (it is read without creating the directory).
pub async fn all(cfg: &Config) -> Vec<Storage> {
    let mut storages = vec![Storage::Local(local::LocalStore::new(cfg.backup.dir.clone()))];
    storages.extend(remote(cfg).await);
    storages
}

/// What went wrong with a storage, in its own terms; `classify::classify` turns the fault into an
/// exit code and a hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFault {
    /// No answer from S3 (network, endpoint, timeout).
    Unreachable,
    /// S3 refused the credentials.
    Denied,
    /// No credentials were found at all (environment, profile, instance role).
    NoCredentials,
    /// The credentials work, but a policy denies this request.
    Forbidden,
    /// The bucket does not exist.
    NoBucket,
    /// S3 answered with another error.
    Service,
    /// What S3 stored differs from what was sent (size or ETag).
    Mismatch,
    /// Stopped by a signal.
    Interrupted,
    /// A local file operation failed (the OS error number, when there is one).
    Local { errno: Option<i32> },
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StorageError {
    pub fault: StorageFault,
    pub message: String,
}

impl StorageError {
    pub fn new(fault: StorageFault, message: impl Into<String>) -> Self {
        StorageError { fault, message: message.into() }
    }

    /// A failed local file operation on `path`.
    pub fn local(what: &str, path: &Path, e: &std::io::Error) -> Self {
        StorageError::new(
            StorageFault::Local { errno: e.raw_os_error() },
            format!("cannot {what} {}: {e}", path.display()),
        )
    }

    /// Puts what was being done in front of the message.
    #[must_use]
    pub fn prefixed(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// File name in the directory, or key without the prefix in S3.
    pub name: String,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub enum Storage {
    Local(local::LocalStore),
    S3(Box<s3::S3Store>),
}

impl Storage {
    pub fn describe(&self) -> String {
        match self {
            Storage::Local(l) => l.dir.display().to_string(),
            Storage::S3(s) => format!("s3://{}/{}", s.bucket, s.prefix),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Storage::Local(_) => "local",
            Storage::S3(_) => "s3",
        }
    }

    pub async fn put_file(
        &self,
        name: &str,
        path: &Path,
        cancel: &CancellationToken,
    ) -> Result<(), StorageError> {
        match self {
            Storage::Local(l) => l.put_file(name, path),
            Storage::S3(s) => s.put_file(name, path, cancel).await,
        }?;
        wrote();
        Ok(())
    }

    pub async fn put_bytes(&self, name: &str, data: &[u8]) -> Result<(), StorageError> {
        match self {
            Storage::Local(l) => l.put_bytes(name, data),
            Storage::S3(s) => s.put_bytes(name, data).await,
        }?;
        wrote();
        Ok(())
    }

    /// Writes a small object and makes sure it is stored before returning: locally an
    /// fsync'd atomic write, in S3 an upload whose size and ETag are checked.
    pub async fn put_bytes_durable(&self, name: &str, data: &[u8]) -> Result<(), StorageError> {
        match self {
            Storage::Local(l) => l.put_bytes(name, data),
            Storage::S3(s) => s.put_bytes_verified(name, data).await,
        }?;
        wrote();
        Ok(())
    }

    /// A small object (sidecar manifests), or `None` when it does not exist.
    pub async fn get_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        match self {
            Storage::Local(l) => l.get_bytes(name),
            Storage::S3(s) => s.get_bytes(name).await,
        }
    }

    /// A blocking reader over the object, streamed (for verify and restore). Call it from
    /// blocking code (`spawn_blocking`) when the storage is S3.
    pub async fn reader(&self, name: &str) -> Result<Box<dyn Read + Send>, StorageError> {
        match self {
            Storage::Local(l) => l.reader(name),
            Storage::S3(s) => s.reader(name).await,
        }
    }

    pub async fn list(&self) -> Result<Vec<ObjectInfo>, StorageError> {
        match self {
            Storage::Local(l) => l.list(),
            Storage::S3(s) => s.list().await,
        }
    }

    /// Deletes objects; a missing one is not an error.
    pub async fn delete(&self, names: &[String]) -> Result<(), StorageError> {
        match self {
            Storage::Local(l) => l.delete(names),
            Storage::S3(s) => s.delete(names).await,
        }?;
        wrote();
        Ok(())
    }
}

/// Counts a completed storage write; with `DARAA_OPS_STOP_AFTER_WRITES=N` the process stops
/// itself (SIGSTOP) after the Nth, so that the crash tests kill it exactly between two writes
/// (docs/testing.md). Without the variable it costs one atomic increment.
fn wrote() {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static STOP_AT: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    let stop = STOP_AT.get_or_init(|| {
        std::env::var(crate::config::env_vars::STOP_AFTER_WRITES).ok().and_then(|v| v.parse().ok())
    });
    if *stop == Some(n) {
        let _ = std::process::Command::new("kill")
            .args(["-STOP", &std::process::id().to_string()])
            .status();
    }
}
