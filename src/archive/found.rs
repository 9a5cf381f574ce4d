//! A backup without a daraa-ops manifest (mongodump's): what it held, collected while it is
//! read, made into a [`Manifest`] so restore and drill treat both kinds of backup alike; and
//! checked against a sidecar when one was written for it (an imported archive-format backup).

use std::collections::BTreeMap;

use super::bson::{ArchiveError, corrupt};
use super::event::Verified;
use super::format::SourceFormat;
use super::manifest::{CollectionEntry, Manifest};
use super::metadata::CollectionMetadata;
use crate::digest::MemberStats;

/// One collection as found in a backup without a manifest.
#[derive(Debug, Default)]
struct Found1 {
    metadata: Option<(CollectionMetadata, String)>,
    data: Option<MemberStats>,
}

/// What a backup without a manifest held, collected while it is read.
#[derive(Debug, Default)]
pub(crate) struct Found {
    database: Option<String>,
    server_version: String,
    tool_version: String,
    collections: BTreeMap<String, Found1>,
    /// The archive format's oplog namespace (`mongodump --oplog`, or a daraa-ops backup's).
    oplog: Option<MemberStats>,
}

/// Databases mongodump dumps but a restore of one database leaves alone.
const SYSTEM_DATABASES: [&str; 3] = ["admin", "config", "local"];

impl Found {
    pub(crate) fn versions(&mut self, server: &str, tool: &str) {
        server.clone_into(&mut self.server_version);
        tool.clone_into(&mut self.tool_version);
    }

    /// Whether the members of `db` are read: the backup's one user database is, `admin`,
    /// `config` and `local` are passed over; a second user database is refused.
    pub(crate) fn database(&mut self, db: &str) -> Result<bool, ArchiveError> {
        if SYSTEM_DATABASES.contains(&db) {
            return Ok(false);
        }
        match &self.database {
            Some(d) if d == db => Ok(true),
            Some(d) => Err(corrupt(format!(
                "the backup holds more than one database ({d}, {db}); daraa-ops reads backups of one database (mongodump --db)"
            ))),
            None => {
                self.database = Some(db.to_owned());
                Ok(true)
            }
        }
    }

    pub(crate) fn metadata(&mut self, collection: &str, parsed: &CollectionMetadata, sha: String) {
        self.collections.entry(collection.to_owned()).or_default().metadata =
            Some((parsed.clone(), sha));
    }

    pub(crate) fn data(
        &mut self,
        collection: &str,
        stats: &MemberStats,
    ) -> Result<(), ArchiveError> {
        let slot = &mut self.collections.entry(collection.to_owned()).or_default().data;
        if slot.is_some() {
            return Err(corrupt(format!("collection {collection} has its documents twice")));
        }
        *slot = Some(stats.clone());
        Ok(())
    }

    pub(crate) fn oplog(&mut self, stats: &MemberStats) -> Result<(), ArchiveError> {
        if self.oplog.is_some() {
            return Err(corrupt("the oplog is in the archive twice"));
        }
        self.oplog = Some(stats.clone());
        Ok(())
    }

    /// The oplog's entries as found (count, bytes, SHA-256), for [`compare_with_sidecar`].
    pub(crate) fn take_oplog(&mut self) -> Option<MemberStats> {
        self.oplog.take()
    }

    /// The manifest of what was found: a collection needs its documents (an empty collection
    /// has an empty `.bson`), a view only its metadata.
    pub(crate) fn into_verified(
        self,
        format: SourceFormat,
        members: usize,
    ) -> Result<Verified, ArchiveError> {
        let Some(database) = self.database else {
            return Err(corrupt(
                "it holds no collection of a user database (admin, config and local are not restored)",
            ));
        };
        let mut collections = Vec::new();
        for (name, found) in self.collections {
            let kind = found
                .metadata
                .as_ref()
                .map_or_else(|| "collection".to_owned(), |(m, _)| m.kind.clone());
            let view = kind == "view";
            let stats = match (found.data, view) {
                (Some(s), _) => s,
                (None, true) => MemberStats::default(),
                (None, false) => {
                    return Err(corrupt(format!(
                        "collection {name} has metadata but no documents member: the dump is incomplete"
                    )));
                }
            };
            collections.push(CollectionEntry {
                data_file: (!view).then(|| crate::archive::names::data_member(&database, &name)),
                metadata_file: crate::archive::names::metadata_member(&database, &name),
                documents: stats.documents,
                bytes: stats.bytes,
                sha256: (!view).then_some(stats.sha256),
                metadata_sha256: found.metadata.map(|(_, sha)| sha).unwrap_or_default(),
                cluster_time: None,
                name,
                kind,
            });
        }
        let totals = Manifest::totals_of(&collections);
        let manifest = Manifest {
            format: format.manifest_format().to_owned(),
            format_version: 0,
            tool_version: self.tool_version,
            id: String::new(),
            label: None,
            created_at: String::new(),
            completed_at: String::new(),
            server_version: self.server_version,
            database,
            collections,
            totals,
            shrunk: None,
            imported: None,
            container: None,
            oplog: None,
            not_point_in_time: None,
        };
        Ok(Verified { manifest, members, format })
    }
}

