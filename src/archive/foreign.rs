//! Backups daraa-ops did not write: what mongodump makes, read by the same walker as ours
//! (docs/archive-format.md, "Reading mongodump's backups").
//!
//! - `mongodump --archive[=file] [--gzip]`: MongoDB's archive format. A magic number, a header
//!   document, one document per namespace with its metadata, a terminator, then segments of
//!   documents of any namespace, interleaved, each namespace closed by an end header that
//!   carries the CRC-64 (ECMA polynomial, as Go's `hash/crc64` computes it) of all its
//!   documents.
//! - `mongodump --out <dir> [--gzip]`: one folder per database with `<coll>.bson[.gz]` and
//!   `<coll>.metadata.json[.gz]`; read from the folder itself or from a tar(.gz) of it, with or
//!   without a top-level folder (the tar walker in `reader` handles the member names).
//!
//! Neither records a checksum a daraa-ops manifest would: what is checked is the structure,
//! every document's BSON, each metadata file, the per-collection counts found and, in the
//! archive format, each namespace's CRC-64. The result is a [`Manifest`] made from what was
//! read, so restore and drill treat both kinds of backup alike.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use bson::RawDocument;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::layout::{self, CollectionMetadata};
use super::manifest::{CollectionEntry, Manifest};
use super::reader::{ArchiveError, Batcher, Event, Verified, corrupt, read_document, read_full};
use crate::digest::{MemberStats, SetDigest};
use crate::files::hex;

/// What kind of backup a stream held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// A daraa-ops `.tar.gz` with its manifest.
    Daraa,
    /// A daraa-ops `.archive.gz` (mongodump's archive format) checked against its sidecar.
    DaraaArchive,
    /// A mongodump `--out` folder, or a tar(.gz) of one.
    MongodumpDirectory,
    /// A mongodump `--archive` stream.
    MongodumpArchive,
}

/// What a backup records to check its documents against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Checksums {
    /// SHA-256 of every member in the manifest (and of the file in the sidecar).
    Sha256,
    /// CRC-64 of every collection's documents (mongodump's archive format).
    Crc64,
    /// Nothing: counts and structure only.
    None,
}

impl SourceFormat {
    pub fn describe(self) -> &'static str {
        match self {
            SourceFormat::Daraa => "daraa-ops archive",
            SourceFormat::DaraaArchive => "daraa-ops archive in mongodump's archive format",
            SourceFormat::MongodumpDirectory => "mongodump --out dump",
            SourceFormat::MongodumpArchive => "mongodump --archive",
        }
    }

    pub fn checksums(self) -> Checksums {
        match self {
            SourceFormat::Daraa | SourceFormat::DaraaArchive => Checksums::Sha256,
            SourceFormat::MongodumpArchive => Checksums::Crc64,
            SourceFormat::MongodumpDirectory => Checksums::None,
        }
    }

    /// The `format` of the manifest made for such a backup.
    fn manifest_format(self) -> &'static str {
        match self {
            SourceFormat::Daraa | SourceFormat::DaraaArchive => super::manifest::FORMAT,
            SourceFormat::MongodumpDirectory => "mongodump-directory",
            SourceFormat::MongodumpArchive => "mongodump-archive",
        }
    }
}

/// The first four bytes of mongodump's archive format (0x8199e26d, little-endian).
pub const MAGIC: [u8; 4] = [0x6d, 0xe2, 0x99, 0x81];
/// Ends the metadata list and every segment: where a document length would be, -1.
pub const TERMINATOR: [u8; 4] = [0xff; 4];

/// CRC-64 with the ECMA-182 polynomial, reflected, all ones in and out: Go's
/// `crc64.Checksum(data, crc64.MakeTable(crc64.ECMA))`, which mongodump uses.
pub static CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_XZ);

