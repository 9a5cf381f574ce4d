//! Pieces shared by the jobs (backup, prune, restore, cleanup): taking the lock, resolving the
//! storages, recording the last run.

pub mod lastrun;

use std::os::unix::fs::DirBuilderExt as _;
use std::path::PathBuf;

use crate::config::Config;
use crate::error::{CliError, ErrorKind};
use crate::lock;
use crate::storage::{Storage, local::LocalStore, s3::S3Store};

/// Redis when configured and reachable; when Redis is optional and down, the file lock (with a
/// warning); when Redis is required and down, exit 3.
pub async fn lock_backend(cfg: &Config) -> Result<lock::Backend, CliError> {
    lock_backend_for(cfg, &cfg.mongodb.database).await
}

/// The lock of another database name (a restore's target, a drill's scratch series).
pub async fn lock_backend_for(cfg: &Config, db: &str) -> Result<lock::Backend, CliError> {
    if let Some(r) = &cfg.redis {
        match crate::cache::connect(r).await {
            Ok(conn) => return Ok(lock::Backend::redis(conn, &r.key_prefix, db)),
            Err(e) if r.required => return Err(e),
            Err(e) => tracing::warn!("{e}; using the file lock instead (redis.required is false)"),
        }
    }
    Ok(lock::Backend::file(&lock_dir(cfg), db))
}

pub fn lock_dir(cfg: &Config) -> PathBuf {
    cfg.lock.dir.clone().unwrap_or_else(|| cfg.backup.dir.clone())
}

/// The backup directory, created with mode 0700 when missing.
pub fn local_store(cfg: &Config) -> Result<LocalStore, CliError> {
    let dir = &cfg.backup.dir;
    if !dir.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| {
            CliError::new(
                ErrorKind::Runtime,
                format!("cannot create backup.dir {}: {e}", dir.display()),
            )
        })?;
    }
    Ok(LocalStore::new(dir.clone()))
}

pub async fn remote_store(cfg: &Config) -> Option<Storage> {
    match &cfg.s3 {
        Some(s3) => Some(Storage::S3(Box::new(S3Store::new(s3).await))),
        None => None,
    }
}
