//! Names inside and of archives: mongodump's collection file-name escaping, and backup ids.
//!
//! Backup ids are `<prefix>-<db>-<YYYYMMDDTHHMMSSZ>`; the archive is `<id>.tar.gz` (or
//! `.archive.gz`, or `.tar.zst`, each with `.age` when encrypted) and its sidecar `<id>.manifest.json`. Ids sort by time for one prefix and database.

use std::fmt::Write as _;

use jiff::Timestamp;

pub const ARCHIVE_SUFFIX: &str = ".tar.gz";
/// A backup in mongodump's archive format (`backup.format: archive`).
pub const STREAM_SUFFIX: &str = ".archive.gz";
/// The same, encrypted with age (`backup.encryption`).
pub const ARCHIVE_SUFFIX_AGE: &str = ".tar.gz.age";
pub const STREAM_SUFFIX_AGE: &str = ".archive.gz.age";
/// A tar backup compressed with zstd (`backup.compression: zstd`), and encrypted.
pub const ZSTD_SUFFIX: &str = ".tar.zst";
pub const ZSTD_SUFFIX_AGE: &str = ".tar.zst.age";
/// Every name a backup archive can have, tar first.
pub const ARCHIVE_SUFFIXES: [&str; 6] = [
    ARCHIVE_SUFFIX,
    STREAM_SUFFIX,
    ZSTD_SUFFIX,
    ARCHIVE_SUFFIX_AGE,
    STREAM_SUFFIX_AGE,
    ZSTD_SUFFIX_AGE,
];
pub const SIDECAR_SUFFIX: &str = ".manifest.json";
/// Beside the sidecar: when the backup was last verified and drilled, and how that went.
pub const CHECKS_SUFFIX: &str = ".checks.json";
pub const PARTIAL_SUFFIX: &str = ".partial";

/// Escapes a collection name the way mongodump 100.x names its files (seen from the real
/// mongodump 100.18.0: Go's `url.QueryEscape`): `A-Z a-z 0-9 - . _ ~` stay, a space becomes
/// `+`, everything else is percent-encoded, UTF-8 byte by byte. mongorestore reads names back
/// with the inverse, so `+` must never stand for itself.
pub fn escape_collection(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The inverse of [`escape_collection`] (`+` is a space); `None` for malformed escapes or
/// invalid UTF-8.
pub fn unescape_collection(escaped: &str) -> Option<String> {
    let bytes = escaped.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = escaped.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else if bytes[i] == b'+' {
            out.push(b' ');
            i += 1;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `20261126T051623Z`
pub fn timestamp_tag(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

pub fn backup_id(prefix: &str, db: &str, t: Timestamp) -> String {
    format!("{prefix}-{db}-{}", timestamp_tag(t))
}

/// Parses `<prefix>-<db>-<tag>` for a known prefix and database; `None` for anything else, so
/// files daraa-ops did not create are never mistaken for backups.
pub fn parse_backup_id(id: &str, prefix: &str, db: &str) -> Option<Timestamp> {
    let tag = id.strip_prefix(prefix)?.strip_prefix('-')?.strip_prefix(db)?.strip_prefix('-')?;
    if tag.len() != 16 {
        return None;
    }
    let dt = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", tag).ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
}

pub const DATA_SUFFIX: &str = ".bson";

pub const METADATA_SUFFIX: &str = ".metadata.json";

/// `<db>/<escaped name>.bson`.
pub fn data_member(db: &str, collection: &str) -> String {
    format!("{db}/{}{DATA_SUFFIX}", escape_collection(collection))
}

/// `<db>/<escaped name>.metadata.json`.
pub fn metadata_member(db: &str, collection: &str) -> String {
    format!("{db}/{}{METADATA_SUFFIX}", escape_collection(collection))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_mongodump() {
        // File names the real mongodump 100.18.0 wrote for these collections.
        assert_eq!(escape_collection("orders"), "orders");
        assert_eq!(escape_collection("order events/2024 50%?"), "order+events%2F2024+50%25%3F");
        assert_eq!(escape_collection("a+b"), "a%2Bb");
        assert_eq!(escape_collection("a b"), "a+b");
        assert_eq!(escape_collection("c~d@e"), "c~d%40e");
        assert_eq!(escape_collection("a$b&c,d;f=g:h"), "a%24b%26c%2Cd%3Bf%3Dg%3Ah");
        assert_eq!(escape_collection("طلبات"), "%D8%B7%D9%84%D8%A8%D8%A7%D8%AA");
        assert_eq!(escape_collection("x#y"), "x%23y");
        for n in ["order events/2024 50%?", "طلبات", "plain", "a%2Fb", "a+b", "a b"] {
            assert_eq!(unescape_collection(&escape_collection(n)).as_deref(), Some(n));
        }
        assert_eq!(unescape_collection("bad%zz"), None);
        assert_eq!(unescape_collection("trunc%2"), None);
    }

    #[test]
    fn ids_round_trip_and_sort_by_time() {
        let t: Timestamp = "2026-11-26T05:16:23Z".parse().unwrap();
        let id = backup_id("daraa", "daraa", t);
        assert_eq!(id, "daraa-daraa-20261126T051623Z");
        assert_eq!(parse_backup_id(&id, "daraa", "daraa"), Some(t));
        assert_eq!(parse_backup_id(&id, "daraa", "other"), None);
        assert_eq!(parse_backup_id("daraa-daraa-notes", "daraa", "daraa"), None);
        let later = backup_id("daraa", "daraa", "2026-11-26T05:16:24Z".parse().unwrap());
        assert!(later > id);
    }
}
