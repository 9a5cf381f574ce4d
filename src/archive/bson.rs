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

#[cfg(test)]
mod tests {
    use bson::{RawDocumentBuf, doc};

    use super::*;

    /// `levels` documents nested one in another under the top one (`{a: {a: …}}`).
    fn nested(levels: usize, array: bool) -> Vec<u8> {
        let mut d = doc! {"x": 1};
        for _ in 0..levels {
            d = if array {
                doc! {"a": [d]}
            } else {
                doc! {"a": d}
            };
        }
        RawDocumentBuf::try_from(&d).unwrap().into_bytes()
    }

    fn check(bytes: &[u8]) -> Result<(), String> {
        validate_document(RawDocument::from_bytes(bytes).unwrap(), 0)
    }

    /// Documents nest up to 200 levels below the top one, through documents or arrays (an
    /// array and the document in it are two levels); deeper is refused.
    #[test]
    fn nesting_is_refused_past_two_hundred_levels() {
        assert_eq!(check(&nested(200, false)), Ok(()));
        let deep = check(&nested(201, false)).unwrap_err();
        assert_eq!(deep, "documents nested deeper than 200 levels");
        assert_eq!(check(&nested(100, true)), Ok(()));
        assert!(check(&nested(101, true)).is_err());
        // The scope of code with scope counts as a level too.
        let mut scope = doc! {"x": 1};
        for _ in 0..200 {
            scope = doc! {"a": scope};
        }
        let code = bson::Bson::JavaScriptCodeWithScope(bson::JavaScriptCodeWithScope {
            code: "f()".into(),
            scope,
        });
        let bytes = RawDocumentBuf::try_from(&doc! {"c": code}).unwrap().into_bytes();
        assert!(check(&bytes).is_err(), "a scope 201 levels down");
        // Arrays straight inside arrays: 201 of them (levels 0 to 200) pass, 202 do not.
        let arrays = |n: usize| {
            let mut v = bson::Bson::Int32(1);
            for _ in 0..n {
                v = bson::Bson::Array(vec![v]);
            }
            RawDocumentBuf::try_from(&doc! {"a": v}).unwrap().into_bytes()
        };
        assert_eq!(check(&arrays(201)), Ok(()));
        assert!(check(&arrays(202)).is_err());
    }

    /// What a member's documents add up to, and each refusal naming the document.
    #[test]
    fn documents_are_counted_hashed_and_refused_by_number() {
        let docs: Vec<Vec<u8>> = (0..3)
            .map(|i| RawDocumentBuf::try_from(&doc! {"_id": i, "s": "x".repeat(i as usize)}))
            .map(|d| d.unwrap().into_bytes())
            .collect();
        let all = docs.concat();
        let mut seen = Vec::new();
        let stats = read_documents(&all[..], "m", |d| {
            seen.push(d.to_vec());
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, docs);
        assert_eq!((stats.documents, stats.bytes), (3, all.len() as u64));
        assert_eq!(stats.sha256, hex(&Sha256::digest(&all)));
        let empty = read_documents(&[][..], "m", |_| Ok(())).unwrap();
        assert_eq!(empty.sha256, hex(&Sha256::digest(b"")));

        let refused = |bytes: &[u8]| match read_documents(bytes, "m", |_| Ok(())) {
            Err(ArchiveError::Corrupt(m)) => m,
            other => panic!("{other:?}"),
        };
        let stray = [&all[..], &[1, 2][..]].concat();
        assert_eq!(refused(&stray), "m: truncated after document 3 (2 stray bytes)");
        let cut = &all[..all.len() - 1];
        assert_eq!(refused(cut), "m: document 3 is truncated");
        assert_eq!(refused(&(-1_i32).to_le_bytes()), "m: document 1 has a negative length");
        assert_eq!(refused(&4_i32.to_le_bytes()), "m: document 1 claims 4 bytes");
        // The smallest document is five bytes; the largest accepted 16 MiB + 16 KiB.
        let smallest = [5, 0, 0, 0, 0];
        assert_eq!(read_documents(&smallest[..], "m", |_| Ok(())).unwrap().documents, 1);
        let over = 16 * 1024 * 1024 + 16 * 1024 + 1_i32;
        assert_eq!(refused(&over.to_le_bytes()), format!("m: document 1 claims {over} bytes"));
        let at_most = 16 * 1024 * 1024 + 16 * 1024;
        let blob = vec![7_u8; at_most - 13];
        let big = RawDocumentBuf::try_from(
            &doc! {"b": bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: blob }},
        )
        .unwrap()
        .into_bytes();
        assert_eq!(big.len(), at_most);
        assert_eq!(read_documents(&big[..], "m", |_| Ok(())).unwrap().bytes, at_most as u64);
        let bad = [6, 0, 0, 0, 0x10, 0];
        assert!(refused(&bad).starts_with("m: document 1 is not valid BSON"));
    }

