//! The bottom of every reader: BSON documents read one at a time from a stream and checked,
//! and the one error type of the archive code, which tells a damaged archive (exit 6) from a
//! source that failed (disk, network: exit 1).

use std::io::{self, Read};

use bson::RawDocument;
use sha2::{Digest as _, Sha256};

use crate::digest::MemberStats;
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

pub(crate) fn corrupt(msg: impl Into<String>) -> ArchiveError {
    ArchiveError::Corrupt(msg.into())
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
pub(crate) fn read_document<R: Read>(
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

pub(crate) fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, ArchiveError> {
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
pub(crate) struct Source<R>(pub(crate) R);

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
