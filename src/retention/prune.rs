//! The retention engine: the plan of `retention::plan` applied to every configured storage,
//! from the sidecar manifests. Called by `prune` and, inside its lock, by `backup`; `delete`
//! removes one named backup through [`find`] and [`delete`].
//!
//! Only complete backups count and only names daraa-ops creates are touched. A backup's
//! archive is deleted before its sidecar: a half-done deletion leaves a sidecar alone, which
//! never looks complete (only deletions leave one: archives are always written first) and
//! which the next `prune` or `delete` removes.

use serde::Serialize;

use crate::config::{Config, RetentionConfig};
use crate::error::CliError;
use crate::repo;
use crate::storage::{self, StorageError};

/// Why a backup goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// No keep rule keeps it.
    Expired,
    /// An archive without sidecar (a crashed upload) older than a day, or a sidecar without
    /// its archive (what an interrupted deletion leaves).
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
        let verdicts = decide(entries, &cfg.retention, now, &pinned);
        let (kept, goes) = tally(&verdicts);
        let mut deleted = Vec::new();
        for (id, reason) in goes {
            let Some(e) = entries.iter().find(|e| e.id == id) else { continue };
            if !dry_run {
                remove(storage, e).await?;
            }
            deleted.push(Deleted { storage: storage.kind(), id, reason });
        }
        let oplog_chunks = prune_chunks(cfg, storage, entries, &verdicts, dry_run).await?;
        results.push(StorageResult {
            storage: storage.kind(),
            location: storage.describe(),
            kept,
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
    policy: &RetentionConfig,
    now: jiff::Timestamp,
    pinned: &super::Pinned,
) -> Vec<Verdict> {
    let good: Vec<(String, jiff::Timestamp)> =
        entries.iter().filter(|e| e.is_good()).map(|e| (e.id.clone(), e.time)).collect();
    let plan = super::plan(&good, policy, now, pinned);
    let cutoff =
        policy.keep_days.map(|d| now - jiff::SignedDuration::from_hours(24 * i64::from(d)));
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

/// What one storage's verdicts come to: how many backups stay (an incomplete archive kept
/// for its first day is no backup) and which go, newest first, with why.
fn tally(verdicts: &[Verdict]) -> (usize, Vec<(String, Reason)>) {
    let kept = verdicts.iter().filter(|v| v.keep && !v.marks.contains(&"incomplete")).count();
    let goes = verdicts
        .iter()
        .filter(|v| !v.keep)
        .map(|v| {
            let reason =
                if v.marks.contains(&"incomplete") { Reason::Incomplete } else { Reason::Expired };
            (v.id.clone(), reason)
        })
        .collect();
    (kept, goes)
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

/// Lines for people: every backup with keep or delete and why (a dry run), or only the
/// deleted ones; then one line per storage with what was kept.
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
        sidecar_of(imported, 10, false)
    }

    fn sidecar_of(imported: bool, documents: u64, shrunk: bool) -> crate::archive::Sidecar {
        let mut m: crate::archive::Manifest = serde_json::from_value(serde_json::json!({
            "format": "daraa-ops", "format_version": 1, "tool_version": "t", "id": "x",
            "created_at": "", "completed_at": "", "server_version": "", "database": "d",
            "collections": [],
            "totals": {"collections": 1, "views": 0, "documents": documents, "bytes": 1},
        }))
        .unwrap();
        if shrunk {
            m.shrunk = Some(crate::archive::manifest::Shrunk {
                previous_id: "p".into(),
                previous_documents: 100,
                max_shrink: 0.5,
            });
        }
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

    /// What a storage holds, in every state `decide` tells apart, at `t`.
    fn at(id: &str, t: &str, state: &str) -> Entry {
        let mut e = entry(id, 1, false, None);
        e.time = t.parse().unwrap();
        match state {
            "good" => {}
            "imported" => e.sidecar = Some(sidecar(true)),
            "shrunk" => e.sidecar = Some(sidecar_of(false, 10, true)),
            "empty" => e.sidecar = Some(sidecar_of(false, 0, false)),
            "partial" => (e.complete, e.partial, e.sidecar) = (false, true, None),
            "no-sidecar" => (e.complete, e.sidecar) = (false, None),
            "no-archive" => (e.complete, e.archive_size) = (false, None),
            other => panic!("{other}"),
        }
        e
    }

    /// Every verdict with its reasons and marks, newest first (ties by id, descending): the
    /// plan's for good backups; shrunk and empty ones kept until `keep_days` (exactly at the
    /// cutoff still kept) and forever without it; an archive without sidecar kept for a day
    /// (exactly a day old still kept); a sidecar alone deleted; a `.partial` left alone.
    #[test]
    fn every_backup_gets_a_verdict_with_its_reasons_and_marks() {
        let now: jiff::Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let entries = vec![
            at("d05", "2026-11-05T01:00:00Z", "good"),
            at("g19", "2026-11-19T01:00:00Z", "good"),
            at("m18", "2026-11-18T01:00:00Z", "imported"),
            at("s17", "2026-11-17T01:00:00Z", "shrunk"),
            at("e16", "2026-11-16T01:00:00Z", "empty"),
            at("p15", "2026-11-15T01:00:00Z", "partial"),
            at("r19", "2026-11-19T12:00:00Z", "no-sidecar"),
            at("i19", "2026-11-19T11:59:59Z", "no-sidecar"),
            at("n13", "2026-11-13T01:00:00Z", "no-archive"),
            at("g12", "2026-11-12T01:00:00Z", "good"),
            at("h12", "2026-11-12T01:00:00Z", "good"),
            at("s10", "2026-11-10T12:00:00Z", "shrunk"),
            at("t10", "2026-11-10T11:59:59Z", "shrunk"),
            at("g04", "2026-11-04T01:00:00Z", "good"),
        ];
        let policy = RetentionConfig { keep_days: Some(10), keep_last: 2, ..Default::default() };
        let pinned = super::super::Pinned { drilled: Some("d05".into()), own: Some("g19".into()) };
        let table = |policy: &RetentionConfig| {
            decide(&entries, policy, now, &pinned)
                .into_iter()
                .map(|v| (v.id, v.keep, v.reasons.join(","), v.marks.join(",")))
                .collect::<Vec<_>>()
        };
        let row = |id: &str, keep, reasons: &str, marks: &str| {
            (id.to_owned(), keep, reasons.to_owned(), marks.to_owned())
        };
        assert_eq!(
            table(&policy),
            vec![
                row("r19", true, "recent", "incomplete"),
                row("i19", false, "incomplete", "incomplete"),
                row("g19", true, "last,days,newest-own", ""),
                row("m18", true, "last,days", "imported"),
                row("s17", true, "shrunk", "shrunk"),
                row("e16", true, "shrunk", "empty"),
                row("n13", false, "no-archive", "incomplete"),
                row("h12", true, "days", ""),
                row("g12", true, "days", ""),
                row("s10", true, "shrunk", "shrunk"),
                row("t10", false, "expired", "shrunk"),
                row("d05", true, "drilled", ""),
                row("g04", false, "expired", ""),
            ]
        );
        // What prune does with them: kept are complete backups only (r19 is no backup yet);
        // an archive without sidecar and a sidecar alone go as incomplete.
        let goes = |kept, ids: &[(&str, Reason)]| {
            (kept, ids.iter().map(|(id, r)| ((*id).to_owned(), *r)).collect::<Vec<_>>())
        };
        assert_eq!(
            tally(&decide(&entries, &policy, now, &pinned)),
            goes(
                8,
                &[
                    ("i19", Reason::Incomplete),
                    ("n13", Reason::Incomplete),
                    ("t10", Reason::Expired),
                    ("g04", Reason::Expired),
                ]
            )
        );
        // Without keep_days nothing expires by age: shrunk ones stay, good ones go by count;
        // of two at the same time the one listed first (h12) is the newer for keep_last.
        let counting =
            RetentionConfig { keep_days: None, keep_last: 3, keep_drilled: false, ..policy };
        let rows = table(&counting);
        let of = |id: &str| rows.iter().find(|r| r.0 == id).cloned().unwrap();
        assert_eq!(of("t10"), row("t10", true, "shrunk", "shrunk"));
        assert_eq!(of("h12"), row("h12", true, "last", ""));
        assert_eq!(of("g12"), row("g12", false, "expired", ""));
        assert_eq!(of("d05"), row("d05", false, "expired", ""));
    }

    /// What `prune` prints: a line per backup in a dry run (verdict, marks, every reason in
    /// words), the deleted ones otherwise, the oplog chunks and a summary per storage.
    #[test]
    fn prune_says_what_it_keeps_and_deletes_and_why() {
        let verdict = |id: &str, keep, reasons: Vec<&'static str>, marks: Vec<&'static str>| {
            Verdict { id: id.into(), keep, reasons, marks }
        };
        let result = StorageResult {
            storage: "local",
            location: "/b".into(),
            kept: 5,
            deleted: vec![
                Deleted { storage: "local", id: "x2".into(), reason: Reason::Expired },
                Deleted { storage: "local", id: "x1".into(), reason: Reason::Incomplete },
                Deleted { storage: "local", id: "x0".into(), reason: Reason::Requested },
            ],
            backups: vec![
                verdict("x3", true, vec!["last", "days"], vec![]),
                verdict("x2", false, vec!["expired"], vec!["imported", "shrunk"]),
            ],
            oplog_chunks: vec!["c1".into(), "c2".into()],
        };
        let s3 = StorageResult {
            storage: "s3",
            location: "s3://b/p".into(),
            kept: 0,
            deleted: vec![],
            backups: vec![],
            oplog_chunks: vec![],
        };
        let results = [result, s3];
        assert_eq!(
            describe(&results, true),
            vec![
                "/b:",
                "  keep   x3 (one of the keep_last newest, younger than keep_days)",
                "  delete x2 [imported, shrunk] (no rule keeps it)",
                "would delete 2 oplog chunk(s) from /b: c1 .. c2 (older than the oldest kept point-in-time backup)",
                "/b: 5 backup(s) kept, 3 would be deleted",
                "s3://b/p:",
                "s3://b/p: 0 backup(s) kept, 0 would be deleted",
            ]
        );
        assert_eq!(
            describe(&results, false),
            vec![
                "deleted x2 from /b (expired)",
                "deleted x1 from /b (incomplete)",
                "deleted x0 from /b (requested)",
                "deleted 2 oplog chunk(s) from /b: c1 .. c2 (older than the oldest kept point-in-time backup)",
                "/b: 5 backup(s) kept",
                "s3://b/p: 0 backup(s) kept",
            ]
        );
        let words: Vec<&str> = [
            "last",
            "days",
            "daily",
            "weekly",
            "monthly",
            "drilled",
            "newest-own",
            "shrunk",
            "recent",
            "incomplete",
            "no-archive",
            "expired",
        ]
        .into_iter()
        .map(reason_text)
        .collect();
        assert_eq!(
            words,
            [
                "one of the keep_last newest",
                "younger than keep_days",
                "newest of its day (keep_daily)",
                "newest of its week (keep_weekly)",
                "newest of its month (keep_monthly)",
                "newest backup whose drill passed (keep_drilled)",
                "newest good backup made by `backup`",
                "empty or shrunk: kept until keep_days, never counted",
                "incomplete, younger than a day",
                "incomplete for more than a day",
                "a sidecar without its archive: what an interrupted deletion leaves",
                "no rule keeps it",
            ]
        );
    }
}