/// What the first decoded bytes of a stream are.
pub(super) enum Shape {
    Tar,
    MongodumpArchive,
    /// Neither; says what it looks like instead.
    Unknown(&'static str),
}

pub(super) fn detect(head: &[u8]) -> Shape {
    if head.starts_with(&MAGIC) {
        Shape::MongodumpArchive
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Shape::Tar
    } else {
        Shape::Unknown(looks_like(head))
    }
}

/// A name for what a file that is no backup looks like, for the error message.
fn looks_like(head: &[u8]) -> &'static str {
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if head.is_empty() {
        "an empty file"
    } else if head.iter().all(|b| *b == 0) {
        "only zero bytes (an empty tar or folder, or a file that was never written)"
    } else if head.starts_with(b"PK\x03\x04") {
        "a zip file"
    } else if head.starts_with(b"BZh") {
        "a bzip2 file"
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        "an xz file"
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "a zstd file"
    } else if head.starts_with(&[0x1f, 0x8b]) {
        "gzip inside gzip"
    } else if matches!(first, Some(b'{' | b'[')) {
        "JSON text"
    } else if looks_like_bson(head) {
        "one collection's .bson file (give the mongodump --out folder, or a tar of it)"
    } else if head.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) {
        "text"
    } else {
        "unrecognised binary data"
    }
}

fn looks_like_bson(head: &[u8]) -> bool {
    if head.len() < 5 {
        return false;
    }
    let len = i32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let Some(n) = usize::try_from(len).ok().filter(|n| (5..=16 * 1024 * 1024).contains(n)) else {
        return false;
    };
    let element = matches!(head[4], 0x00..=0x13 | 0x7f | 0xff);
    // The document's last byte is its terminating zero, where the head reaches it.
    let ends = n > head.len() || head[n - 1] == 0;
    element && ends
}

/// A mongodump `--out` folder as a tar stream, made on a thread as it is read, so that the
/// tar walker reads a folder as it reads a tar of it. `dir` is the `--out` folder (a
/// subfolder per database) or one database's folder. Each database's metadata files go
/// first, so that a restore creates every collection with its options before its documents
/// come. Symbolic links go in as links, which the walker refuses.
pub fn directory_stream(dir: PathBuf) -> impl Read + Send {
    crate::files::spawn_reader(move |w| write_directory_tar(&dir, w))
}

fn is_dump_file(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    name.ends_with(layout::DATA_SUFFIX) || name.ends_with(layout::METADATA_SUFFIX)
}

fn sorted_entries(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().into_string().map_err(|n| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("file name {} is not UTF-8", n.display()),
            )
        })?;
        entries.push((name, e.path()));
    }
    entries.sort();
    Ok(entries)
}

fn write_directory_tar(dir: &Path, w: &mut dyn Write) -> io::Result<()> {
    let mut tar = tar::Builder::new(w);
    tar.follow_symlinks(false);
    let entries = sorted_entries(dir)?;
    let one_database = entries.iter().any(|(n, _)| is_dump_file(n) && !n.starts_with("oplog.bson"));
    if one_database {
        let db = dir.file_name().and_then(|n| n.to_str()).unwrap_or("db").to_owned();
        append_database(&mut tar, dir, &db)?;
    } else {
        for (name, path) in entries {
            if std::fs::symlink_metadata(&path)?.is_dir() {
                append_database(&mut tar, &path, &name)?;
            } else {
                tar.append_path_with_name(&path, &name)?;
            }
        }
    }
    tar.finish()
}

fn append_database<W: Write>(tar: &mut tar::Builder<W>, dir: &Path, db: &str) -> io::Result<()> {
    let entries = sorted_entries(dir)?;
    let metadata = |n: &str| n.strip_suffix(".gz").unwrap_or(n).ends_with(layout::METADATA_SUFFIX);
    let (first, rest): (Vec<_>, Vec<_>) = entries.into_iter().partition(|(n, _)| metadata(n));
    for (name, path) in first.into_iter().chain(rest) {
        tar.append_path_with_name(&path, format!("{db}/{name}"))?;
    }
    Ok(())
}

/// One collection as found in a backup without a manifest.
#[derive(Debug, Default)]
struct Found1 {
    metadata: Option<(CollectionMetadata, String)>,
    data: Option<MemberStats>,
}

/// What a backup without a manifest held, collected while it is read.
#[derive(Debug, Default)]
pub(super) struct Found {
    database: Option<String>,
    server_version: String,
    tool_version: String,
    collections: BTreeMap<String, Found1>,
}

