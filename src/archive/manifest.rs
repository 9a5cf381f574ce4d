//! `manifest.json` (the last archive member) and the sidecar `<id>.manifest.json` next to the
//! archive, which adds the archive's own size and sha256 (docs/archive-format.md).

use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "daraa-ops-backup";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub tool_version: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// RFC 3339, UTC: when the dump started.
    pub created_at: String,
    /// RFC 3339, UTC: when the last collection was written.
    pub completed_at: String,
    pub server_version: String,
    pub database: String,
    /// Sorted by name.
    pub collections: Vec<CollectionEntry>,
    pub totals: Totals,
    /// Set when this backup holds far fewer documents than the previous complete one
    /// (`backup.max_shrink`): kept, but never counted as a good backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrunk: Option<Shrunk>,
    /// Set when `import` made this backup from one daraa-ops did not write (a mongodump):
    /// `created_at` is then the original backup's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported: Option<Imported>,
    /// `archive` when the backup is in mongodump's archive format (`.archive.gz`, no
    /// `manifest.json` inside: this sidecar is its manifest); absent for the tar layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The oplog entries of the configured database written while the dump ran (member
    /// `oplog.bson`): a restore replays them, so the backup is one point in time, `until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oplog: Option<Box<OplogSlice>>,
    /// Set when the backup holds no oplog, saying why (the server keeps none, `--no-oplog`,
    /// the archive format): its collections were dumped one after the other and may not
    /// agree with each other about writes made meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_point_in_time: Option<String>,
}

/// The oplog a backup holds: every entry of its database with `from < ts <= until`, in
/// timestamp order. `until` is the newest oplog timestamp once the dump had ended: the point
/// in time the restored database stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OplogSlice {
    pub member: String,
    pub from: ClusterTime,
    pub until: ClusterTime,
    pub entries: u64,
    pub bytes: u64,
    /// SHA-256 of the member's raw BSON, hex.
    pub sha256: String,
}

/// Where an imported backup came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    /// The file or folder name it was imported from.
    pub source: String,
    /// `mongodump-directory` or `mongodump-archive` (or `daraa-ops-backup`).
    pub source_format: String,
    /// The tool that wrote it, as it says (mongodump's version), when it says.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_tool: String,
    /// RFC 3339: when the import ran.
    pub imported_at: String,
    /// How `created_at` was found: `--time`, `name` (a date in the file name) or `mtime`.
    pub time_from: String,
}

/// Why a backup is marked as shrunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shrunk {
    pub previous_id: String,
    pub previous_documents: u64,
    pub max_shrink: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionEntry {
    pub name: String,
    /// `collection` or `view` (views have metadata and no data file).
    #[serde(rename = "type")]
    pub kind: String,
    /// Member path of the raw BSON, e.g. `daraa/orders.bson`; absent for views.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_file: Option<String>,
    pub metadata_file: String,
    pub documents: u64,
    pub bytes: u64,
    /// sha256 of the `.bson` member, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// sha256 of the `.metadata.json` member, hex.
    pub metadata_sha256: String,
    /// The cluster time (`operationTime`) when this collection's dump started and ended, on
    /// servers that report one (replica sets): how wide the backup's window was. A backup of a
    /// live database is not a point-in-time snapshot across collections (docs/operations.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_time: Option<ClusterWindow>,
}

/// A dump's window in cluster time: `{t: seconds, i: increment}` at its start and end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterWindow {
    pub start: ClusterTime,
    pub end: ClusterTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterTime {
    pub t: u32,
    pub i: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub collections: u64,
    pub views: u64,
    pub documents: u64,
    pub bytes: u64,
}

/// The sidecar: the manifest plus facts about the archive file itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sidecar {
    #[serde(flatten)]
    pub manifest: Manifest,
    pub archive: ArchiveInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveInfo {
    pub file: String,
    /// Size and SHA-256 of the file as stored (the ciphertext when encrypted): what a keyless
    /// `verify` checks.
    pub size: u64,
    pub sha256: String,
    /// Set when the file is an age file: for whom (public keys only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    /// Written by `rekey` before it replaces the archive: the file that is taking its place.
    /// Until the sidecar is rewritten without it, the stored file is one of the two (a kill
    /// in between); verify accepts either, and a rerun of `rekey` finishes the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacing: Option<Box<ArchiveInfo>>,
}

