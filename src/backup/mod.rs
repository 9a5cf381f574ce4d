//! The backup engine: dump → archive builder → storages → retention (docs/architecture.md).
//!
//! Order of safety: collections are dumped in parallel into a staging folder and appended to
//! `<id>.tar.gz.partial` as they finish ([`pipeline`]), `manifest.json` goes last, the file is
//! fsynced; only then does the local storage take it under its final name, and the sidecar is
//! written after it, so "complete" means "sidecar exists". In S3 the archive is uploaded first
//! and the sidecar last, for the same reason. Retention runs inside the lock, after a complete
//! backup.

mod pipeline;
#[cfg(test)]
mod tests;

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::archive::names::{self, ARCHIVE_SUFFIX, PARTIAL_SUFFIX, SIDECAR_SUFFIX};
use crate::archive::{ArchiveInfo, Sidecar, Totals};
use crate::config::Config;
use crate::mongo::{self, dump};
use crate::outcome::Outcome;
use crate::output::progress::Progress;
use crate::retention::prune;
use crate::storage::{self, Storage, StorageFault};

/// What the operator asked for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub label: Option<String>,
    /// Upload to S3 when configured.
    pub upload: bool,
    /// Apply retention after a complete backup.
    pub prune: bool,
}

/// One collection a dry run would back up.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub estimated_documents: u64,
}

/// Where a copy of the archive is.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Location {
    Local { path: String },
    S3 { url: String },
}

/// What a backup did: the `backup` command's JSON summary.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub id: String,
    pub label: Option<String>,
    pub archive: ArchiveInfo,
    pub totals: Totals,
    pub locations: Vec<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruned: Option<Vec<prune::Deleted>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune_error: Option<String>,
    /// Retention per storage, for the lines people read.
    #[serde(skip)]
    pub retention: Vec<prune::StorageResult>,
    /// `ok`, or `partial` when the upload or retention failed after a complete local archive.
    #[serde(skip)]
    pub outcome: Outcome,
}

/// What the engine needs from its caller.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    pub cfg: &'a Config,
    pub cancel: &'a CancellationToken,
    pub progress: &'a Progress,
}

/// The collections a backup would take, with estimated counts; writes nothing.
pub async fn plan(cfg: &Config) -> anyhow::Result<(String, Vec<Planned>)> {
    let mongo =
        mongo::connect(&cfg.mongodb, mongo::Role::Operator, mongo::Access::ReadOnly).await?;
    let db = mongo.client.database(&cfg.mongodb.database);
    let mut planned = Vec::new();
    for s in selected_collections(&db, cfg).await? {
        let estimated_documents = if s.is_view() {
            0
        } else {
            db.collection::<bson::Document>(&s.name).estimated_document_count().await.unwrap_or(0)
        };
        planned.push(Planned { name: s.name, kind: s.kind, estimated_documents });
    }
    Ok((mongo.display_uri, planned))
}

/// Takes the lock, writes the archive and its sidecar locally, uploads both, applies
/// retention. A failed upload or retention after a complete local archive is `Partial`.
pub async fn run(env: Env<'_>, req: &Request) -> anyhow::Result<Report> {
    let cfg = env.cfg;
    let mongo =
        mongo::connect(&cfg.mongodb, mongo::Role::Operator, mongo::Access::ReadOnly).await?;
    let db = mongo.client.database(&cfg.mongodb.database);
    let server_version = mongo::build_info(&mongo.client)
        .await
        .ok()
        .and_then(|d| d.get_str("version").ok().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into());
    let specs = selected_collections(&db, cfg).await?;
    let local = storage::local(cfg)?;
    let guard = crate::lock::take(cfg, &cfg.mongodb.database, "backup", env.cancel).await?;
    let result = async {
        let mut report = write_and_store(env, req, &db, &specs, &server_version, &local).await?;
        if req.prune && report.outcome == Outcome::Ok {
            match prune::apply(cfg, false).await {
                Ok(results) => {
                    report.pruned = Some(results.iter().flat_map(|r| r.deleted.clone()).collect());
                    report.retention = results;
                }
                Err(e) => {
                    tracing::error!("retention failed after a complete backup: {e}");
                    report.prune_error = Some(e.to_string());
                    report.outcome = Outcome::Partial;
                }
            }
        }
        anyhow::Ok(report)
    }
    .await;
    guard.release().await;
    result
}

/// `system.*` is dropped by the listing; then the include/exclude lists apply.
async fn selected_collections(
    db: &mongodb::Database,
    cfg: &Config,
) -> anyhow::Result<Vec<dump::CollectionSpec>> {
    let all = dump::list_collections(db)
        .await
        .with_context(|| format!("listing the collections of {}", db.name()))?;
    Ok(select(all, cfg))
}

