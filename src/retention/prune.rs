//! The retention engine: the plan of `retention::plan` applied to every configured storage,
//! from the sidecar manifests. Called by `prune` and, inside its lock, by `backup`.
//!
//! Only complete backups count and only names daraa-ops creates are touched. A backup's
//! sidecar is deleted before its archive, so a half-done deletion never leaves something that
//! looks complete.

use serde::Serialize;

use crate::catalog;
use crate::config::Config;
use crate::storage::{self, StorageError};

/// Why a backup goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// No keep rule keeps it.
    Expired,
    /// An archive without sidecar (a crashed upload) older than a day.
    Incomplete,
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
    for storage in &storage::all(cfg).await {
        let entries =
            catalog::scan(storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await?;
        let good: Vec<(String, jiff::Timestamp)> =
            entries.iter().filter(|e| e.is_good()).map(|e| (e.id.clone(), e.time)).collect();
        let plan = super::plan(&good, &cfg.retention, now);
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
            };
            lines.push(format!("{verb} {} from {} ({reason})", d.id, r.location));
        }
        lines.push(format!("{}: {} backup(s) kept", r.location, r.kept));
    }
    lines
}
