//! Which backup a command means: a backup id or `latest` (from the catalogs of the configured
//! storages), a path (a file or a mongodump `--out` folder), or `-` (standard input); and
//! where its bytes are read from.

use super::catalog::{Entry, scan};
use crate::archive::Sidecar;
use crate::archive::names::{self, ARCHIVE_SUFFIX, ARCHIVE_SUFFIXES, SIDECAR_SUFFIX};
use crate::error::CliError;
use crate::storage::{Storage, StorageError};

/// An archive chosen by `ID`, `latest` or a path, with its sidecar when one exists.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub id: String,
    /// Where it is read from: a storage and the archive's name in it.
    pub storage: Storage,
    pub archive_name: String,
    pub sidecar: Option<Sidecar>,
    /// A mongodump `--out` folder given by path: read as a tar stream made on the fly.
    pub directory: Option<std::path::PathBuf>,
    /// `-`: standard input, readable once (no survey, no sidecar).
    pub stdin: bool,
    /// `backup.encryption.identity_files`: read only when the backup turns out encrypted.
    pub identity_files: Vec<crate::config::SecretFile>,
    /// Found in the catalog by id or `latest`: checks are recorded beside it.
    pub in_catalog: bool,
}

impl Resolved {
    /// Records a verify or drill result beside a catalog backup (`<id>.checks.json` in the
    /// storage it was read from); a backup given by path or stdin is not recorded.
    pub async fn record_check(&self, kind: super::CheckKind, check: super::Check) {
        if self.in_catalog {
            super::checks::record(&self.storage, &self.id, kind, check).await;
        }
    }
    /// A local file of that name in the current folder, for unit tests of code that only
    /// names its source.
    #[cfg(test)]
    pub fn for_tests(file: &str) -> Resolved {
        Resolved {
            id: file.to_owned(),
            storage: Storage::Local(crate::storage::local::LocalStore::new(".".into())),
            archive_name: file.to_owned(),
            sidecar: None,
            directory: None,
            stdin: false,
            identity_files: Vec::new(),
            in_catalog: false,
        }
    }

    /// The backup's bytes as stored: the file (encrypted or not), or a tar of the folder.
    pub async fn raw_reader(&self) -> Result<Box<dyn std::io::Read + Send>, StorageError> {
        if self.stdin {
            return Ok(Box::new(crate::signal::stdin_reader()));
        }
        match &self.directory {
            Some(dir) => {
                Ok(Box::new(crate::archive::mongodump::folder::directory_stream(dir.clone())))
            }
            None => self.storage.reader(&self.archive_name).await,
        }
    }

    /// A failure reading this backup as an outcome: a damaged archive is exit 6 naming the
    /// source, with `hint` (what the caller left untouched, what to do); a read failure is the
    /// source's; anything after a signal is an interruption.
    pub fn archive_error(
        &self,
        e: crate::archive::ArchiveError,
        cancel: &tokio_util::sync::CancellationToken,
        hint: &str,
    ) -> anyhow::Error {
        if cancel.is_cancelled() {
            return crate::signal::Interrupted.into();
        }
        match e {
            crate::archive::ArchiveError::Corrupt(msg) => {
                CliError::new(crate::error::Outcome::Drift, format!("{}: {msg}", self.describe()))
                    .with_hint(hint)
                    .into()
            }
            crate::archive::ArchiveError::Io(e) => {
                anyhow::Error::new(e).context(format!("reading {}", self.describe()))
            }
        }
    }

    /// Where it is read from, for messages: a path or URL.
    pub fn describe(&self) -> String {
        if self.stdin {
            return "standard input".into();
        }
        match &self.directory {
            Some(dir) => dir.display().to_string(),
            None => {
                format!("{}/{}", self.storage.describe().trim_end_matches('/'), self.archive_name)
            }
        }
    }
}

/// File name endings of backups given by path, longest first: the id is the name without it.
const PATH_SUFFIXES: [&str; 11] = [
    names::ARCHIVE_SUFFIX_AGE,
    names::STREAM_SUFFIX_AGE,
    names::ZSTD_SUFFIX_AGE,
    ARCHIVE_SUFFIX,
    names::ZSTD_SUFFIX,
    ".archive.gz",
    ".tgz",
    ".tar",
    ".archive",
    ".gz",
    ".bson",
];

/// Finds a backup: a path (a daraa-ops `.tar.gz`, whose sidecar beside it is used when
/// present; a mongodump `--archive` file; a mongodump `--out` folder or a tar of one), a
/// backup id (local first, then S3), or `latest` (the newest complete backup in either).
pub async fn resolve(cfg: &crate::config::Config, target: &str) -> anyhow::Result<Resolved> {
    let mut resolved = resolve_source(cfg, target).await?;
    resolved.identity_files.clone_from(&cfg.backup.encryption.identity_files);
    Ok(resolved)
}

