//! Reading and verifying archives as a stream: gzip (multi-member) → tar → members.
//!
//! [`verify`] checks every member against the archive's manifest (and the sidecar's, when
//! given): document counts, byte counts, sha256, that every `.bson` is a sequence of valid BSON
//! documents, that metadata is JSON, and that no member is unsafe (absolute paths, `..`, links).
//! Memory stays bounded by the largest document (16 MiB), whatever the archive size.

use std::collections::BTreeMap;
use std::io::{self, BufRead as _, Read};

use bson::RawDocument;
use sha2::{Digest, Sha256};

use super::foreign;
use super::layout::{self, CollectionMetadata};
use super::manifest::Manifest;
pub use crate::digest::{MemberStats, SetDigest};
use crate::files::hex;

/// Largest BSON document accepted in an archive (the server's 16 MiB plus command overhead).
pub const MAX_DOCUMENT: usize = 16 * 1024 * 1024 + 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive is damaged or does not match its manifest: exit 6.
    #[error("{0}")]
    Corrupt(String),
    /// Reading failed for a reason outside the archive (disk, network): exit 1.
    #[error("cannot read the archive: {0}")]
    Io(#[from] io::Error),
}

pub(super) fn corrupt(msg: impl Into<String>) -> ArchiveError {
    ArchiveError::Corrupt(msg.into())
}

#[derive(Debug)]
pub struct Verified {
    /// The archive's own manifest, or for a backup mongodump wrote (no manifest), one made
    /// from what was read: counts and SHA-256 as found, `id` and times empty.
    pub manifest: Manifest,
    pub members: usize,
    pub format: foreign::SourceFormat,
}

/// Checks a member path: relative, no `.`/`..`, at most `depth` parts.
pub fn check_member_path(path: &str, depth: usize) -> Result<(), ArchiveError> {
    let parts: Vec<&str> = path.split('/').collect();
    let bad = path.starts_with('/')
        || path.contains('\\')
        || parts.len() > depth
        || parts.iter().any(|p| p.is_empty() || *p == "." || *p == "..");
    if bad { Err(corrupt(format!("unsafe member path {path:?}"))) } else { Ok(()) }
}

/// Validates one BSON document and everything nested in it.
pub fn validate_document(doc: &RawDocument, depth: usize) -> Result<(), String> {
    if depth > 200 {
        return Err("documents nested deeper than 200 levels".into());
    }
    for element in doc {
        let (_, value) = element.map_err(|e| e.to_string())?;
        validate_value(value, depth)?;
    }
    Ok(())
}

fn validate_value(value: bson::RawBsonRef<'_>, depth: usize) -> Result<(), String> {
    match value {
        bson::RawBsonRef::Document(d) => validate_document(d, depth + 1),
        bson::RawBsonRef::Array(a) => {
            if depth > 200 {
                return Err("documents nested deeper than 200 levels".into());
            }
            for item in a {
                validate_value(item.map_err(|e| e.to_string())?, depth + 1)?;
            }
            Ok(())
        }
        bson::RawBsonRef::JavaScriptCodeWithScope(c) => validate_document(c.scope, depth + 1),
        _ => Ok(()),
    }
}

/// Reads concatenated BSON documents, validating each, and calls `each` with its bytes.
pub fn read_documents<R: Read>(
    mut r: R,
    member: &str,
    mut each: impl FnMut(&[u8]) -> Result<(), ArchiveError>,
) -> Result<MemberStats, ArchiveError> {
    let mut stats = MemberStats::default();
    let mut hasher = Sha256::new();
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        let mut len_bytes = [0u8; 4];
        match read_full(&mut r, &mut len_bytes)? {
            0 => break,
            4 => {}
            n => {
                return Err(corrupt(format!(
                    "{member}: truncated after document {} ({n} stray bytes)",
                    stats.documents
                )));
            }
        }
        read_document(&mut r, len_bytes, &mut buf, member, stats.documents + 1)?;
        hasher.update(&buf);
        stats.documents += 1;
        stats.bytes += buf.len() as u64;
        each(&buf)?;
    }
    stats.sha256 = hex(&hasher.finalize());
    Ok(stats)
}

