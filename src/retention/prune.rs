//! The retention engine: the plan of `retention::plan` applied to every configured storage,
//! from the sidecar manifests. Called by `prune` and, inside its lock, by `backup`; `delete`
//! removes one named backup through [`find`] and [`delete`].
//!
//! Only complete backups count and only names daraa-ops creates are touched. A backup's
//! archive is deleted before its sidecar: a half-done deletion leaves a sidecar alone, which
//! never looks complete (only deletions leave one: archives are always written first) and
//! which the next `prune` or `delete` removes.

use serde::Serialize;

use crate::config::Config;
use crate::error::CliError;
use crate::repo;
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

/// One backup of a storage and what retention decided for it, with every reason.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub id: String,
    pub keep: bool,
    /// Kept: `last`, `days`, `daily`, `weekly`, `monthly`, `drilled`, `newest-own`, `shrunk`
    /// (an empty or shrunk backup, kept until `keep_days` has passed), `recent` (an incomplete
    /// one younger than a day: perhaps a run in progress); deleted: `expired`, `incomplete`,
    /// `no-archive` (a sidecar alone: an interrupted deletion).
    pub reasons: Vec<&'static str>,
    /// `imported`, `shrunk`, `empty`, `incomplete`: what else people should know of it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<&'static str>,
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
    /// Every backup of the storage, newest first, kept or not, and why.
    pub backups: Vec<Verdict>,
    /// Oplog chunk manifests (docs/pitr.md) deleted, or to delete: those ending before the
    /// oldest kept point-in-time backup starts.
    pub oplog_chunks: Vec<String>,
}

/// The backups pinned whatever the rules say, over every storage: the newest drilled one and
/// the newest own one, each only while its last check has not failed.
fn pinned(scanned: &[(storage::Storage, Vec<repo::Entry>)]) -> super::Pinned {
    let all = || scanned.iter().flat_map(|(_, entries)| entries.iter());
    let newest = |it: &mut dyn Iterator<Item = &repo::Entry>| {
        it.max_by_key(|e| (e.time, e.id.clone())).map(|e| e.id.clone())
    };
    super::Pinned {
        drilled: newest(&mut all().filter(|e| e.is_good() && e.drilled_ok())),
        own: newest(&mut all().filter(|e| e.is_good() && !e.imported() && !e.last_check_failed())),
    }
}

/// `prune`: retention applied everywhere under the database's job lock (a dry run takes none).
pub async fn run(
    cfg: &Config,
    dry_run: bool,
    cancel: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<Vec<StorageResult>> {
    if dry_run {
        return Ok(apply(cfg, true).await?);
    }
    crate::lock::with(cfg, &cfg.mongodb.database, "prune", cancel, async || {
        Ok(apply(cfg, false).await?)
    })
    .await
}

/// Applies retention everywhere, storage by storage; stops at the first storage error. The
/// caller holds the job lock (`prune` through [`run`], a backup through its own).
pub async fn apply(cfg: &Config, dry_run: bool) -> Result<Vec<StorageResult>, StorageError> {
    let now = jiff::Timestamp::now();
    let mut results = Vec::new();
    let mut scanned = Vec::new();
    for storage in storage::all(cfg).await {
        let entries = repo::scan(&storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await?;
        scanned.push((storage, entries));
    }
    let pinned = pinned(&scanned);
    for (storage, entries) in &scanned {
        let verdicts = decide(entries, cfg, now, &pinned);
        let mut deleted = Vec::new();
        for v in verdicts.iter().filter(|v| !v.keep) {
            let Some(e) = entries.iter().find(|e| e.id == v.id) else { continue };
            if !dry_run {
                remove(storage, e).await?;
            }
            let reason = if v.reasons.contains(&"incomplete") {
                Reason::Incomplete
            } else {
                Reason::Expired
            };
            deleted.push(Deleted { storage: storage.kind(), id: e.id.clone(), reason });
        }
        let oplog_chunks = prune_chunks(cfg, storage, entries, &verdicts, dry_run).await?;
        results.push(StorageResult {
            storage: storage.kind(),
            location: storage.describe(),
            kept: verdicts.iter().filter(|v| v.keep && !v.marks.contains(&"incomplete")).count(),
            deleted,
            backups: verdicts,
            oplog_chunks,
        });
    }
    Ok(results)
}

/// Oplog chunks go with the backups that needed them: those ending before the oldest kept
/// point-in-time backup of this storage starts (a restore to a time reads one storage's
/// backups and chunks). Each manifest is deleted before its data, one object at a time, so a
/// cut leaves only data files no reader looks at, which the next prune removes. Returns the
/// manifests deleted (to delete, in a dry run).
async fn prune_chunks(
    cfg: &Config,
    storage: &storage::Storage,
    entries: &[repo::Entry],
    verdicts: &[Verdict],
    dry_run: bool,
) -> Result<Vec<String>, StorageError> {
    let keep_from = entries
        .iter()
        .filter(|e| e.is_good() && verdicts.iter().any(|v| v.id == e.id && v.keep))
        .filter_map(|e| {
            Some(crate::oplog::Ts::from(e.sidecar.as_ref()?.manifest.oplog.as_ref()?.from))
        })
        .min();
    if keep_from.is_none() {
        return Ok(Vec::new());
    }
    let found = crate::pitr::archived(cfg, storage).await?;
    let names: Vec<String> = storage.list().await?.into_iter().map(|o| o.name).collect();
    let prunable = crate::pitr::prunable(cfg, &found, &names, keep_from);
    if !dry_run {
        for name in prunable.objects(cfg) {
            storage.delete(&[name]).await?;
        }
    }
    Ok(prunable.chunks.iter().map(|c| crate::pitr::manifest_name(cfg, c)).collect())
}

/// Every backup of one storage with its verdict, newest first. Good backups follow the plan;
/// empty or shrunk backups never count towards `keep_last` and stay until `keep_days` has
/// passed (forever without `keep_days`), so they cannot push good ones out; an archive
/// without sidecar (a crashed upload) goes after a day; a `.partial` is a run's business.
fn decide(
    entries: &[repo::Entry],
    cfg: &Config,
    now: jiff::Timestamp,
    pinned: &super::Pinned,
) -> Vec<Verdict> {
    let good: Vec<(String, jiff::Timestamp)> =
        entries.iter().filter(|e| e.is_good()).map(|e| (e.id.clone(), e.time)).collect();
    let plan = super::plan(&good, &cfg.retention, now, pinned);
    let cutoff =
        cfg.retention.keep_days.map(|d| now - jiff::SignedDuration::from_hours(24 * i64::from(d)));
    let day_ago = now - jiff::SignedDuration::from_hours(24);
    let mut sorted: Vec<&repo::Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| b.id.cmp(&a.id)));
    let mut verdicts = Vec::new();
    for e in sorted {
        let mut marks = Vec::new();
        if e.imported() {
            marks.push("imported");
        }
        if e.shrunk() {
            marks.push("shrunk");
        } else if e.complete && !e.is_good() {
            marks.push("empty");
        }
        let (keep, reasons) = if let Some(d) = plan.iter().find(|d| d.id == e.id) {
            (d.keep, d.reasons.clone())
        } else if e.complete {
            let expired = cutoff.is_some_and(|c| e.time < c);
            (!expired, vec![if expired { "expired" } else { "shrunk" }])
        } else if e.partial {
            continue;
        } else {
            marks.push("incomplete");
            if e.archive_size.is_none() {
                // Only a deletion leaves a sidecar without its archive (an archive is always
                // written first): an interrupted one, finished now.
                (false, vec!["no-archive"])
            } else {
                let old = e.time < day_ago;
                (!old, vec![if old { "incomplete" } else { "recent" }])
            }
        };
        verdicts.push(Verdict { id: e.id.clone(), keep, reasons, marks });
    }
    verdicts
}

