//! What backups exist in a storage, read from names and sidecar manifests only (archives are
//! never downloaded for this). Only names daraa-ops creates for the configured prefix and
//! database count; every other file or object is ignored, and so never deleted.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::checks::{Check, Checks};
use crate::archive::Sidecar;
use crate::archive::names::{
    self, ARCHIVE_SUFFIX, ARCHIVE_SUFFIXES, CHECKS_SUFFIX, PARTIAL_SUFFIX, SIDECAR_SUFFIX,
};
use crate::storage::{Storage, StorageError};

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    #[serde(serialize_with = "ser_ts")]
    pub time: Timestamp,
    pub archive_size: Option<u64>,
    /// Archive and sidecar both present (and the sidecar readable).
    pub complete: bool,
    /// A `.partial` archive: a run in progress, or one that crashed.
    pub partial: bool,
    /// `.tar.gz`, `.tar.zst` (`backup.compression: zstd`) or `.archive.gz` (mongodump's archive
    /// format), each with `.age` when encrypted.
    #[serde(skip)]
    pub suffix: &'static str,
    #[serde(skip)]
    pub sidecar: Option<Sidecar>,
    /// `<id>.checks.json`: the last verify and drill of this backup, when any ran.
    #[serde(skip)]
    pub checks: Option<Checks>,
}

fn ser_ts<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_string())
}

impl Entry {
    pub fn archive_name(&self) -> String {
        format!("{}{}", self.id, self.suffix)
    }

    pub fn sidecar_name(&self) -> String {
        format!("{}{SIDECAR_SUFFIX}", self.id)
    }

    pub fn checks_name(&self) -> String {
        format!("{}{CHECKS_SUFFIX}", self.id)
    }

    /// The last drill of this backup passed, and no later check failed.
    pub fn drilled_ok(&self) -> bool {
        self.checks.as_ref().and_then(|c| c.drilled.as_ref()).is_some_and(|d| d.ok)
            && !self.last_check_failed()
    }

    /// The most recent check of either kind (verify or drill) failed: whatever passed
    /// before, this backup is not known to be good now.
    pub fn last_check_failed(&self) -> bool {
        let Some(c) = &self.checks else { return false };
        let at = |c: &Check| c.at.parse::<Timestamp>().ok();
        match (&c.verified, &c.drilled) {
            (Some(v), Some(d)) => {
                // The later one decides; on a tie (or an unreadable time) a failure wins.
                match (at(v), at(d)) {
                    (Some(tv), Some(td)) if tv > td => !v.ok,
                    (Some(tv), Some(td)) if td > tv => !d.ok,
                    _ => !v.ok || !d.ok,
                }
            }
            (Some(x), None) | (None, Some(x)) => !x.ok,
            (None, None) => false,
        }
    }

    /// Adopted by `import`, not written by `backup`.
    pub fn imported(&self) -> bool {
        self.sidecar.as_ref().is_some_and(|s| s.manifest.imported.is_some())
    }

    /// Marked as shrunk by the `max_shrink` guard.
    pub fn shrunk(&self) -> bool {
        self.sidecar.as_ref().is_some_and(|s| s.manifest.shrunk.is_some())
    }

    /// Complete, holding documents, and not marked as shrunk: a backup that may stand for
    /// the database (retention counts it, `latest` picks it).
    pub fn is_good(&self) -> bool {
        self.complete && self.sidecar.as_ref().is_some_and(|s| s.manifest.is_good())
    }
}

