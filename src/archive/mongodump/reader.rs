//! The walker of MongoDB's archive format: the prelude's metadata, then interleaved segments,
//! each namespace's documents checked against the CRC-64 of its end header.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;

use bson::RawDocument;
use sha2::{Digest as _, Sha256};

use super::{CRC64, MAGIC, OPLOG, TERMINATOR};
use crate::archive::bson::{ArchiveError, corrupt, read_document, read_full};
use crate::archive::event::{Batcher, Event, Verified};
use crate::archive::format::SourceFormat;
use crate::archive::found::{Found, compare_with_sidecar};
use crate::archive::manifest::Manifest;
use crate::archive::metadata::CollectionMetadata;
use crate::digest::{MemberStats, SetDigest};
use crate::files::hex;

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
    /// The oplog's namespace: its documents go to the visitor as [`Event::Oplog`].
    oplog: bool,
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
                if !s.oplog {
                    self.set.add(buf);
                }
                if let Some(docs) = self.batch.push(buf, s.member)? {
                    visit(if s.oplog {
                        Event::Oplog { docs }
                    } else {
                        Event::Batch { collection: s.collection.to_owned(), docs }
                    })?;
                }
            }
        }
    }

    /// The namespace's end marker: its CRC-64 checked, its stats to `found`, its last batch
    /// and end to the visitor.
    fn end<R: Read>(
        &mut self,
        r: &mut R,
        buf: &mut Vec<u8>,
        s: &Segment<'_>,
        crc: i64,
        found: &mut Found,
        visit: &mut impl FnMut(Event) -> Result<(), ArchiveError>,
    ) -> Result<(), ArchiveError> {
        if !matches!(next(r, buf, s.member, 0)?, Next::Terminator) {
            return Err(corrupt(format!("{}: no terminator after its end marker", s.member)));
        }
        self.ended = true;
        let got = std::mem::replace(&mut self.crc, CRC64.digest()).finalize();
        if got as i64 != crc {
            return Err(corrupt(format!(
                "{}: CRC-64 mismatch (the archive says {:016x}, its documents give {got:016x})",
                s.member, crc as u64
            )));
        }
        if !s.wanted {
            return Ok(());
        }
        self.stats.sha256 = hex(&std::mem::take(&mut self.sha).finalize());
        let last = if s.documents { self.batch.take() } else { None };
        if s.oplog {
            if let Some(docs) = last {
                visit(Event::Oplog { docs })?;
            }
            return found.oplog(&self.stats);
        }
        if s.documents {
            if let Some(docs) = last {
                visit(Event::Batch { collection: s.collection.to_owned(), docs })?;
            }
            visit(Event::DataEnd {
                collection: s.collection.to_owned(),
                stats: self.stats.clone(),
                digest: self.set.hex(),
            })?;
        }
        found.data(s.collection, &self.stats)
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

/// A namespace: database and collection.
type Ns = (String, String);

/// The archive's prelude: every namespace's metadata, then a terminator. Returns the
/// namespaces (collections of the backup's database, not views; the oplog) whose end markers
/// must come.
fn read_prelude<R: Read>(
    r: &mut R,
    buf: &mut Vec<u8>,
    found: &mut Found,
    visit: &mut impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<BTreeSet<Ns>, ArchiveError> {
    let mut expected: BTreeSet<Ns> = BTreeSet::new();
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
        if (db, collection) == OPLOG {
            expected.insert((db.to_owned(), collection.to_owned()));
            continue;
        }
        if !found.database(db)? {
            continue;
        }
        let what = format!("metadata of {db}.{collection}");
        let json = text(doc, "metadata", &what)?;
        let parsed = CollectionMetadata::parse(&what, collection, json.as_bytes())?;
        if !parsed.is_view() {
            expected.insert((db.to_owned(), collection.to_owned()));
        }
        found.metadata(collection, &parsed, hex(&Sha256::digest(json.as_bytes())));
        visit(Event::Metadata { collection: collection.to_owned(), metadata: parsed })?;
    }
}

/// Reads a mongodump `--archive` stream (decompressed; the magic number is next): checks it
/// as the tar walker checks a tar and hands the same events to `visit`. Segments of several
/// collections interleave, so `Event::Interleaved` comes first.
///
/// With `expected` (the sidecar daraa-ops wrote for it) what was found must be what it says,
/// the oplog's entries included; they go to `visit` only when the sidecar records them (a
/// backup that is point-in-time). A backup mongodump wrote has its `--oplog` read past: it
/// holds every database's entries, which a restore of one database does not replay.
pub(crate) fn walk_mongodump_archive<R: Read>(
    mut r: R,
    expected: Option<&Manifest>,
    documents: bool,
    mut visit: impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<Verified, ArchiveError> {
    let replay = expected.is_some_and(|m| m.oplog.is_some());
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
    let ends = read_prelude(&mut r, &mut buf, &mut found, &mut visit)?;
    visit(Event::Interleaved)?;
    let mut namespaces: HashMap<Ns, Namespace> = HashMap::new();
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
        let oplog = (db.as_str(), collection.as_str()) == OPLOG;
        if oplog && !ends.contains(&(db.clone(), collection.clone())) {
            return Err(corrupt("the oplog's entries are not listed in the archive's prelude"));
        }
        let wanted = oplog || found.database(&db)?;
        let member = if oplog { "the oplog".to_owned() } else { format!("{db}.{collection}") };
        let ns = namespaces.entry((db, collection.clone())).or_insert_with(Namespace::new);
        if ns.ended {
            return Err(corrupt(format!("{member}: data after the collection's end marker")));
        }
        if wanted && documents && !oplog && !ns.started {
            visit(Event::DataStart { collection: collection.clone() })?;
        }
        ns.started = true;
        let segment = Segment {
            member: &member,
            collection: &collection,
            wanted,
            documents: documents && (!oplog || replay),
            oplog,
        };
        if eof {
            ns.end(&mut r, &mut buf, &segment, crc, &mut found, &mut visit)?;
            continue;
        }
        ns.read_segment(&mut r, &mut buf, &segment, &mut visit)?;
    }
    if let Some((db, c)) = ends.iter().find(|ns| namespaces.get(*ns).is_none_or(|n| !n.ended)) {
        let what = if (db.as_str(), c.as_str()) == OPLOG { "the oplog" } else { "collection" };
        let name = if db.is_empty() { String::new() } else { format!(" {c}") };
        return Err(corrupt(format!("{what}{name} has no end marker: the archive is truncated")));
    }
    let members = namespaces.len();
    let oplog = found.take_oplog();
    let verified = found.into_verified(SourceFormat::MongodumpArchive, members)?;
    match expected {
        Some(m) => compare_with_sidecar(&verified, oplog.as_ref(), m),
        None => Ok(verified),
    }
}