async fn resolve_source(cfg: &crate::config::Config, target: &str) -> anyhow::Result<Resolved> {
    if target == "-" {
        use std::io::IsTerminal as _;
        if std::io::stdin().is_terminal() {
            return Err(CliError::usage(
                "`-` reads a backup from standard input, which is a terminal here",
            )
            .with_hint(
                "pipe one in: `daraa-ops backup --stdout | daraa-ops restore - --target-db NAME`, or `restore - < FILE`",
            )
            .into());
        }
        return Ok(Resolved {
            id: "stdin".into(),
            storage: Storage::Local(crate::storage::local::LocalStore::new(".".into())),
            archive_name: "-".into(),
            sidecar: None,
            directory: None,
            stdin: true,
            identity_files: Vec::new(),
            in_catalog: false,
        });
    }
    let path = std::path::Path::new(target);
    let by_path = target.contains('/')
        || PATH_SUFFIXES.iter().any(|s| target.ends_with(s))
        || (target != "latest" && path.exists());
    if by_path {
        return resolve_path(target).await;
    }
    resolve_id(cfg, target).await
}

/// A backup given by path: a file (with the sidecar beside a daraa-ops `.tar.gz`) or a folder.
async fn resolve_path(target: &str) -> anyhow::Result<Resolved> {
    use crate::storage::local::LocalStore;
    let path = std::path::Path::new(target);
    {
        if path.is_dir() {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(target).to_owned();
            return Ok(Resolved {
                id: name.clone(),
                storage: Storage::Local(LocalStore::new(path.to_path_buf())),
                archive_name: name,
                sidecar: None,
                directory: Some(path.to_path_buf()),
                stdin: false,
                identity_files: Vec::new(),
                in_catalog: false,
            });
        }
        if !path.is_file() {
            return Err(CliError::usage(format!("{target} is not a file or folder"))
                .with_hint(
                    "give a backup id, `latest`, the path of a backup file, or a mongodump --out folder",
                )
                .into());
        }
        let dir = path
            .parent()
            .map(std::path::Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| ".".into());
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or(target).to_owned();
        let id =
            PATH_SUFFIXES.iter().find_map(|s| file.strip_suffix(s)).unwrap_or(&file).to_owned();
        let storage = Storage::Local(LocalStore::new(dir));
        let sidecar = if ARCHIVE_SUFFIXES.iter().any(|s| file.ends_with(s)) {
            storage
                .get_bytes(&format!("{id}{SIDECAR_SUFFIX}"))
                .await?
                .and_then(|b| serde_json::from_slice(&b).ok())
        } else {
            None
        };
        Ok(Resolved {
            id,
            storage,
            archive_name: file,
            sidecar,
            directory: None,
            stdin: false,
            identity_files: Vec::new(),
            in_catalog: false,
        })
    }
}

/// A backup id or `latest`, from the catalogs of the configured storages.
async fn resolve_id(cfg: &crate::config::Config, target: &str) -> anyhow::Result<Resolved> {
    let storages = crate::storage::all(cfg).await;
    let mut best: Option<(Entry, Storage)> = None;
    for storage in storages {
        // A backup id found complete locally needs no look at S3 (which may be down).
        if target != "latest" && best.as_ref().is_some_and(|(e, _)| e.complete) {
            break;
        }
        let entries = match scan(&storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await {
            Ok(entries) => entries,
            Err(e) if matches!(storage, Storage::S3(_)) && best.is_some() => {
                tracing::warn!("{e}; using the local backup");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        for e in entries {
            // `latest` never picks an empty or shrunk backup.
            let wanted = if target == "latest" { e.is_good() } else { e.id == target };
            if !wanted {
                continue;
            }
            let better = match &best {
                None => true,
                // Newer wins; for the same backup the first storage (local) wins.
                Some((b, _)) => e.time > b.time || (!b.complete && e.complete),
            };
            if better {
                best = Some((e, storage.clone()));
            }
        }
    }
    match best {
        Some((e, storage)) => {
            if !e.complete {
                return Err(CliError::new(
                    crate::error::Outcome::Drift,
                    format!(
                        "backup {} in {} is incomplete (no sidecar manifest or no archive)",
                        e.id,
                        storage.describe()
                    ),
                )
                .into());
            }
            Ok(Resolved {
                archive_name: e.archive_name(),
                id: e.id,
                storage,
                sidecar: e.sidecar,
                directory: None,
                stdin: false,
                identity_files: Vec::new(),
                in_catalog: true,
            })
        }
        None if target == "latest" => Err(anyhow::Error::new(CliError::usage(format!(
            "no complete, non-empty backup of {} in {}{}",
            cfg.mongodb.database,
            cfg.backup.dir.display(),
            cfg.s3
                .as_ref()
                .map(|s| format!(" or s3://{}/{}", s.bucket, s.prefix))
                .unwrap_or_default()
        )))),
        None => Err(CliError::usage(format!("no backup with id {target}"))
            .with_hint("see `daraa-ops list`")
            .into()),
    }
}