/// Backups in a storage, oldest first.
pub async fn scan(storage: &Storage, prefix: &str, db: &str) -> Result<Vec<Entry>, StorageError> {
    let mut by_id: BTreeMap<String, Entry> = BTreeMap::new();
    // Every archive file of an id: normally one; two after a rekey that encrypted a
    // plaintext archive was interrupted (the sidecar says which one is the backup).
    let mut files: BTreeMap<String, Vec<(&'static str, u64)>> = BTreeMap::new();
    let mut sidecars = Vec::new();
    let mut checks = Vec::new();
    for o in storage.list().await? {
        let archive = ARCHIVE_SUFFIXES.iter().find_map(|s| {
            o.name
                .strip_suffix(PARTIAL_SUFFIX)
                .and_then(|n| n.strip_suffix(s))
                .map(|id| (id, 'p', *s))
                .or_else(|| o.name.strip_suffix(s).map(|id| (id, 'a', *s)))
        });
        let (id, kind, suffix) = match archive {
            Some(found) => found,
            None => match o.name.strip_suffix(SIDECAR_SUFFIX) {
                Some(id) => (id, 's', ARCHIVE_SUFFIX),
                None => match o.name.strip_suffix(CHECKS_SUFFIX) {
                    Some(id) => {
                        checks.push(id.to_owned());
                        continue;
                    }
                    None => continue,
                },
            },
        };
        let Some(time) = names::parse_backup_id(id, prefix, db) else { continue };
        let e = by_id.entry(id.to_owned()).or_insert_with(|| Entry {
            id: id.to_owned(),
            time,
            archive_size: None,
            complete: false,
            partial: false,
            suffix,
            sidecar: None,
            checks: None,
        });
        match kind {
            'p' => {
                e.partial = true;
                // A run that left only its `.partial` (and maybe a sidecar, listed first
                // and defaulting to `.tar.gz`): its archive name is the partial's.
                if e.archive_size.is_none() {
                    e.suffix = suffix;
                }
            }
            'a' => {
                e.archive_size = Some(o.size);
                e.suffix = suffix;
                files.entry(id.to_owned()).or_default().push((suffix, o.size));
            }
            _ => sidecars.push(id.to_owned()),
        }
    }
    for id in sidecars {
        let Some(e) = by_id.get_mut(&id) else { continue };
        let sidecar =
            storage.get_bytes(&e.sidecar_name()).await?.and_then(
                |b| match serde_json::from_slice::<Sidecar>(&b) {
                    Ok(s) => Some(s),
                    Err(err) => {
                        tracing::warn!(
                            "{} in {} is not a valid sidecar: {err}",
                            e.sidecar_name(),
                            storage.describe()
                        );
                        None
                    }
                },
            );
        if let Some(sc) = &sidecar
            && let Some((suffix, size)) = files
                .get(&id)
                .and_then(|f| f.iter().find(|(sfx, _)| format!("{id}{sfx}") == sc.archive.file))
        {
            e.suffix = suffix;
            e.archive_size = Some(*size);
        }
        e.complete = e.archive_size.is_some() && sidecar.is_some();
        e.sidecar = sidecar;
    }
    for id in checks {
        let Some(e) = by_id.get_mut(&id) else { continue };
        e.checks = storage
            .get_bytes(&e.checks_name())
            .await?
            .and_then(|b| serde_json::from_slice::<Checks>(&b).ok());
    }
    Ok(by_id.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::local::LocalStore;

    /// A run that left `<id>.tar.zst.partial` beside its sidecar (listed first, `.manifest.json`
    /// sorting before `.tar.zst`) is known by the partial's name, so delete and prune remove
    /// that file; a complete `.tar.zst` keeps its own suffix.
    #[test]
    fn a_partial_archive_names_the_entry_whatever_is_listed_first() {
        let dir = tempfile::tempdir().unwrap();
        let (partial, complete) = ("daraa-db-20261120T000000Z", "daraa-db-20261121T000000Z");
        for name in [
            format!("{partial}.manifest.json"),
            format!("{partial}.tar.zst.partial"),
            format!("{complete}.tar.zst"),
            format!("{complete}.manifest.json"),
        ] {
            std::fs::write(dir.path().join(name), b"{}").unwrap();
        }
        let storage = Storage::Local(LocalStore::new(dir.path().to_path_buf()));
        let entries = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(scan(&storage, "daraa", "db"))
            .unwrap();
        let got: Vec<(String, bool, Option<u64>)> =
            entries.iter().map(|e| (e.archive_name(), e.partial, e.archive_size)).collect();
        assert_eq!(
            got,
            [
                (format!("{partial}.tar.zst"), true, None),
                (format!("{complete}.tar.zst"), false, Some(2)),
            ]
        );
    }
}