/// Reads the rest of a document whose first four bytes (its length) were read, into `buf`
/// (all of it, length included), and validates it; `number` counts from 1, for messages.
pub(super) fn read_document<R: Read>(
    r: &mut R,
    len_bytes: [u8; 4],
    buf: &mut Vec<u8>,
    member: &str,
    number: u64,
) -> Result<(), ArchiveError> {
    let len = i32::from_le_bytes(len_bytes);
    let Ok(len) = usize::try_from(len) else {
        return Err(corrupt(format!("{member}: document {number} has a negative length")));
    };
    if !(5..=MAX_DOCUMENT).contains(&len) {
        return Err(corrupt(format!("{member}: document {number} claims {len} bytes")));
    }
    buf.clear();
    buf.extend_from_slice(&len_bytes);
    buf.resize(len, 0);
    if read_full(r, &mut buf[4..])? != len - 4 {
        return Err(corrupt(format!("{member}: document {number} is truncated")));
    }
    let doc = RawDocument::from_bytes(buf)
        .map_err(|e| corrupt(format!("{member}: document {number} is not valid BSON: {e}")))?;
    validate_document(doc, 0)
        .map_err(|e| corrupt(format!("{member}: document {number} is not valid BSON: {e}")))
}

pub(super) fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, ArchiveError> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(map_read_error(e)),
        }
    }
    Ok(n)
}

/// An error of the reader the archive comes from (disk, network, cancellation), as opposed to
/// one found in its content.
#[derive(Debug)]
struct SourceError(io::Error);

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Marks the errors of the underlying reader, so that every other error met while reading
/// (gzip, tar, BSON) is known to come from the bytes: a damaged archive.
struct Source<R>(R);

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            // An age payload failing authentication is the archive's fault, not the source's.
            if e.kind() == io::ErrorKind::Interrupted || super::crypt::is_tampered(&e) {
                e
            } else {
                io::Error::new(e.kind(), SourceError(e))
            }
        })
    }
}

/// A read error: from the source (disk, network, cancellation) it is an I/O error; anything
/// else (decompressor, tar parser, truncation) means a damaged archive.
pub fn map_read_error(e: io::Error) -> ArchiveError {
    if e.get_ref().is_some_and(|inner| inner.downcast_ref::<SourceError>().is_some()) {
        let inner = e.into_inner().expect("checked").downcast::<SourceError>().expect("checked");
        return ArchiveError::Io(inner.0);
    }
    corrupt(format!("damaged archive: {e}"))
}

/// What [`walk`] reports to its visitor, in archive order.
#[derive(Debug)]
pub enum Event {
    /// Sent first by a stream whose collections interleave (mongodump's archive format):
    /// documents of several collections arrive before any of them ends.
    Interleaved,
    /// A collection's `.metadata.json`, parsed and checked.
    Metadata { collection: String, metadata: CollectionMetadata },
    /// A `.bson` member begins.
    DataStart { collection: String },
    /// Up to `BATCH_DOCS` documents or `BATCH_BYTES` bytes of the current `.bson` member.
    Batch { collection: String, docs: Vec<bson::RawDocumentBuf> },
    /// The member ended; its stats and an order-independent digest of its documents.
    DataEnd { collection: String, stats: MemberStats, digest: String },
}

pub const BATCH_DOCS: usize = 1000;
pub const BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Collection name of a `<db>/<escaped>.bson` or `.metadata.json` member.
pub fn collection_of(path: &str, suffix: &str) -> Result<String, ArchiveError> {
    let file = path.rsplit('/').next().unwrap_or(path);
    let escaped = file.strip_suffix(suffix).unwrap_or(file);
    super::names::unescape_collection(escaped)
        .ok_or_else(|| corrupt(format!("member {path:?} has a malformed collection name")))
}

/// Streams the whole archive and checks it against its own manifest and, if given, the
/// sidecar's. Returns the first problem found.
pub fn verify<R: Read + Send>(
    reader: R,
    expected: Option<&Manifest>,
) -> Result<Verified, ArchiveError> {
    walk(reader, expected, false, |_| Ok(()))
}

