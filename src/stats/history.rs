//! Optional history: each `stats --history FILE` run appends one JSON line (database totals and
//! per-collection documents and sizes) and reports growth since the previous line.

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{CollectionStats, DatabaseTotals};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub time: String,
    pub database: DatabaseTotals,
    pub collections: Vec<CollectionStats>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Growth {
    pub since: String,
    pub seconds: f64,
    pub objects: i64,
    pub data_bytes: i64,
    pub storage_bytes: i64,
    pub index_bytes: i64,
    /// Per collection: (name, documents added, bytes added), largest growth first.
    pub collections: Vec<CollectionGrowth>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CollectionGrowth {
    pub name: String,
    pub documents: i64,
    pub size_bytes: i64,
}

/// The last complete line of the history file (a torn last line from a crash is skipped).
pub fn last_entry(path: &Path) -> Option<Entry> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().rev().find_map(|l| serde_json::from_str::<Entry>(l).ok())
}

pub fn growth(prev: &Entry, now: &Entry) -> Growth {
    let seconds = match (prev.time.parse::<jiff::Timestamp>(), now.time.parse::<jiff::Timestamp>())
    {
        (Ok(a), Ok(b)) => (b.as_millisecond() - a.as_millisecond()) as f64 / 1000.0,
        _ => 0.0,
    };
    let mut collections: Vec<CollectionGrowth> = now
        .collections
        .iter()
        .map(|c| {
            let before = prev.collections.iter().find(|p| p.name == c.name);
            CollectionGrowth {
                name: c.name.clone(),
                documents: c.documents - before.map_or(0, |p| p.documents),
                size_bytes: c.size_bytes - before.map_or(0, |p| p.size_bytes),
            }
        })
        .collect();
    collections.sort_by(|a, b| b.size_bytes.cmp(&a.size_bytes).then(a.name.cmp(&b.name)));
    Growth {
        since: prev.time.clone(),
        seconds,
        objects: now.database.objects - prev.database.objects,
        data_bytes: now.database.data_bytes - prev.database.data_bytes,
        storage_bytes: now.database.storage_bytes - prev.database.storage_bytes,
        index_bytes: now.database.index_bytes - prev.database.index_bytes,
        collections,
    }
}

/// Appends one line (O_APPEND, one write, fsync'd), creating the file with mode 0600.
pub fn append(path: &Path, entry: &Entry) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    line.push(b'\n');
    // After a torn last line, start on a fresh one so this entry stays readable.
    let torn = std::fs::read(path).ok().is_some_and(|t| t.last().is_some_and(|b| *b != b'\n'));
    if torn {
        line.insert(0, b'\n');
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
    f.write_all(&line)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(time: &str, objects: i64, orders: i64) -> Entry {
        Entry {
            time: time.into(),
            database: DatabaseTotals {
                name: "d".into(),
                objects,
                data_bytes: objects * 10,
                ..Default::default()
            },
            collections: vec![CollectionStats {
                name: "orders".into(),
                documents: orders,
                size_bytes: orders * 10,
                ..Default::default()
            }],
        }
    }

    #[test]
    fn growth_since_the_last_complete_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.jsonl");
        append(&p, &entry("2026-11-01T00:00:00Z", 100, 40)).unwrap();
        append(&p, &entry("2026-11-02T00:00:00Z", 150, 70)).unwrap();
        // A torn line, as a crash mid-write would leave.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"{\"time\":\"20")
            .unwrap();
        let prev = last_entry(&p).unwrap();
        assert_eq!(prev.database.objects, 150);
        append(&p, &entry("2026-11-02T12:00:00Z", 160, 75)).unwrap();
        assert_eq!(last_entry(&p).unwrap().database.objects, 160, "written after a torn line");
        let g = growth(&prev, &entry("2026-11-03T00:00:00Z", 175, 80));
        assert_eq!((g.objects, g.data_bytes, g.seconds), (25, 250, 86_400.0));
        assert_eq!(g.collections[0].documents, 10);
    }
}
