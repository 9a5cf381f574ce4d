//! Where archives live: the local backup directory and an S3 bucket, behind one small
//! interface (`put_file`, `put_bytes`, `get_bytes`, `reader`, `list`, `delete`) so that `list`,
//! `prune`, `verify` and `restore` treat both alike. One conformance test runs against both.

pub mod local;
pub mod s3;

use std::io::Read;
use std::path::Path;

use tokio_util::sync::CancellationToken;

use crate::error::CliError;

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
    ) -> Result<(), CliError> {
        match self {
            Storage::Local(l) => l.put_file(name, path),
            Storage::S3(s) => s.put_file(name, path, cancel).await,
        }
    }

    pub async fn put_bytes(&self, name: &str, data: &[u8]) -> Result<(), CliError> {
        match self {
            Storage::Local(l) => l.put_bytes(name, data),
            Storage::S3(s) => s.put_bytes(name, data).await,
        }
    }

    /// A small object (sidecar manifests), or `None` when it does not exist.
    pub async fn get_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, CliError> {
        match self {
            Storage::Local(l) => l.get_bytes(name),
            Storage::S3(s) => s.get_bytes(name).await,
        }
    }

    /// A blocking reader over the object, streamed (for verify and restore). Call it from
    /// blocking code (`spawn_blocking`) when the storage is S3.
    pub async fn reader(&self, name: &str) -> Result<Box<dyn Read + Send>, CliError> {
        match self {
            Storage::Local(l) => l.reader(name),
            Storage::S3(s) => s.reader(name).await,
        }
    }

    pub async fn list(&self) -> Result<Vec<ObjectInfo>, CliError> {
        match self {
            Storage::Local(l) => l.list(),
            Storage::S3(s) => s.list().await,
        }
    }

    /// Deletes objects; a missing one is not an error.
    pub async fn delete(&self, names: &[String]) -> Result<(), CliError> {
        match self {
            Storage::Local(l) => l.delete(names),
            Storage::S3(s) => s.delete(names).await,
        }
    }
}
