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
/// the metadata).
pub(crate) fn compare_with_sidecar(
    found: &Verified,
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
    Ok(Verified {
        manifest: expected.clone(),
        members: found.members,
        format: SourceFormat::DaraaArchive,
    })
}