/// A daraa-ops `.archive.gz` read against its sidecar: what was found must be what the
/// sidecar says, collection by collection (documents, bytes, SHA-256 of the documents and of
/// the metadata), and the oplog it records (entries, bytes, SHA-256) must be there. An oplog
/// the sidecar does not record (a backup that is not point-in-time, whose window held a drop
/// or a rename) is checked by its CRC-64 only and never replayed.
pub(crate) fn compare_with_sidecar(
    found: &Verified,
    oplog: Option<&MemberStats>,
    expected: &Manifest,
) -> Result<Verified, ArchiveError> {
    if expected.container.as_deref() != Some("archive") {
        return Err(corrupt(
            "the file is in mongodump's archive format, but its sidecar describes a tar archive",
        ));
    }
    let got = &found.manifest;
    for c in &expected.collections {
        let g = got.collection(&c.name).ok_or_else(|| {
            corrupt(format!("collection {}: not in the archive, the sidecar lists it", c.name))
        })?;
        if g.documents != c.documents || g.bytes != c.bytes {
            return Err(corrupt(format!(
                "collection {}: {} documents ({} bytes) in the archive, the sidecar says {} ({})",
                c.name, g.documents, g.bytes, c.documents, c.bytes
            )));
        }
        if g.sha256 != c.sha256 || g.metadata_sha256 != c.metadata_sha256 {
            return Err(corrupt(format!("collection {}: checksum mismatch", c.name)));
        }
    }
    if let Some(extra) = got.collections.iter().find(|g| expected.collection(&g.name).is_none()) {
        return Err(corrupt(format!(
            "collection {} is in the archive, not in the sidecar",
            extra.name
        )));
    }
    if let Some(want) = &expected.oplog {
        let Some(got) = oplog else {
            return Err(corrupt(format!(
                "the oplog: not in the archive, the sidecar records {} entries",
                want.entries
            )));
        };
        if got.documents != want.entries || got.bytes != want.bytes {
            return Err(corrupt(format!(
                "the oplog: {} entries ({} bytes) in the archive, the sidecar says {} ({})",
                got.documents, got.bytes, want.entries, want.bytes
            )));
        }
        if got.sha256 != want.sha256 {
            return Err(corrupt("the oplog: checksum mismatch"));
        }
    }
    Ok(Verified {
        manifest: expected.clone(),
        members: found.members,
        format: SourceFormat::DaraaArchive,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(documents: u64, sha: &str) -> MemberStats {
        MemberStats { documents, bytes: documents * 10, sha256: sha.into() }
    }

    fn meta(name: &str, kind: &str) -> CollectionMetadata {
        CollectionMetadata {
            name: name.into(),
            kind: kind.into(),
            options: bson::Document::new(),
            indexes: Vec::new(),
            uuid: None,
        }
    }

    fn set(m: &mut Manifest, name: &str, edit: impl Fn(&mut CollectionEntry)) {
        m.collections.iter_mut().filter(|c| c.name == name).for_each(edit);
    }

    fn message(e: ArchiveError) -> String {
        match e {
            ArchiveError::Corrupt(m) => m,
            other @ ArchiveError::Io(_) => panic!("expected a damaged backup, got {other:?}"),
        }
    }

    /// A mongodump backup of shop: orders with its documents, a view, and what the walkers
    /// report of it.
    fn shop() -> Verified {
        let mut f = Found::default();
        f.versions("7.0.14", "100.18.0");
        assert!(!f.database("admin").unwrap() && !f.database("config").unwrap());
        assert!(f.database("shop").unwrap());
        assert!(f.database("shop").unwrap());
        assert!(!f.database("local").unwrap());
        f.metadata("orders.2024", &meta("orders.2024", "collection"), "m1".into());
        f.data("orders.2024", &stats(3, "d1")).unwrap();
        f.metadata("paid", &meta("paid", "view"), "m2".into());
        f.into_verified(SourceFormat::MongodumpArchive, 4).unwrap()
    }

    #[test]
    fn what_was_found_becomes_a_manifest_of_one_database() {
        let v = shop();
        assert_eq!((v.format, v.members), (SourceFormat::MongodumpArchive, 4));
        let m = &v.manifest;
        assert_eq!(
            (m.database.as_str(), m.server_version.as_str(), m.tool_version.as_str()),
            ("shop", "7.0.14", "100.18.0")
        );
        assert_eq!(m.format, "mongodump-archive");
        let orders = m.collection("orders.2024").unwrap();
        assert_eq!(
            (orders.kind.as_str(), orders.documents, orders.bytes, orders.sha256.as_deref()),
            ("collection", 3, 30, Some("d1"))
        );
        assert_eq!(orders.data_file.as_deref(), Some("shop/orders.2024.bson"));
        assert_eq!(orders.metadata_sha256, "m1");
        let paid = m.collection("paid").unwrap();
        assert_eq!(
            (paid.kind.as_str(), paid.data_file.as_deref(), paid.sha256.as_deref()),
            ("view", None, None)
        );
        assert_eq!((m.totals.collections, m.totals.documents), (1, 3));
    }

    #[test]
    fn a_second_database_twice_read_documents_and_missing_ones_are_refused() {
        let mut f = Found::default();
        assert!(f.database("shop").unwrap());
        let e = message(f.database("crm").unwrap_err());
        assert!(e.contains("more than one database (shop, crm)"), "{e}");
        f.data("orders", &stats(1, "a")).unwrap();
        assert!(
            message(f.data("orders", &stats(1, "a")).unwrap_err())
                .contains("orders has its documents twice")
        );
        let mut f = Found::default();
        assert!(f.database("shop").unwrap());
        f.metadata("carts", &meta("carts", "collection"), "m".into());
        let e = message(f.into_verified(SourceFormat::MongodumpDirectory, 1).unwrap_err());
        assert!(e.contains("carts has metadata but no documents member"), "{e}");
        let mut only_system = Found::default();
        assert!(!only_system.database("admin").unwrap());
        let e = message(only_system.into_verified(SourceFormat::MongodumpArchive, 1).unwrap_err());
        assert!(e.contains("no collection of a user database"), "{e}");
    }

    /// An imported archive-format backup read against its sidecar: equal, it stands for the
    /// sidecar; any difference is named.
    #[test]
    fn the_sidecar_must_describe_what_was_found() {
        let found = shop();
        let mut sidecar = found.manifest.clone();
        sidecar.container = Some("archive".into());
        sidecar.id = "shop-2026".into();
        let ok = compare_with_sidecar(&found, None, &sidecar).unwrap();
        assert_eq!(
            (ok.format, ok.members, ok.manifest.id.as_str()),
            (SourceFormat::DaraaArchive, 4, "shop-2026")
        );
        let refused = |edit: &dyn Fn(&mut Manifest)| {
            let mut m = sidecar.clone();
            edit(&mut m);
            message(compare_with_sidecar(&found, None, &m).unwrap_err())
        };
        assert!(refused(&|m| m.container = None).contains("describes a tar archive"));
        assert!(refused(&|m| m.container = Some("tar".into())).contains("describes a tar archive"));
        let e = refused(&|m| set(m, "orders.2024", |c| c.documents = 4));
        assert!(
            e.contains(
                "orders.2024: 3 documents (30 bytes) in the archive, the sidecar says 4 (30)"
            ),
            "{e}"
        );
        let e = refused(&|m| set(m, "orders.2024", |c| c.bytes = 31));
        assert!(e.contains("the sidecar says 3 (31)"), "{e}");
        let e = refused(&|m| set(m, "orders.2024", |c| c.sha256 = Some("x".into())));
        assert!(e.contains("orders.2024: checksum mismatch"), "{e}");
        let e = refused(&|m| set(m, "paid", |c| c.metadata_sha256 = "x".into()));
        assert!(e.contains("paid: checksum mismatch"), "{e}");
        let e = refused(&|m| {
            let mut extra = m.collections[0].clone();
            extra.name = "ghost".into();
            m.collections.push(extra);
        });
        assert!(e.contains("collection ghost: not in the archive, the sidecar lists it"), "{e}");
        let e = refused(&|m| m.collections.retain(|c| c.name != "paid"));
        assert!(e.contains("collection paid is in the archive, not in the sidecar"), "{e}");
    }
}
