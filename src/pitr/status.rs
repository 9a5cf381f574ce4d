//! `pitr status`: for every storage, the windows a restore to a point in time can reach (from a
//! kept base backup's end to where its chain of chunks ends: a gap, a missing chunk, or the
//! newest archived entry), the chunks and their size, and the gaps; over all of them the
//! newest archived entry and how far it lags behind now. The same as Prometheus metrics
//! (`daraa_ops_pitr_*`, [`render`]): `pitr push` writes them after every pass to
//! `daraa_ops_pitr.<db>.prom` in `metrics.textfile_dir`.

use serde::Serialize;

use super::{Archived, archived, chain};
use crate::config::Config;
use crate::metrics::Families;
use crate::oplog::Ts;
use crate::storage::{Storage, StorageError};

/// An oplog timestamp as the JSON and the tables show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Point {
    /// `T,I`: what `restore --to-time` takes.
    #[serde(serialize_with = "pair")]
    pub ts: Ts,
    /// RFC 3339, to the second.
    #[serde(serialize_with = "rfc3339")]
    pub time: Ts,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's serialize_with signature
fn pair<S: serde::Serializer>(t: &Ts, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.pair())
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's serialize_with signature
fn rfc3339<S: serde::Serializer>(t: &Ts, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.time().strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

impl From<Ts> for Point {
    fn from(ts: Ts) -> Point {
        Point { ts, time: ts }
    }
}

/// Times a restore can reach: every `T` with `from <= T <= until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    pub from: Point,
    pub until: Point,
    /// The base backups whose ends start the window or fall inside it, oldest first.
    pub bases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GapStatus {
    pub from: Point,
    pub until: Point,
    /// After the newest base backup's end: restores cannot reach past it until a base
    /// backup is taken.
    pub open: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StorageStatus {
    /// `local` or `s3`.
    pub storage: &'static str,
    pub location: String,
    /// Chunks with a manifest (gap markers not counted), their entries and stored bytes.
    pub chunks: u64,
    pub entries: u64,
    pub stored_bytes: u64,
    /// The chain's start and its newest end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<Point>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<Point>,
    /// Kept base backups with an oplog end (point-in-time backups).
    pub bases: usize,
    pub windows: Vec<Window>,
    pub gaps: Vec<GapStatus>,
}

impl StorageStatus {
    pub fn open_gaps(&self) -> usize {
        self.gaps.iter().filter(|g| g.open).count()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub database: String,
    /// The newest archived point of any storage, and now minus it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_entry: Option<Point>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<u64>,
    pub storages: Vec<StorageStatus>,
    /// A storage other than the local folder could not be read: left out (as `list` does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_error: Option<String>,
}

impl Status {
    /// The newest time any storage can restore to.
    pub fn restorable_until(&self) -> Option<Ts> {
        self.storages.iter().flat_map(|s| s.windows.iter().map(|w| w.until.ts)).max()
    }
}

/// Reads every storage's backups and chunks. The local folder failing is an error; another
/// storage failing is left out and named in `remote_error` (its chunks are copied there by
/// the next push that reaches it).
pub async fn status(cfg: &Config) -> Result<Status, StorageError> {
    let mut storages = Vec::new();
    let mut remote_error = None;
    for storage in crate::storage::all(cfg).await {
        match of_storage(cfg, &storage).await {
            Ok(s) => storages.push(s),
            Err(e) if !matches!(storage, Storage::Local(_)) => {
                tracing::warn!("{}: {e}", storage.describe());
                remote_error.get_or_insert_with(|| format!("{}: {e}", storage.describe()));
            }
            Err(e) => return Err(e),
        }
    }
    let last = storages.iter().filter_map(|s| s.last.map(|p| p.ts)).max();
    let now = jiff::Timestamp::now().as_second();
    Ok(Status {
        database: cfg.mongodb.database.clone(),
        last_entry: last.map(Point::from),
        lag_seconds: last.map(|l| u64::try_from(now - i64::from(l.t)).unwrap_or(0)),
        storages,
        remote_error,
    })
}

async fn of_storage(cfg: &Config, storage: &Storage) -> Result<StorageStatus, StorageError> {
    let found = archived(cfg, storage).await?;
    let entries =
        crate::repo::scan(storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await?;
    Ok(summarize(storage.kind(), storage.describe(), &super::bases(&entries), &found))
}

/// A storage's status from its base backups (`(id, oplog end)`) and its chunks.
pub fn summarize(
    kind: &'static str,
    location: String,
    bases: &[(String, Ts)],
    found: &Archived,
) -> StorageStatus {
    let data = found.chunks.iter().filter(|c| !c.gap);
    let newest_base = bases.iter().map(|(_, u)| *u).max();
    StorageStatus {
        storage: kind,
        location,
        chunks: data.clone().count() as u64,
        entries: data.clone().map(|c| c.entries).sum(),
        stored_bytes: data.map(|c| c.size).sum(),
        first: found.chunks.iter().map(super::Chunk::from_ts).min().map(Point::from),
        last: found.resume().map(Point::from),
        bases: bases.len(),
        windows: windows(bases, found),
        gaps: found
            .chunks
            .iter()
            .filter(|c| c.gap)
            .map(|c| GapStatus {
                from: c.from_ts().into(),
                until: c.until_ts().into(),
                open: newest_base.is_none_or(|b| c.until_ts() > b),
            })
            .collect(),
    }
}

/// The restorable windows: a restore to T takes the newest base ending at or before T and
/// replays its chain, so each base covers from its end to where its chain stops; windows
/// that touch or overlap are one.
pub fn windows(bases: &[(String, Ts)], found: &Archived) -> Vec<Window> {
    if found.chunks.is_empty() {
        // A restore to a time reads a storage's chunks; without any, it looks elsewhere.
        return Vec::new();
    }
    let mut sorted = bases.to_vec();
    sorted.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let mut out: Vec<Window> = Vec::new();
    for (id, end) in sorted {
        // No chunk ends at the largest timestamp: the chain always stops short of it.
        let reach = chain(found, end, Ts { t: u32::MAX, i: u32::MAX }).err().unwrap_or(end);
        if let Some(last) = out.last_mut()
            && end <= last.until.ts
        {
            last.until = last.until.ts.max(reach).into();
            last.bases.push(id);
            continue;
        }
        out.push(Window { from: end.into(), until: reach.into(), bases: vec![id] });
    }
    out
}

/// The metrics of a status (`daraa_ops_pitr_*`, labelled with the database, and the storage
/// where they are per storage).
pub fn render(s: &Status) -> String {
    let db = [("database", s.database.as_str())];
    let mut f = Families::default();
    if let Some(p) = s.last_entry {
        f.add(
            "pitr_last_entry_timestamp_seconds",
            "gauge",
            "Unix time of the newest oplog entry archived by pitr push (any storage).",
            &db,
            f64::from(p.ts.t),
        );
    }
    if let Some(l) = s.lag_seconds {
        f.add(
            "pitr_lag_seconds",
            "gauge",
            "Seconds between the last pitr push pass and the newest archived oplog entry.",
            &db,
            l as f64,
        );
    }
    if let Some(u) = s.restorable_until() {
        f.add(
            "pitr_restorable_until_timestamp_seconds",
            "gauge",
            "Unix time of the newest point a restore can reach (a base backup and its chain).",
            &db,
            f64::from(u.t),
        );
    }
    for st in &s.storages {
        let labels = [("database", s.database.as_str()), ("storage", st.storage)];
        f.add("pitr_chunks", "gauge", "Oplog chunks archived.", &labels, st.chunks as f64);
        f.add(
            "pitr_entries",
            "gauge",
            "Oplog entries in the archived chunks.",
            &labels,
            st.entries as f64,
        );
        f.add(
            "pitr_stored_bytes",
            "gauge",
            "Bytes of the archived chunks as stored.",
            &labels,
            st.stored_bytes as f64,
        );
        f.add(
            "pitr_open_gaps",
            "gauge",
            "Gaps in the archived oplog after the newest base backup: restores cannot reach past them until a base backup is taken.",
            &labels,
            st.open_gaps() as f64,
        );
    }
    f.render()
}

/// Writes the metrics file for node_exporter when `metrics.textfile_dir` is set; a failure
/// is logged (archiving itself went on).
pub fn write_metrics(cfg: &Config, s: &Status) {
    let Some(dir) = &cfg.metrics.textfile_dir else { return };
    let path = dir.join(format!("daraa_ops_pitr.{}.prom", s.database));
    if let Err(e) = std::fs::create_dir_all(dir)
        .and_then(|()| crate::files::write_atomic_mode(&path, render(s).as_bytes(), 0o644))
    {
        tracing::warn!("cannot write metrics file {}: {e}", path.display());
    }
}