fn select(all: Vec<dump::CollectionSpec>, cfg: &Config) -> Vec<dump::CollectionSpec> {
    let b = &cfg.backup;
    all.into_iter()
        .filter(|s| b.include_collections.is_empty() || b.include_collections.contains(&s.name))
        .filter(|s| !b.exclude_collections.contains(&s.name))
        .collect()
}

async fn write_and_store(
    env: Env<'_>,
    req: &Request,
    db: &mongodb::Database,
    specs: &[dump::CollectionSpec],
    server_version: &str,
    local: &storage::local::LocalStore,
) -> anyhow::Result<Report> {
    let cfg = env.cfg;
    let dir = &local.dir;
    remove_leftovers(dir, &cfg.backup.name_prefix, &cfg.mongodb.database);
    let now = jiff::Timestamp::now();
    let id = names::backup_id(&cfg.backup.name_prefix, &cfg.mongodb.database, now);
    let archive_name = format!("{id}{ARCHIVE_SUFFIX}");
    let partial = dir.join(format!("{archive_name}{PARTIAL_SUFFIX}"));
    let target = pipeline::Target {
        id: &id,
        label: req.label.clone(),
        partial: &partial,
        staging: &dir.join(format!(".{id}.staging")),
        now,
    };
    let written = pipeline::write(env, db, specs, server_version, &target).await;
    let (manifest, size, sha256) = match written {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let local_storage = Storage::Local(local.clone());
    // The local storage takes the finished file under its final name (a rename), then the
    // sidecar, which makes the backup complete.
    local_storage.put_file(&archive_name, &partial, env.cancel).await?;
    let sidecar =
        Sidecar { manifest, archive: ArchiveInfo { file: archive_name.clone(), size, sha256 } };
    let sidecar_name = format!("{id}{SIDECAR_SUFFIX}");
    let sidecar_bytes = serde_json::to_vec_pretty(&sidecar)?;
    local_storage.put_bytes(&sidecar_name, &sidecar_bytes).await?;
    let final_path = local.path(&archive_name);
    let mut report = Report {
        id,
        label: sidecar.manifest.label.clone(),
        archive: sidecar.archive.clone(),
        totals: sidecar.manifest.totals.clone(),
        locations: vec![Location::Local { path: final_path.display().to_string() }],
        upload_error: None,
        pruned: None,
        prune_error: None,
        retention: Vec::new(),
        outcome: Outcome::Ok,
    };
    let remote = if req.upload { storage::remote(cfg).await } else { None };
    if let Some(remote) = remote {
        upload(env, &remote, &mut report, &sidecar_name, &sidecar_bytes, local).await?;
    }
    Ok(report)
}

/// Archive first, sidecar last, so an interrupted upload never looks complete. A failed upload
/// leaves a complete local archive: the report says so and the outcome is `Partial`.
async fn upload(
    env: Env<'_>,
    remote: &Storage,
    report: &mut Report,
    sidecar_name: &str,
    sidecar_bytes: &[u8],
    local: &storage::local::LocalStore,
) -> anyhow::Result<()> {
    let archive_name = &report.archive.file;
    let final_path = local.path(archive_name);
    let uploaded = async {
        remote.put_file(archive_name, &final_path, env.cancel).await?;
        remote.put_bytes(sidecar_name, sidecar_bytes).await
    }
    .await;
    match uploaded {
        Ok(()) => {
            report
                .locations
                .push(Location::S3 { url: format!("{}{archive_name}", remote.describe()) });
            if !env.cfg.backup.keep_local {
                Storage::Local(local.clone())
                    .delete(&[archive_name.clone(), sidecar_name.to_owned()])
                    .await
                    .with_context(|| {
                        format!("cannot remove the local copy {}", final_path.display())
                    })?;
                report.locations.remove(0);
            }
            Ok(())
        }
        Err(e) if e.fault == StorageFault::Interrupted || env.cancel.is_cancelled() => {
            Err(anyhow::Error::new(crate::signal::Interrupted).context(e.message))
        }
        Err(e) => {
            tracing::error!("{e}");
            report.upload_error = Some(e.to_string());
            report.outcome = Outcome::Partial;
            Ok(())
        }
    }
}

/// Staging folders and `.partial` files of runs that crashed (we hold the lock, so none is
/// being written). Only leftovers of this prefix and database: another database's backup
/// sharing the folder holds another lock and may be writing right now.
fn remove_leftovers(dir: &Path, prefix: &str, db: &str) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let ours = |id: &str| names::parse_backup_id(id, prefix, db).is_some();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let staging = name.strip_prefix('.').and_then(|n| n.strip_suffix(".staging"));
        let partial = name.strip_suffix(&format!("{ARCHIVE_SUFFIX}{PARTIAL_SUFFIX}"));
        if staging.is_some_and(ours) {
            tracing::info!("removing {} left by an interrupted run", path.display());
            let _ = std::fs::remove_dir_all(&path);
        } else if partial.is_some_and(ours) {
            tracing::info!("removing {} left by an interrupted run", path.display());
            let _ = std::fs::remove_file(&path);
        }
    }
}