/// Databases mongodump dumps but a restore of one database leaves alone.
const SYSTEM_DATABASES: [&str; 3] = ["admin", "config", "local"];

impl Found {
    pub(super) fn versions(&mut self, server: &str, tool: &str) {
        server.clone_into(&mut self.server_version);
        tool.clone_into(&mut self.tool_version);
    }

    /// Whether the members of `db` are read: the backup's one user database is, `admin`,
    /// `config` and `local` are passed over; a second user database is refused.
    pub(super) fn database(&mut self, db: &str) -> Result<bool, ArchiveError> {
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

    pub(super) fn metadata(&mut self, collection: &str, parsed: &CollectionMetadata, sha: String) {
        self.collections.entry(collection.to_owned()).or_default().metadata =
            Some((parsed.clone(), sha));
    }

    pub(super) fn data(
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
    pub(super) fn into_verified(
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
                data_file: (!view).then(|| layout::data_member(&database, &name)),
                metadata_file: layout::metadata_member(&database, &name),
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
        };
        Ok(Verified { manifest, members, format })
    }
}

/// A daraa-ops `.archive.gz` read against its sidecar: what was found must be what the
/// sidecar says, collection by collection (documents, bytes, SHA-256 of the documents and of
/// the metadata).
pub(super) fn compare_with_sidecar(
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

/// What comes next in the archive format.
enum Next {
    Document,
    Terminator,
    End,
}

fn next<R: Read>(
    r: &mut R,
    buf: &mut Vec<u8>,
    what: &str,
    number: u64,
) -> Result<Next, ArchiveError> {
    let mut len = [0u8; 4];
    match read_full(r, &mut len)? {
        0 => return Ok(Next::End),
        4 => {}
        n => return Err(corrupt(format!("{what}: truncated ({n} stray bytes at the end)"))),
    }
    if len == TERMINATOR {
        return Ok(Next::Terminator);
    }
    read_document(r, len, buf, what, number)?;
    Ok(Next::Document)
}

fn text<'a>(doc: &'a RawDocument, key: &str, what: &str) -> Result<&'a str, ArchiveError> {
    doc.get_str(key).map_err(|_| corrupt(format!("{what}: no string field {key:?}")))
}

/// One namespace being read.
struct Namespace {
    crc: crc::Digest<'static, u64>,
    sha: Sha256,
    set: SetDigest,
    stats: MemberStats,
    batch: Batcher,
    started: bool,
    ended: bool,
}

/// Which segment [`Namespace::read_segment`] reads, and what for.
struct Segment<'a> {
    member: &'a str,
    collection: &'a str,
    /// Of the backup's database (not `admin`, `config`, `local`).
    wanted: bool,
    /// Hand the documents to the visitor.
    documents: bool,
}

impl Namespace {
    /// The documents of one segment, to its terminator.
    fn read_segment<R: Read>(
        &mut self,
        r: &mut R,
        buf: &mut Vec<u8>,
        s: &Segment<'_>,
        visit: &mut impl FnMut(Event) -> Result<(), ArchiveError>,
    ) -> Result<(), ArchiveError> {
        loop {
            match next(r, buf, s.member, self.stats.documents + 1)? {
                Next::Terminator => return Ok(()),
                Next::End => {
                    return Err(corrupt(format!(
                        "{}: the archive ends inside a segment",
                        s.member
                    )));
                }
                Next::Document => {}
            }
            self.crc.update(buf);
            if !s.wanted {
                continue;
            }
            self.sha.update(&buf[..]);
            self.stats.documents += 1;
            self.stats.bytes += buf.len() as u64;
            if s.documents {
                self.set.add(buf);
                if let Some(docs) = self.batch.push(buf, s.member)? {
                    visit(Event::Batch { collection: s.collection.to_owned(), docs })?;
                }
            }
        }
    }

    fn new() -> Self {
        Namespace {
            crc: CRC64.digest(),
            sha: Sha256::new(),
            set: SetDigest::default(),
            stats: MemberStats::default(),
            batch: Batcher::default(),
            started: false,
            ended: false,
        }
    }
}