/// Removes one backup from a storage: its checks, its archive (and a `.partial` of it), and
/// its sidecar last. Each step leaves something no reader takes for a backup (a sidecar
/// without its archive is never complete), and a rerun of `prune` or `delete` finishes it.
async fn remove(storage: &storage::Storage, e: &repo::Entry) -> Result<(), StorageError> {
    // (Deleting what is not there is no error: a rerun repeats the steps already done.)
    storage.delete(&[e.checks_name()]).await?;
    storage.delete(&[e.archive_name()]).await?;
    if e.partial {
        let partial = format!("{}{}", e.archive_name(), crate::archive::names::PARTIAL_SUFFIX);
        storage.delete(&[partial]).await?;
    }
    storage.delete(&[e.sidecar_name()]).await?;
    Ok(())
}

/// Lines for people: every backup with keep or delete and why (`verbose`, the dry run), or
/// only the deleted ones; then one line per storage with what was kept.
pub fn describe(results: &[StorageResult], dry_run: bool) -> Vec<String> {
    let verb = if dry_run { "would delete" } else { "deleted" };
    let mut lines = Vec::new();
    for r in results {
        if dry_run {
            lines.push(format!("{}:", r.location));
            for v in &r.backups {
                let marks = if v.marks.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", v.marks.join(", "))
                };
                lines.push(format!(
                    "  {:<6} {}{marks} ({})",
                    if v.keep { "keep" } else { "delete" },
                    v.id,
                    v.reasons.iter().map(|r| reason_text(r)).collect::<Vec<_>>().join(", ")
                ));
            }
        } else {
            for d in &r.deleted {
                let reason = match d.reason {
                    Reason::Expired => "expired",
                    Reason::Incomplete => "incomplete",
                    Reason::Requested => "requested",
                };
                lines.push(format!("{verb} {} from {} ({reason})", d.id, r.location));
            }
        }
        if let (Some(first), Some(last)) = (r.oplog_chunks.first(), r.oplog_chunks.last()) {
            lines.push(format!(
                "{} {} oplog chunk(s) from {}: {first} .. {last} (older than the oldest kept point-in-time backup)",
                verb,
                r.oplog_chunks.len(),
                r.location
            ));
        }
        lines.push(format!(
            "{}: {} backup(s) kept{}",
            r.location,
            r.kept,
            if dry_run { format!(", {} would be deleted", r.deleted.len()) } else { String::new() }
        ));
    }
    lines
}