    /// A reader interrupted (EINTR) is read again; an error of the source is an I/O error
    /// (exit 1), any other error met while reading means a damaged archive (exit 6).
    #[test]
    fn source_errors_are_io_and_the_rest_is_damage() {
        struct Tampering;
        impl Read for Tampering {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    super::super::crypt::Tampered("modified".into()),
                ))
            }
        }
        struct Flaky(u8);
        impl Read for Flaky {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.0 += 1;
                match self.0 {
                    1 => Err(io::ErrorKind::Interrupted.into()),
                    2 => {
                        buf[..2].copy_from_slice(b"ab");
                        Ok(2)
                    }
                    _ => Err(io::Error::other("disk gone")),
                }
            }
        }
        let mut buf = [0_u8; 2];
        assert_eq!(read_full(&mut Flaky(0), &mut buf).unwrap(), 2);
        assert_eq!(&buf, b"ab");
        let mut source = Source(Flaky(1));
        let mut four = [0_u8; 4];
        match read_full(&mut source, &mut four) {
            Err(ArchiveError::Io(e)) => assert_eq!(e.to_string(), "disk gone"),
            other => panic!("{other:?}"),
        }
        let mut interrupted = Source(Flaky(0));
        let e = interrupted.read(&mut four).unwrap_err();
        assert!(
            e.kind() == io::ErrorKind::Interrupted && e.get_ref().is_none(),
            "passed on as it is, to be retried: {e:?}"
        );
        // An age payload failing authentication is the archive's fault, not the source's.
        match read_full(&mut Source(Tampering), &mut four) {
            Err(ArchiveError::Corrupt(m)) => assert_eq!(m, "damaged archive: modified"),
            other => panic!("{other:?}"),
        }
        match map_read_error(io::Error::other("invalid gzip header")) {
            ArchiveError::Corrupt(m) => assert_eq!(m, "damaged archive: invalid gzip header"),
            other @ ArchiveError::Io(_) => panic!("{other:?}"),
        }
    }

    /// A source's error keeps its message and its cause through the marker, for whoever
    /// shows it before `map_read_error` unwraps it.
    #[test]
    fn a_source_error_reads_as_itself() {
        #[derive(Debug)]
        struct Cause;
        impl std::fmt::Display for Cause {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the cable")
            }
        }
        impl std::error::Error for Cause {}
        #[derive(Debug)]
        struct Failure(Cause);
        impl std::fmt::Display for Failure {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("disk gone")
            }
        }
        impl std::error::Error for Failure {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::BrokenPipe, Failure(Cause)))
            }
        }
        let e = Source(Failing).read(&mut [0; 8]).unwrap_err();
        assert_eq!((e.kind(), e.to_string()), (io::ErrorKind::BrokenPipe, "disk gone".to_owned()));
        let marker = e.get_ref().unwrap();
        assert_eq!(marker.to_string(), "disk gone");
        assert_eq!(marker.source().map(ToString::to_string).as_deref(), Some("the cable"));
        match map_read_error(e) {
            ArchiveError::Io(inner) => assert_eq!(inner.to_string(), "disk gone"),
            ArchiveError::Corrupt(m) => panic!("a source error became damage: {m}"),
        }
    }
}
