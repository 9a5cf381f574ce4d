//! Reading and verifying archives as a stream: gzip (multi-member) → tar → members.
//!
//! [`verify`] checks every member against the archive's manifest (and the sidecar's, when
//! given): document counts, byte counts, sha256, that every `.bson` is a sequence of valid BSON
//! documents, that metadata is JSON, and that no member is unsafe (absolute paths, `..`, links).
//! Memory stays bounded by the largest document (16 MiB), whatever the archive size.

use std::collections::BTreeMap;
use std::io::{self, Read};

use bson::RawDocument;
use sha2::{Digest, Sha256};

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

fn corrupt(msg: impl Into<String>) -> ArchiveError {
    ArchiveError::Corrupt(msg.into())
}

#[derive(Debug)]
pub struct Verified {
    pub manifest: Manifest,
    pub members: usize,
}

/// Checks a member path: relative, no `.`/`..`, at most `<dir>/<file>`.
pub fn check_member_path(path: &str) -> Result<(), ArchiveError> {
    let parts: Vec<&str> = path.split('/').collect();
    let bad = path.starts_with('/')
        || path.contains('\\')
        || parts.len() > 2
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
        let len = i32::from_le_bytes(len_bytes);
        let Ok(len) = usize::try_from(len) else {
            return Err(corrupt(format!(
                "{member}: document {} has a negative length",
                stats.documents + 1
            )));
        };
        if !(5..=MAX_DOCUMENT).contains(&len) {
            return Err(corrupt(format!(
                "{member}: document {} claims {len} bytes",
                stats.documents + 1
            )));
        }
        buf.clear();
        buf.extend_from_slice(&len_bytes);
        buf.resize(len, 0);
        if read_full(&mut r, &mut buf[4..])? != len - 4 {
            return Err(corrupt(format!(
                "{member}: document {} is truncated",
                stats.documents + 1
            )));
        }
        let doc = RawDocument::from_bytes(&buf).map_err(|e| {
            corrupt(format!("{member}: document {} is not valid BSON: {e}", stats.documents + 1))
        })?;
        validate_document(doc, 0).map_err(|e| {
            corrupt(format!("{member}: document {} is not valid BSON: {e}", stats.documents + 1))
        })?;
        hasher.update(&buf);
        stats.documents += 1;
        stats.bytes += len as u64;
        each(&buf)?;
    }
    stats.sha256 = hex(&hasher.finalize());
    Ok(stats)
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, ArchiveError> {
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
            if e.kind() == io::ErrorKind::Interrupted {
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
/// Decompression runs on its own thread, ahead of the tar, BSON and SHA-256 work on this one
/// (about half of the time each): verify and restore use both cores.
pub fn walk<R: Read + Send>(
    reader: R,
    expected: Option<&Manifest>,
    documents: bool,
    visit: impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<Verified, ArchiveError> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(4);
        let (free_tx, free_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        scope.spawn(move || {
            let mut gz = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(
                1 << 20,
                Source(reader),
            ));
            loop {
                let mut buf = free_rx.try_recv().unwrap_or_default();
                buf.resize(DECODED_CHUNK, 0);
                let mut n = 0;
                let result = loop {
                    match gz.read(&mut buf[n..]) {
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
        let decoded = ChannelReader { rx, free: free_tx, current: Vec::new(), pos: 0 };
        walk_decoded(decoded, expected, documents, visit)
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

fn walk_decoded<R: Read>(
    decoded: R,
    expected: Option<&Manifest>,
    documents: bool,
    mut visit: impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<Verified, ArchiveError> {
    let mut tar = tar::Archive::new(decoded);
    let mut data: BTreeMap<String, MemberStats> = BTreeMap::new();
    let mut metadata: BTreeMap<String, String> = BTreeMap::new();
    let mut manifest: Option<Manifest> = None;
    let mut members = 0;
    for entry in tar.entries().map_err(map_read_error)? {
        let mut entry = entry.map_err(map_read_error)?;
        members += 1;
        let path = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| corrupt("a member name is not valid UTF-8"))?;
        check_member_path(&path)?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(corrupt(format!(
                "member {path:?} is not a regular file (links are refused)"
            )));
        }
        if manifest.is_some() {
            return Err(corrupt(format!(
                "member {path:?} follows manifest.json, which must be last"
            )));
        }
        if path == layout::MANIFEST {
            let mut text = Vec::new();
            (&mut entry).take(64 * 1024 * 1024).read_to_end(&mut text).map_err(map_read_error)?;
            let m: Manifest = serde_json::from_slice(&text)
                .map_err(|e| corrupt(format!("manifest.json is not a valid manifest: {e}")))?;
            check_format(&m)?;
            manifest = Some(m);
        } else if path == layout::PRELUDE {
            let mut text = Vec::new();
            (&mut entry).take(1024 * 1024).read_to_end(&mut text).map_err(map_read_error)?;
            serde_json::from_slice::<serde_json::Value>(&text)
                .map_err(|e| corrupt(format!("prelude.json: {e}")))?;
        } else if path.ends_with(layout::METADATA_SUFFIX) {
            let mut text = Vec::new();
            (&mut entry).take(64 * 1024 * 1024).read_to_end(&mut text).map_err(map_read_error)?;
            let collection = collection_of(&path, layout::METADATA_SUFFIX)?;
            let parsed = CollectionMetadata::parse(&path, &collection, &text)?;
            metadata.insert(path.clone(), hex(&Sha256::digest(&text)));
            visit(Event::Metadata { collection, metadata: parsed })?;
        } else if path.ends_with(layout::DATA_SUFFIX) {
            let collection = collection_of(&path, layout::DATA_SUFFIX)?;
            let claimed = entry.header().size().map_err(map_read_error)?;
            if documents {
                visit(Event::DataStart { collection: collection.clone() })?;
            }
            let mut digest = SetDigest::default();
            let mut batch: Vec<bson::RawDocumentBuf> = Vec::new();
            let mut batch_bytes = 0;
            let stats = read_documents(&mut entry, &path, |doc| {
                if documents {
                    digest.add(doc);
                    batch_bytes += doc.len();
                    batch.push(
                        bson::RawDocumentBuf::from_bytes(doc.to_vec())
                            .map_err(|e| corrupt(format!("{path}: {e}")))?,
                    );
                    if batch.len() >= BATCH_DOCS || batch_bytes >= BATCH_BYTES {
                        batch_bytes = 0;
                        visit(Event::Batch {
                            collection: collection.clone(),
                            docs: std::mem::take(&mut batch),
                        })?;
                    }
                }
                Ok(())
            })?;
            if stats.bytes != claimed {
                return Err(corrupt(format!(
                    "{path} is truncated: {} of the {claimed} bytes its header claims",
                    stats.bytes
                )));
            }
            if documents {
                if !batch.is_empty() {
                    visit(Event::Batch { collection: collection.clone(), docs: batch })?;
                }
                visit(Event::DataEnd { collection, stats: stats.clone(), digest: digest.hex() })?;
            }
            data.insert(path, stats);
        } else {
            return Err(corrupt(format!("unexpected member {path:?}")));
        }
    }
    // Read to the end of the gzip stream: the tar reader stops at its end blocks, and damage in
    // the padding or in the last member's CRC would otherwise go unnoticed.
    let mut rest = tar.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(map_read_error)?;
    let manifest =
        manifest.ok_or_else(|| corrupt("manifest.json is missing: the archive is incomplete"))?;
    if let Some(expected) = expected
        && expected != &manifest
    {
        return Err(corrupt("the archive's manifest.json differs from its sidecar manifest"));
    }
    compare(&manifest, &data, &metadata)?;
    Ok(Verified { manifest, members })
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