/// A retention reason in words.
fn reason_text(r: &str) -> &'static str {
    match r {
        "last" => "one of the keep_last newest",
        "days" => "younger than keep_days",
        "daily" => "newest of its day (keep_daily)",
        "weekly" => "newest of its week (keep_weekly)",
        "monthly" => "newest of its month (keep_monthly)",
        "drilled" => "newest backup whose drill passed (keep_drilled)",
        "newest-own" => "newest good backup made by `backup`",
        "shrunk" => "empty or shrunk: kept until keep_days, never counted",
        "recent" => "incomplete, younger than a day",
        "incomplete" => "incomplete for more than a day",
        "no-archive" => "a sidecar without its archive: what an interrupted deletion leaves",
        _ => "no rule keeps it",
    }
}

/// Where a backup `delete` would remove is.
#[derive(Debug, Clone)]
pub struct Found {
    pub storage: storage::Storage,
    pub entry: repo::Entry,
}

/// Every copy of backup `id` (complete or not), and whether it is the newest good backup in
/// any storage (deleting it needs `--force`).
pub async fn find(cfg: &Config, id: &str) -> anyhow::Result<(Vec<Found>, bool)> {
    let mut found = Vec::new();
    let mut newest: Option<(jiff::Timestamp, String)> = None;
    for storage in storage::all(cfg).await {
        let entries = repo::scan(&storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await?;
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

/// Deletes every copy found, under the job lock (no backup or prune meanwhile): checks,
/// archive (and `.partial`), sidecar last (see [`remove`]).
pub async fn delete(
    cfg: &Config,
    found: &[Found],
    cancel: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<Vec<Deleted>> {
    crate::lock::with(cfg, &cfg.mongodb.database, "prune", cancel, async || {
        Ok(delete_copies(found).await?)
    })
    .await
}

async fn delete_copies(found: &[Found]) -> Result<Vec<Deleted>, StorageError> {
    let mut deleted = Vec::new();
    for f in found {
        let e = &f.entry;
        remove(&f.storage, e).await?;
        deleted.push(Deleted {
            storage: f.storage.kind(),
            id: e.id.clone(),
            reason: Reason::Requested,
        });
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::{Check, Checks, Entry};

    fn sidecar(imported: bool) -> crate::archive::Sidecar {
        let mut m: crate::archive::Manifest = serde_json::from_value(serde_json::json!({
            "format": "daraa-ops", "format_version": 1, "tool_version": "t", "id": "x",
            "created_at": "", "completed_at": "", "server_version": "", "database": "d",
            "collections": [], "totals": {"collections": 1, "views": 0, "documents": 10, "bytes": 1},
        }))
        .unwrap();
        if imported {
            m.imported = Some(
                serde_json::from_value(serde_json::json!({
                    "source": "dump", "source_format": "mongodump-archive", "source_tool": "",
                    "imported_at": "", "time_from": "name"
                }))
                .unwrap(),
            );
        }
        crate::archive::Sidecar {
            manifest: m,
            archive: crate::archive::ArchiveInfo {
                file: "f".into(),
                size: 1,
                sha256: String::new(),
                encryption: None,
                replacing: None,
            },
        }
    }

    fn check(at: &str, ok: bool) -> Check {
        Check {
            at: at.into(),
            ok,
            error: None,
            contents_checked: None,
            restore_seconds: None,
            to_time: None,
        }
    }

    fn entry(id: &str, day: u8, imported: bool, checks: Option<Checks>) -> Entry {
        Entry {
            id: id.into(),
            time: format!("2026-11-{day:02}T01:00:00Z").parse().unwrap(),
            archive_size: Some(1),
            complete: true,
            partial: false,
            suffix: ".tar.gz",
            sidecar: Some(sidecar(imported)),
            checks,
        }
    }

    #[test]
    fn pinned_backups_are_the_newest_whose_latest_checks_passed() {
        let drilled_then_failed = Checks {
            drilled: Some(check("2026-11-02T05:00:00Z", true)),
            verified: Some(check("2026-11-03T05:00:00Z", false)),
        };
        let failed_then_drilled = Checks {
            verified: Some(check("2026-11-02T05:00:00Z", false)),
            drilled: Some(check("2026-11-03T05:00:00Z", true)),
        };
        let storage = storage::Storage::Local(storage::local::LocalStore::new(".".into()));
        let entries = vec![
            entry("a", 1, false, Some(failed_then_drilled)),
            entry("b", 2, false, Some(drilled_then_failed)),
            entry("d", 4, true, None),
        ];
        let p = pinned(&[(storage.clone(), entries)]);
        // b's drill passed, but its later verify failed: the newest drilled backup whose last
        // check passed is a; the newest own one too (d is an import, b failed last).
        assert_eq!(p.drilled.as_deref(), Some("a"));
        assert_eq!(p.own.as_deref(), Some("a"));
        // An import, however new, is never the newest own backup.
        let only_imports = vec![entry("d", 4, true, None)];
        assert_eq!(pinned(&[(storage, only_imports)]).own, None);
    }
}