impl ArchiveInfo {
    /// A file as written, with nothing pending.
    pub fn new(file: String, size: u64, sha256: String, encryption: Option<Encryption>) -> Self {
        ArchiveInfo { file, size, sha256, encryption, replacing: None }
    }

    /// Whether a file of this size and SHA-256 is this archive, or the one an interrupted
    /// `rekey` was putting in its place (`Some(true)` for that one).
    pub fn matches(&self, size: u64, sha256: &str) -> Option<bool> {
        if self.size == size && self.sha256 == sha256 {
            Some(false)
        } else if self.replacing.as_ref().is_some_and(|r| r.size == size && r.sha256 == sha256) {
            Some(true)
        } else {
            None
        }
    }
}

/// How an archive is encrypted (docs/encryption.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// `age` (X25519 recipients).
    pub scheme: String,
    /// The recipients' public keys (`age1…`).
    pub recipients: Vec<String>,
}

impl Manifest {
    pub fn totals_of(collections: &[CollectionEntry]) -> Totals {
        let mut t = Totals::default();
        for c in collections {
            if c.kind == "view" {
                t.views += 1;
            } else {
                t.collections += 1;
            }
            t.documents += c.documents;
            t.bytes += c.bytes;
        }
        t
    }

    /// Whether this backup may stand for the database: it holds documents and is not marked
    /// as shrunk. Retention counts and `latest` picks only such backups.
    pub fn is_good(&self) -> bool {
        self.totals.documents > 0 && self.shrunk.is_none()
    }

    pub fn collection(&self, name: &str) -> Option<&CollectionEntry> {
        self.collections.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: &str, documents: u64, bytes: u64) -> CollectionEntry {
        CollectionEntry {
            name: name.into(),
            kind: kind.into(),
            data_file: None,
            metadata_file: format!("d/{name}.metadata.json"),
            documents,
            bytes,
            sha256: None,
            metadata_sha256: String::new(),
            cluster_time: None,
        }
    }

    #[test]
    fn totals_count_views_apart_and_sum_documents_and_bytes() {
        let t = Manifest::totals_of(&[
            entry("a", "collection", 3, 100),
            entry("v", "view", 0, 0),
            entry("b", "collection", 4, 50),
            entry("w", "view", 0, 0),
            entry("c", "collection", 2, 7),
        ]);
        assert_eq!(t, Totals { collections: 3, views: 2, documents: 9, bytes: 157 });
    }

    #[test]
    fn an_archive_matches_itself_or_the_one_rekey_was_putting_in_its_place() {
        let mut info = ArchiveInfo::new("f".into(), 10, "aa".into(), None);
        assert_eq!(info.matches(10, "aa"), Some(false));
        assert_eq!(info.matches(10, "bb"), None);
        assert_eq!(info.matches(11, "aa"), None);
        info.replacing = Some(Box::new(ArchiveInfo::new("f".into(), 12, "cc".into(), None)));
        assert_eq!(info.matches(10, "aa"), Some(false));
        assert_eq!(info.matches(12, "cc"), Some(true));
        assert_eq!(info.matches(12, "aa"), None);
        assert_eq!(info.matches(10, "cc"), None);
    }

    #[test]
    fn a_good_backup_holds_documents_and_is_not_shrunk() {
        let manifest = |documents: u64, shrunk: bool| -> Manifest {
            let mut v = serde_json::json!({
                "format": FORMAT, "format_version": 1, "tool_version": "t", "id": "x",
                "created_at": "", "completed_at": "", "server_version": "", "database": "d",
                "collections": [],
                "totals": {"collections": 1, "views": 0, "documents": documents, "bytes": 1},
            });
            if shrunk {
                v["shrunk"] = serde_json::json!({"previous_id": "p", "previous_documents": 100, "max_shrink": 0.5});
            }
            serde_json::from_value(v).unwrap()
        };
        assert!(manifest(10, false).is_good());
        assert!(manifest(1, false).is_good());
        let mut m = manifest(1, false);
        m.collections = vec![entry("a", "collection", 1, 1), entry("b", "view", 0, 0)];
        assert_eq!(m.collection("b").map(|c| c.kind.as_str()), Some("view"));
        assert!(m.collection("c").is_none());
        assert!(!manifest(0, false).is_good());
        assert!(!manifest(10, true).is_good());
    }
}