/// Streams the archive, checking it as [`verify`] does, and hands each collection's metadata
/// and (with `documents`) its documents in batches to `visit`, in archive order.
///
/// The stream may be a daraa-ops archive or a backup mongodump wrote (see [`foreign`]): the
/// first bytes tell gzip or not, the first decoded bytes tell a tar from mongodump's archive
/// format. Decompression runs on its own thread, ahead of the tar, BSON and SHA-256 work on
/// this one (about half of the time each): verify and restore use both cores.
pub fn walk<R: Read + Send>(
    reader: R,
    expected: Option<&Manifest>,
    documents: bool,
    visit: impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<Verified, ArchiveError> {
    let mut raw = io::BufReader::with_capacity(1 << 20, Source(reader));
    let gzip = raw.fill_buf().map_err(map_read_error)?.starts_with(&[0x1f, 0x8b]);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(4);
        let (free_tx, free_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        scope.spawn(move || {
            let mut input: Box<dyn Read + Send> =
                if gzip { Box::new(flate2::read::MultiGzDecoder::new(raw)) } else { Box::new(raw) };
            loop {
                let mut buf = free_rx.try_recv().unwrap_or_default();
                buf.resize(DECODED_CHUNK, 0);
                let mut n = 0;
                let result = loop {
                    match input.read(&mut buf[n..]) {
                        Ok(0) => break Ok(()),
                        Ok(k) => {
                            n += k;
                            if n == buf.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                buf.truncate(n);
                let end = n < DECODED_CHUNK || result.is_err();
                if n > 0 && tx.send(Ok(buf)).is_err() {
                    return;
                }
                if let Err(e) = result {
                    let _ = tx.send(Err(e));
                    return;
                }
                if end {
                    return;
                }
            }
        });
        let mut decoded = ChannelReader { rx, free: free_tx, current: Vec::new(), pos: 0 };
        let mut head = Vec::with_capacity(512);
        (&mut decoded).take(512).read_to_end(&mut head).map_err(map_read_error)?;
        let shape = foreign::detect(&head);
        let stream = io::Cursor::new(head).chain(decoded);
        match shape {
            foreign::Shape::Tar => walk_tar(stream, expected, documents, visit),
            foreign::Shape::MongodumpArchive => {
                let found = foreign::walk_mongodump_archive(stream, documents, visit)?;
                match expected {
                    Some(m) => foreign::compare_with_sidecar(&found, m),
                    None => Ok(found),
                }
            }
            foreign::Shape::Unknown(what) => Err(corrupt(format!(
                "not a backup: {}{what}; expected a daraa-ops .tar.gz, a mongodump --archive file (gzip'd or not), a mongodump --out directory, or a tar(.gz) of one",
                if gzip { "gzip-compressed " } else { "" }
            ))),
        }
    })
}

/// Bytes per chunk handed from the decompression thread.
const DECODED_CHUNK: usize = 1 << 20;

/// The consuming end of the decompression thread; emptied buffers go back for reuse.
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    free: std::sync::mpsc::Sender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            match self.rx.recv() {
                Ok(Ok(next)) => {
                    let done = std::mem::replace(&mut self.current, next);
                    let _ = self.free.send(done);
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Where a tar member belongs, once its path is understood.
enum Member {
    Prelude,
    Manifest,
    /// `stem` is `<db>/<escaped name>`, shared by a collection's two members.
    Metadata {
        db: String,
        collection: String,
        stem: String,
        gzip: bool,
    },
    Data {
        db: String,
        collection: String,
        stem: String,
        gzip: bool,
    },
    /// Read past: directories, mongodump's `oplog.bson`.
    Skip,
}

/// Classifies a tar member path. Besides daraa-ops' own layout (`prelude.json`,
/// `<db>/<file>`, `manifest.json`), a tar of a mongodump `--out` folder is read: members may
/// sit under one top-level folder (`dump_20261128/<db>/<file>`), start with `./`, be
/// `--gzip`ped (`.bson.gz`, `.metadata.json.gz`), and directories have entries of their own.
fn classify(path: &str, directory: bool, top: &mut Option<String>) -> Result<Member, ArchiveError> {
    let trimmed = path.strip_prefix("./").unwrap_or(path);
    let trimmed = trimmed.trim_end_matches('/');
    if directory && (trimmed.is_empty() || trimmed == ".") {
        return Ok(Member::Skip);
    }
    check_member_path(trimmed, 3)?;
    if directory {
        return Ok(Member::Skip);
    }
    let mut parts: Vec<&str> = trimmed.split('/').collect();
    if parts.len() == 3 {
        match top {
            Some(t) if t != parts[0] => {
                return Err(corrupt(format!(
                    "member {path:?} is under another top-level folder than {t:?}"
                )));
            }
            Some(_) => {}
            None => *top = Some(parts[0].to_owned()),
        }
        parts.remove(0);
    }
    let file = *parts.last().expect("one part at least");
    if file.strip_suffix(".gz").unwrap_or(file) == layout::PRELUDE {
        return Ok(Member::Prelude);
    }
    if parts.len() == 1 {
        return match file {
            layout::MANIFEST => Ok(Member::Manifest),
            "oplog.bson" | "oplog.bson.gz" => Ok(Member::Skip),
            _ => Err(corrupt(format!("unexpected member {path:?}"))),
        };
    }
    let db = parts[0].to_owned();
    if top.as_deref() == Some(parts[0]) && matches!(file, "oplog.bson" | "oplog.bson.gz") {
        return Ok(Member::Skip);
    }
    let (file, gzip) = match file.strip_suffix(".gz") {
        Some(f) => (f, true),
        None => (file, false),
    };
    if let Some(stem) = file.strip_suffix(layout::METADATA_SUFFIX) {
        let collection = collection_of(file, layout::METADATA_SUFFIX)?;
        Ok(Member::Metadata { stem: format!("{db}/{stem}"), db, collection, gzip })
    } else if let Some(stem) = file.strip_suffix(layout::DATA_SUFFIX) {
        let collection = collection_of(file, layout::DATA_SUFFIX)?;
        Ok(Member::Data { stem: format!("{db}/{stem}"), db, collection, gzip })
    } else {
        Err(corrupt(format!("unexpected member {path:?}")))
    }
}

fn walk_tar<R: Read>(
    decoded: R,
    expected: Option<&Manifest>,
    documents: bool,
    mut visit: impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<Verified, ArchiveError> {
    let mut tar = tar::Archive::new(decoded);
    let mut data: BTreeMap<String, MemberStats> = BTreeMap::new();
    let mut metadata: BTreeMap<String, String> = BTreeMap::new();
    let mut manifest: Option<Manifest> = None;
    // Set by a daraa-ops prelude or a sidecar: such an archive must end with its manifest.
    let mut ours = expected.is_some();
    let mut top: Option<String> = None;
    let mut found = foreign::Found::default();
    // A collection's name as its metadata gives it (`collectionName`), by member stem: file
    // names are escaped, and tools have escaped them differently over time.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut members = 0;
    for entry in tar.entries().map_err(map_read_error)? {
        let mut entry = entry.map_err(map_read_error)?;
        members += 1;
        let path = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| corrupt("a member name is not valid UTF-8"))?;
        let kind = entry.header().entry_type();
        let directory = kind == tar::EntryType::Directory;
        let member = classify(&path, directory, &mut top)?;
        if directory {
            continue;
        }
        if kind != tar::EntryType::Regular {
            return Err(corrupt(format!(
                "member {path:?} is not a regular file (links are refused)"
            )));
        }
        if manifest.is_some() {
            return Err(corrupt(format!(
                "member {path:?} follows manifest.json, which must be last"
            )));
        }
        match member {
            Member::Skip => {}
            Member::Manifest => {
                let text = read_small(&mut entry, false, 64 * 1024 * 1024)?;
                let m: Manifest = serde_json::from_slice(&text)
                    .map_err(|e| corrupt(format!("manifest.json is not a valid manifest: {e}")))?;
                check_format(&m)?;
                manifest = Some(m);
            }
            Member::Prelude => {
                let text = read_small(&mut entry, path.ends_with(".gz"), 1024 * 1024)?;
                let prelude = serde_json::from_slice::<serde_json::Value>(&text)
                    .map_err(|e| corrupt(format!("{path}: {e}")))?;
                let tool = prelude["ToolVersion"].as_str().unwrap_or_default();
                ours |= tool.starts_with("daraa-ops");
                found.versions(prelude["ServerVersion"].as_str().unwrap_or_default(), tool);
            }
            Member::Metadata { db, collection, stem, gzip } => {
                if !ours && !found.database(&db)? {
                    continue;
                }
                let text = read_small(&mut entry, gzip, 64 * 1024 * 1024)?;
                let parsed = CollectionMetadata::parse(&path, &collection, &text)?;
                let collection = parsed.name.clone();
                names.insert(stem, collection.clone());
                let sha = hex(&Sha256::digest(&text));
                metadata.insert(path.clone(), sha.clone());
                found.metadata(&collection, &parsed, sha);
                visit(Event::Metadata { collection, metadata: parsed })?;
            }
            Member::Data { db, collection, stem, gzip } => {
                if !ours && !found.database(&db)? {
                    continue;
                }
                let collection = names.get(&stem).cloned().unwrap_or(collection);
                let claimed = entry.header().size().map_err(map_read_error)?;
                let stats = read_collection(
                    member_reader(&mut entry, gzip),
                    &path,
                    &collection,
                    documents,
                    &mut visit,
                )?;
                if !gzip && stats.bytes != claimed {
                    return Err(corrupt(format!(
                        "{path} is truncated: {} of the {claimed} bytes its header claims",
                        stats.bytes
                    )));
                }
                found.data(&collection, &stats)?;
                data.insert(path, stats);
            }
        }
    }
    // Read to the end of the gzip stream: the tar reader stops at its end blocks, and damage in
    // the padding or in the last member's CRC would otherwise go unnoticed.
    let mut rest = tar.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(map_read_error)?;
    let Some(manifest) = manifest else {
        if ours {
            return Err(corrupt("manifest.json is missing: the archive is incomplete"));
        }
        return found.into_verified(foreign::SourceFormat::MongodumpDirectory, members);
    };
    if let Some(expected) = expected
        && expected != &manifest
    {
        return Err(corrupt("the archive's manifest.json differs from its sidecar manifest"));
    }
    compare(&manifest, &data, &metadata)?;
    Ok(Verified { manifest, members, format: foreign::SourceFormat::Daraa })
}

/// A small member (JSON) whole, at most `limit` bytes of it.
fn read_small<R: Read>(entry: &mut R, gzip: bool, limit: u64) -> Result<Vec<u8>, ArchiveError> {
    let mut text = Vec::new();
    member_reader(entry, gzip).take(limit).read_to_end(&mut text).map_err(map_read_error)?;
    Ok(text)
}

/// A member's bytes, gunzipped when mongodump wrote it with `--gzip`.
fn member_reader<'a, R: Read + 'a>(entry: &'a mut R, gzip: bool) -> Box<dyn Read + 'a> {
    if gzip { Box::new(flate2::read::MultiGzDecoder::new(entry)) } else { Box::new(entry) }
}

/// Reads one collection's documents, handing them to `visit` in batches (with `documents`)
/// between a `DataStart` and a `DataEnd`.
fn read_collection<R: Read>(
    input: R,
    member: &str,
    collection: &str,
    documents: bool,
    visit: &mut impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<MemberStats, ArchiveError> {
    if documents {
        visit(Event::DataStart { collection: collection.to_owned() })?;
    }
    let mut digest = SetDigest::default();
    let mut batch = Batcher::default();
    let stats = read_documents(input, member, |doc| {
        if documents {
            digest.add(doc);
            if let Some(docs) = batch.push(doc, member)? {
                visit(Event::Batch { collection: collection.to_owned(), docs })?;
            }
        }
        Ok(())
    })?;
    if documents {
        if let Some(docs) = batch.take() {
            visit(Event::Batch { collection: collection.to_owned(), docs })?;
        }
        visit(Event::DataEnd {
            collection: collection.to_owned(),
            stats: stats.clone(),
            digest: digest.hex(),
        })?;
    }
    Ok(stats)
}

/// Collects documents into batches of at most `BATCH_DOCS` documents or `BATCH_BYTES` bytes.
#[derive(Default)]
pub(super) struct Batcher {
    docs: Vec<bson::RawDocumentBuf>,
    bytes: usize,
}

impl Batcher {
    /// Adds a document; returns a full batch.
    pub(super) fn push(
        &mut self,
        doc: &[u8],
        member: &str,
    ) -> Result<Option<Vec<bson::RawDocumentBuf>>, ArchiveError> {
        self.bytes += doc.len();
        self.docs.push(
            bson::RawDocumentBuf::from_bytes(doc.to_vec())
                .map_err(|e| corrupt(format!("{member}: {e}")))?,
        );
        Ok(if self.docs.len() >= BATCH_DOCS || self.bytes >= BATCH_BYTES {
            self.take()
        } else {
            None
        })
    }

    /// What is left, if anything.
    pub(super) fn take(&mut self) -> Option<Vec<bson::RawDocumentBuf>> {
        self.bytes = 0;
        if self.docs.is_empty() { None } else { Some(std::mem::take(&mut self.docs)) }
    }
}

/// A manifest of another format, or of a newer version of this one, is refused rather than
/// read as if it were this version.
fn check_format(m: &Manifest) -> Result<(), ArchiveError> {
    use super::manifest::{FORMAT, FORMAT_VERSION};
    if m.format != FORMAT {
        return Err(corrupt(format!(
            "manifest.json is of format {:?}, not {FORMAT:?}: not a daraa-ops backup",
            m.format
        )));
    }
    if m.format_version > FORMAT_VERSION {
        return Err(corrupt(format!(
            "archive format version {} is newer than this daraa-ops {} reads (version {FORMAT_VERSION}): upgrade daraa-ops to read it",
            m.format_version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(())
}

fn compare(
    manifest: &Manifest,
    data: &BTreeMap<String, MemberStats>,
    metadata: &BTreeMap<String, String>,
) -> Result<(), ArchiveError> {
    let mut seen_data = 0;
    for c in &manifest.collections {
        let meta = metadata.get(&c.metadata_file).ok_or_else(|| {
            corrupt(format!("collection {}: member {} is missing", c.name, c.metadata_file))
        })?;
        if *meta != c.metadata_sha256 {
            return Err(corrupt(format!(
                "collection {}: checksum mismatch in {}",
                c.name, c.metadata_file
            )));
        }
        let Some(file) = &c.data_file else { continue };
        seen_data += 1;
        let got = data
            .get(file)
            .ok_or_else(|| corrupt(format!("collection {}: member {file} is missing", c.name)))?;
        if got.documents != c.documents {
            return Err(corrupt(format!(
                "collection {}: {} documents in {file}, manifest says {}",
                c.name, got.documents, c.documents
            )));
        }
        if got.bytes != c.bytes {
            return Err(corrupt(format!(
                "collection {}: {} bytes in {file}, manifest says {}",
                c.name, got.bytes, c.bytes
            )));
        }
        if Some(&got.sha256) != c.sha256.as_ref() {
            return Err(corrupt(format!("collection {}: checksum mismatch in {file}", c.name)));
        }
    }
    if seen_data != data.len() || manifest.collections.len() != metadata.len() {
        let extra = data
            .keys()
            .find(|k| {
                !manifest.collections.iter().any(|c| c.data_file.as_deref() == Some(k.as_str()))
            })
            .or_else(|| {
                metadata
                    .keys()
                    .find(|k| !manifest.collections.iter().any(|c| &c.metadata_file == *k))
            });
        return Err(corrupt(format!(
            "member {} is not in the manifest",
            extra.map_or("?", String::as_str)
        )));
    }
    Ok(())
}
