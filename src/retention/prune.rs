//! The retention engine: the plan of `retention::plan` applied to every configured storage,
//! from the sidecar manifests. Called by `prune` and, inside its lock, by `backup`; `delete`
//! removes one named backup through [`find`] and [`delete`].
//!
//! Only complete backups count and only names daraa-ops creates are touched. A backup's
//! sidecar is deleted before its archive, so a half-done deletion never leaves something that
//! looks complete.

use serde::Serialize;

use crate::catalog;
use crate::config::Config;
use crate::outcome::CliError;
use crate::storage::{self, StorageError};

/// Why a backup goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// No keep rule keeps it.
    Expired,
    /// An archive without sidecar (a crashed upload) older than a day.
    Incomplete,
    /// Named by `delete`.
    Requested,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deleted {
    pub storage: &'static str,
    pub id: String,
    pub reason: Reason,
}

/// What retention did (or, dry run, would do) in one storage.
#[derive(Debug, Clone, Serialize)]
pub struct StorageResult {
    /// `local` or `s3`.
    pub storage: &'static str,
    /// The directory or `s3://bucket/prefix`.
    pub location: String,
    pub kept: usize,
    pub deleted: Vec<Deleted>,
}

/// Applies retention everywhere, storage by storage; stops at the first storage error.
pub async fn apply(cfg: &Config, dry_run: bool) -> Result<Vec<StorageResult>, StorageError> {
    let now = jiff::Timestamp::now();
    let mut results = Vec::new();
    let mut scanned = Vec::new();
    for storage in storage::all(cfg).await {
        let entries =
            catalog::scan(&storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await?;
        scanned.push((storage, entries));
    }
    // The newest backup whose last drill passed, in whichever storage the drill read it from:
    // its copies everywhere are kept (`retention.keep_drilled`).
    let drilled = scanned
        .iter()
        .flat_map(|(_, entries)| entries.iter())
        .filter(|e| e.is_good() && e.drilled_ok())
        .max_by_key(|e| e.time)
        .map(|e| e.id.clone());
    for (storage, entries) in &scanned {
        let good: Vec<(String, jiff::Timestamp)> =
            entries.iter().filter(|e| e.is_good()).map(|e| (e.id.clone(), e.time)).collect();
        let plan = super::plan(&good, &cfg.retention, now, drilled.as_deref());
        let mut doomed: Vec<(&catalog::Entry, Reason)> = plan
            .iter()
            .filter(|d| !d.keep)
            .filter_map(|d| entries.iter().find(|e| e.id == d.id).map(|e| (e, Reason::Expired)))
            .collect();
        // Empty or shrunk backups never count towards keep_last: they stay until keep_days
        // has passed (forever when keep_days is 0), so they cannot push good ones out.
        let days = jiff::SignedDuration::from_hours(24 * i64::from(cfg.retention.keep_days));
        doomed.extend(
            entries
                .iter()
                .filter(|e| e.complete && !e.is_good())
                .filter(|e| cfg.retention.keep_days > 0 && e.time < now - days)
                .map(|e| (e, Reason::Expired)),
        );
        let day_ago = now - jiff::SignedDuration::from_hours(24);
        doomed.extend(
            entries
                .iter()
                .filter(|e| {
                    !e.complete && !e.partial && e.archive_size.is_some() && e.time < day_ago
                })
                .map(|e| (e, Reason::Incomplete)),
        );
        let mut deleted = Vec::new();
        for (e, reason) in doomed {
            if !dry_run {
                storage.delete(&[e.sidecar_name()]).await?;
                storage.delete(&[e.archive_name()]).await?;
                if e.checks.is_some() {
                    storage.delete(&[e.checks_name()]).await?;
                }
            }
            deleted.push(Deleted { storage: storage.kind(), id: e.id.clone(), reason });
        }
        results.push(StorageResult {
            storage: storage.kind(),
            location: storage.describe(),
            kept: plan.iter().filter(|d| d.keep).count(),
            deleted,
        });
    }
    Ok(results)
}

/// Lines for people: one per deleted backup, one per storage with what was kept.
pub fn describe(results: &[StorageResult], dry_run: bool) -> Vec<String> {
    let verb = if dry_run { "would delete" } else { "deleted" };
    let mut lines = Vec::new();
    for r in results {
        for d in &r.deleted {
            let reason = match d.reason {
                Reason::Expired => "expired",
                Reason::Incomplete => "incomplete",
                Reason::Requested => "requested",
            };
            lines.push(format!("{verb} {} from {} ({reason})", d.id, r.location));
        }
        lines.push(format!("{}: {} backup(s) kept", r.location, r.kept));
    }
    lines
}

/// Where a backup `delete` would remove is.
#[derive(Debug, Clone)]
pub struct Found {
    pub storage: storage::Storage,
    pub entry: catalog::Entry,
}

/// Every copy of backup `id` (complete or not), and whether it is the newest good backup in
/// any storage (deleting it needs `--force`).
pub async fn find(cfg: &Config, id: &str) -> anyhow::Result<(Vec<Found>, bool)> {
    let mut found = Vec::new();
    let mut newest: Option<(jiff::Timestamp, String)> = None;
    for storage in storage::all(cfg).await {
        let entries =
            catalog::scan(&storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await?;
        for e in entries {
            if e.is_good() && newest.as_ref().is_none_or(|(t, _)| e.time > *t) {
                newest = Some((e.time, e.id.clone()));
            }
            if e.id == id {
                found.push(Found { storage: storage.clone(), entry: e });
            }
        }
    }
    if found.is_empty() {
        return Err(CliError::usage(format!("no backup with id {id}"))
            .with_hint("see `daraa-ops list`")
            .into());
    }
    let is_newest = newest.is_some_and(|(_, n)| n == id);
    Ok((found, is_newest))
}

/// Deletes every copy found, under the job lock (no backup or prune meanwhile): the sidecar
/// first (so nothing half-deleted looks complete), then the archive, its `.partial` and its
/// checks.
pub async fn delete(
    cfg: &Config,
    found: &[Found],
    cancel: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<Vec<Deleted>> {
    let guard = crate::lock::take(cfg, &cfg.mongodb.database, "prune", cancel).await?;
    let result = delete_copies(found).await;
    guard.release().await;
    Ok(result?)
}

async fn delete_copies(found: &[Found]) -> Result<Vec<Deleted>, StorageError> {
    let mut deleted = Vec::new();
    for f in found {
        let e = &f.entry;
        f.storage.delete(&[e.sidecar_name()]).await?;
        f.storage.delete(&[e.archive_name()]).await?;
        if e.partial {
            f.storage
                .delete(&[format!("{}{}", e.archive_name(), crate::archive::names::PARTIAL_SUFFIX)])
                .await?;
        }
        f.storage.delete(&[e.checks_name()]).await?;
        deleted.push(Deleted {
            storage: f.storage.kind(),
            id: e.id.clone(),
            reason: Reason::Requested,
        });
    }
    Ok(deleted)
}