/// The archive's prelude: every namespace's metadata, then a terminator. Returns the
/// collections (not views) whose end markers must come.
fn read_prelude<R: Read>(
    r: &mut R,
    buf: &mut Vec<u8>,
    found: &mut Found,
    visit: &mut impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<BTreeSet<String>, ArchiveError> {
    let mut expected: BTreeSet<String> = BTreeSet::new();
    let mut number = 0;
    loop {
        number += 1;
        match next(r, buf, "the archive's metadata", number)? {
            Next::Terminator => return Ok(expected),
            Next::End => {
                return Err(corrupt("the archive ends inside its metadata: it is truncated"));
            }
            Next::Document => {}
        }
        let doc = RawDocument::from_bytes(buf).map_err(|e| corrupt(e.to_string()))?;
        let (db, collection) = (text(doc, "db", "metadata")?, text(doc, "collection", "metadata")?);
        if !found.database(db)? {
            continue;
        }
        let what = format!("metadata of {db}.{collection}");
        let json = text(doc, "metadata", &what)?;
        let parsed = CollectionMetadata::parse(&what, collection, json.as_bytes())?;
        if !parsed.is_view() {
            expected.insert(collection.to_owned());
        }
        found.metadata(collection, &parsed, hex(&Sha256::digest(json.as_bytes())));
        visit(Event::Metadata { collection: collection.to_owned(), metadata: parsed })?;
    }
}

/// Reads a mongodump `--archive` stream (decompressed; the magic number is next): checks it
/// as `reader::walk` checks a tar and hands the same events to `visit`. Segments of several
/// collections interleave, so `Event::Interleaved` comes first.
pub(super) fn walk_mongodump_archive<R: Read>(
    mut r: R,
    documents: bool,
    mut visit: impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<Verified, ArchiveError> {
    let mut magic = [0u8; 4];
    if read_full(&mut r, &mut magic)? != 4 || magic != MAGIC {
        return Err(corrupt("not a mongodump archive: no magic number"));
    }
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut found = Found::default();
    if !matches!(next(&mut r, &mut buf, "the archive header", 1)?, Next::Document) {
        return Err(corrupt("the archive header is missing: the archive is truncated"));
    }
    let header = RawDocument::from_bytes(&buf).map_err(|e| corrupt(e.to_string()))?;
    let version = text(header, "version", "the archive header")?;
    if version != "0.1" {
        return Err(corrupt(format!(
            "mongodump archive format version {version:?} is not 0.1, the version daraa-ops reads"
        )));
    }
    found.versions(
        header.get_str("server_version").unwrap_or_default(),
        header.get_str("tool_version").unwrap_or_default(),
    );
    let expected = read_prelude(&mut r, &mut buf, &mut found, &mut visit)?;
    visit(Event::Interleaved)?;
    let mut namespaces: HashMap<String, Namespace> = HashMap::new();
    loop {
        match next(&mut r, &mut buf, "a namespace header", 1)? {
            Next::End => break,
            Next::Terminator => {
                return Err(corrupt("a terminator stands where a namespace header belongs"));
            }
            Next::Document => {}
        }
        let header = RawDocument::from_bytes(&buf).map_err(|e| corrupt(e.to_string()))?;
        let db = text(header, "db", "a namespace header")?.to_owned();
        let collection = text(header, "collection", "a namespace header")?.to_owned();
        let eof = header.get_bool("EOF").unwrap_or(false);
        let crc = header.get_i64("CRC").unwrap_or(0);
        let wanted = found.database(&db)?;
        let member = format!("{db}.{collection}");
        let ns = namespaces.entry(collection.clone()).or_insert_with(Namespace::new);
        if ns.ended {
            return Err(corrupt(format!("{member}: data after the collection's end marker")));
        }
        if wanted && documents && !ns.started {
            visit(Event::DataStart { collection: collection.clone() })?;
        }
        ns.started = true;
        if eof {
            if !matches!(next(&mut r, &mut buf, &member, 0)?, Next::Terminator) {
                return Err(corrupt(format!("{member}: no terminator after its end marker")));
            }
            ns.ended = true;
            let got = std::mem::replace(&mut ns.crc, CRC64.digest()).finalize();
            if got as i64 != crc {
                return Err(corrupt(format!(
                    "{member}: CRC-64 mismatch (the archive says {:016x}, its documents give {got:016x})",
                    crc as u64
                )));
            }
            if !wanted {
                continue;
            }
            ns.stats.sha256 = hex(&std::mem::take(&mut ns.sha).finalize());
            if documents {
                if let Some(docs) = ns.batch.take() {
                    visit(Event::Batch { collection: collection.clone(), docs })?;
                }
                visit(Event::DataEnd {
                    collection: collection.clone(),
                    stats: ns.stats.clone(),
                    digest: ns.set.hex(),
                })?;
            }
            found.data(&collection, &ns.stats)?;
            continue;
        }
        let segment = Segment { member: &member, collection: &collection, wanted, documents };
        ns.read_segment(&mut r, &mut buf, &segment, &mut visit)?;
    }
    if let Some(open) = expected.iter().find(|c| namespaces.get(*c).is_none_or(|n| !n.ended)) {
        return Err(corrupt(format!(
            "collection {open} has no end marker: the archive is truncated"
        )));
    }
    let members = namespaces.len();
    found.into_verified(SourceFormat::MongodumpArchive, members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_is_gos_ecma() {
        // Go: crc64.Checksum([]byte("123456789"), crc64.MakeTable(crc64.ECMA)).
        assert_eq!(CRC64.checksum(b"123456789"), 0x995d_c9bb_df19_39fa);
        assert_eq!(CRC64.checksum(b""), 0);
    }

    /// An archive in mongodump's format, written here from its specification: `segments` are
    /// (collection, documents) in stream order; every collection ends after its last segment.
    fn archive(
        segments: &[(&str, Vec<bson::RawDocumentBuf>)],
        crc_of: impl Fn(&str, u64) -> u64,
    ) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        let header = bson::rawdoc! {"concurrent_collections": 4, "version": "0.1", "server_version": "7.0.14", "tool_version": "100.18.0"};
        out.extend_from_slice(header.as_bytes());
        let mut names: Vec<&str> = segments.iter().map(|(n, _)| *n).collect();
        names.dedup();
        names.sort_unstable();
        names.dedup();
        for n in &names {
            let meta = format!(
                r#"{{"options":{{}},"indexes":[{{"v":2,"key":{{"_id":1}},"name":"_id_"}}],"collectionName":"{n}","type":"collection"}}"#
            );
            out.extend_from_slice(
                bson::rawdoc! {"db": "shop", "collection": *n, "metadata": meta, "size": 0}
                    .as_bytes(),
            );
        }
        out.extend_from_slice(&TERMINATOR);
        let mut crcs: HashMap<&str, crc::Digest<'static, u64>> = HashMap::new();
        for (n, docs) in segments {
            out.extend_from_slice(
                bson::rawdoc! {"db": "shop", "collection": *n, "EOF": false, "CRC": 0_i64}
                    .as_bytes(),
            );
            for d in docs {
                out.extend_from_slice(d.as_bytes());
                crcs.entry(n).or_insert_with(|| CRC64.digest()).update(d.as_bytes());
            }
            out.extend_from_slice(&TERMINATOR);
        }
        for n in &names {
            let crc = crcs.remove(n).map_or(0, |d: crc::Digest<'static, u64>| d.finalize());
            let crc = crc_of(n, crc) as i64;
            out.extend_from_slice(
                bson::rawdoc! {"db": "shop", "collection": *n, "EOF": true, "CRC": crc}.as_bytes(),
            );
            out.extend_from_slice(&TERMINATOR);
        }
        out
    }

    fn docs(range: std::ops::Range<i32>) -> Vec<bson::RawDocumentBuf> {
        range.map(|i| bson::rawdoc! {"_id": i, "v": format!("value {i}")}).collect()
    }

    fn read(bytes: &[u8]) -> Result<(Verified, BTreeMap<String, Vec<i32>>), ArchiveError> {
        let mut got: BTreeMap<String, Vec<i32>> = BTreeMap::new();
        let v = super::super::reader::walk(bytes, None, true, |e| {
            if let Event::Batch { collection, docs } = e {
                got.entry(collection)
                    .or_default()
                    .extend(docs.iter().map(|d| d.get_i32("_id").unwrap()));
            }
            Ok(())
        })?;
        Ok((v, got))
    }

    #[test]
    fn interleaved_segments_come_back_per_collection() {
        let bytes = archive(
            &[
                ("orders", docs(0..3)),
                ("users", docs(10..12)),
                ("orders", docs(3..5)),
                ("empty", vec![]),
            ],
            |_, c| c,
        );
        let (v, got) = read(&bytes).unwrap();
        assert_eq!(v.format, SourceFormat::MongodumpArchive);
        assert_eq!(v.manifest.database, "shop");
        assert_eq!(v.manifest.server_version, "7.0.14");
        assert_eq!(got["orders"], vec![0, 1, 2, 3, 4]);
        assert_eq!(got["users"], vec![10, 11]);
        let counts: Vec<(&str, u64)> =
            v.manifest.collections.iter().map(|c| (c.name.as_str(), c.documents)).collect();
        assert_eq!(counts, [("empty", 0), ("orders", 5), ("users", 2)]);
        // Compressed the same stream reads the same.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &bytes).unwrap();
        let (v2, got2) = read(&gz.finish().unwrap()).unwrap();
        assert_eq!((v2.manifest, got2), (v.manifest, got));
    }

    fn corrupt_message(bytes: &[u8]) -> String {
        match read(bytes) {
            Err(ArchiveError::Corrupt(m)) => m,
            other => panic!("expected a damaged archive, got {other:?}"),
        }
    }

    #[test]
    fn damage_is_named() {
        let bad_crc = archive(&[("orders", docs(0..3))], |_, c| c ^ 1);
        assert!(corrupt_message(&bad_crc).contains("shop.orders: CRC-64 mismatch"));
        let good = archive(&[("orders", docs(0..3)), ("users", docs(0..2))], |_, c| c);
        // Cut before the last end marker: users never ends.
        let cut = &good[..good.len() - 50];
        let msg = corrupt_message(cut);
        assert!(msg.contains("truncated") || msg.contains("has no end marker"), "{msg}");
        let mut newer = good.clone();
        let at = newer.windows(3).position(|w| w == b"0.1").unwrap();
        newer[at..at + 3].copy_from_slice(b"9.9");
        assert!(corrupt_message(&newer).contains("version \"9.9\""));
        assert!(corrupt_message(&MAGIC).contains("header is missing"));
    }

    #[test]
    fn unknown_files_are_named() {
        let name = |b: &[u8]| match detect(b) {
            Shape::Unknown(w) => w,
            Shape::Tar => "tar",
            Shape::MongodumpArchive => "archive",
        };
        assert_eq!(name(b""), "an empty file");
        assert_eq!(name(b"PK\x03\x04rest"), "a zip file");
        assert_eq!(name(b"  {\"a\": 1}"), "JSON text");
        assert_eq!(name(b"hello world\n"), "text");
        let bson = bson::rawdoc! {"a": 1}.into_bytes();
        assert!(name(&bson).starts_with("one collection's .bson"));
        assert_eq!(name(&[0x6d, 0xe2, 0x99, 0x81, 0]), "archive");
        assert_eq!(name(&[0x00, 0x01, 0x02, 0x80, 0x90, 0xa0]), "unrecognised binary data");
        // Zero bytes (a zero-filled file, an empty folder's tar) are named, not a panic.
        assert!(name(&[0u8; 512]).starts_with("only zero bytes"));
        assert!(name(&[0u8; 5]).starts_with("only zero bytes"));
        // A length of zero or one too short for any document is no BSON.
        assert_eq!(name(&[0, 0, 0, 0, 1, 9]), "unrecognised binary data");
        assert_eq!(name(&[3, 0, 0, 0, 0x10, 0x80]), "unrecognised binary data");
    }
}
