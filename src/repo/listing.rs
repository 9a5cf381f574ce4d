//! Every backup of the configured database, over the local folder and S3, from names, sidecars
//! and check records only (`list`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Check;
use crate::config::Config;
use crate::error::CliError;
use crate::storage::Storage;

/// The backups, newest first, the storages read, and why S3 could not be listed (the local
/// backups are still there).
pub struct Listing {
    pub rows: Vec<Row>,
    pub storages: Vec<Storage>,
    pub remote_error: Option<String>,
}

/// Lists the local folder (unless `remote_only`) and S3 (unless `local_only`).
pub async fn list(cfg: &Config, local_only: bool, remote_only: bool) -> anyhow::Result<Listing> {
    let mut storages: Vec<Storage> = Vec::new();
    if !remote_only {
        storages
            .push(Storage::Local(crate::storage::local::LocalStore::new(cfg.backup.dir.clone())));
    }
    if !local_only {
        match crate::storage::remote(cfg).await {
            Some(s) => storages.push(s),
            None if remote_only => {
                return Err(CliError::usage("--remote needs the s3 section in the config").into());
            }
            None => {}
        }
    }
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut remote_error = None;
    for storage in &storages {
        let kind = storage.kind();
        let entries =
            match super::scan(storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await {
                Ok(entries) => entries,
                // S3 down: still show the local backups, and say so.
                Err(e) if kind == "s3" && !remote_only => {
                    tracing::warn!("{e}; showing local backups only");
                    remote_error = Some(e.to_string());
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
        for e in entries {
            let status = if e.complete {
                "complete"
            } else if e.partial {
                "in progress or interrupted"
            } else {
                "incomplete"
            };
            let row = rows.entry(e.id.clone()).or_insert_with(|| Row {
                id: e.id.clone(),
                time: e.time.to_string(),
                size: e.archive_size,
                collections: None,
                documents: None,
                label: None,
                locations: Vec::new(),
                complete: false,
                status: String::new(),
                imported: false,
                shrunk: false,
                empty: false,
                verified: None,
                drilled: None,
            });
            if let Some(s) = &e.sidecar {
                row.collections = Some(s.manifest.totals.collections + s.manifest.totals.views);
                row.documents = Some(s.manifest.totals.documents);
                row.label.clone_from(&s.manifest.label);
                row.size = Some(s.archive.size);
                row.imported = e.imported();
                row.shrunk = e.shrunk();
                row.empty = e.complete && !e.shrunk() && !e.is_good();
            }
            row.locations.push(kind);
            if let Some(c) = &e.checks {
                // Newest result wins when both storages hold one.
                let newer = |a: &Option<Check>, b: &Option<Check>| match (a, b) {
                    (Some(x), Some(y)) if y.at > x.at => b.clone(),
                    (None, _) => b.clone(),
                    _ => a.clone(),
                };
                row.verified = newer(&row.verified, &c.verified);
                row.drilled = newer(&row.drilled, &c.drilled);
            }
            // Complete somewhere is complete; the status names each place otherwise.
            row.complete |= e.complete;
            let part = format!("{kind}: {status}");
            row.status =
                if row.status.is_empty() { part } else { format!("{}, {part}", row.status) };
        }
    }
    let rows: Vec<Row> = rows.into_values().rev().collect();
    Ok(Listing { rows, storages, remote_error })
}

/// The storages holding a complete copy of backup `id`, and its check records (from the first
/// storage that has them). A storage that cannot be read is skipped.
pub async fn copies(cfg: &Config, id: &str) -> (Vec<&'static str>, Option<super::Checks>) {
    let mut locations = Vec::new();
    let mut checks = None;
    for storage in crate::storage::all(cfg).await {
        let Ok(entries) =
            super::scan(&storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await
        else {
            continue;
        };
        if let Some(e) = entries.into_iter().find(|e| e.id == id && e.complete) {
            locations.push(storage.kind());
            checks = checks.or(e.checks);
        }
    }
    (locations, checks)
}

/// One backup over every storage that holds it (newest check result wins).
#[derive(Debug, Serialize)]
pub struct Row {
    pub id: String,
    pub time: String,
    pub size: Option<u64>,
    pub collections: Option<u64>,
    pub documents: Option<u64>,
    pub label: Option<String>,
    pub locations: Vec<&'static str>,
    pub complete: bool,
    pub status: String,
    /// Adopted by `import` (not written by `backup`).
    pub imported: bool,
    /// Marked by the shrink guard (`backup.max_shrink`): not counted by retention or `latest`.
    pub shrunk: bool,
    /// Complete but holding no documents: not counted by retention or `latest`.
    pub empty: bool,
    /// The last verify and drill of this backup (`<id>.checks.json`), when any ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drilled: Option<Check>,
}
