//! Writing MongoDB's archive format, what `mongodump --archive` writes and
//! `mongorestore --archive` reads (the reader is [`super::reader`]; the layout is described
//! in [`super`] and in docs/archive-format.md): a prelude with every collection's
//! metadata, then segments of documents of any collection, interleaved as the dumps produce
//! them, each collection closed by an end header carrying the CRC-64 of its documents. Unlike a
//! tar member, nothing needs a size in advance, so a backup streams as it is dumped.

use std::io::{self, Write};

use super::{MAGIC, OPLOG, TERMINATOR};

/// One collection in the prelude.
#[derive(Debug, Clone)]
pub struct PreludeEntry {
    pub collection: String,
    /// The collection's `metadata.json` text (canonical Extended JSON).
    pub metadata: String,
    /// `collection`, `view` or `timeseries`.
    pub kind: String,
}

pub struct InterleavedWriter<W: Write> {
    out: W,
    db: String,
}

impl<W: Write> InterleavedWriter<W> {
    pub fn new(out: W, db: &str) -> Self {
        InterleavedWriter { out, db: db.to_owned() }
    }

    fn doc(&mut self, d: &bson::RawDocumentBuf) -> io::Result<()> {
        self.out.write_all(d.as_bytes())
    }

    /// The magic number, the header, each collection's metadata, the oplog's entry (with
    /// `oplog`: database `""`, collection `oplog`, no metadata, as `mongodump --oplog` lists
    /// it), the terminator.
    pub fn prelude(
        &mut self,
        server_version: &str,
        concurrent_collections: usize,
        collections: &[PreludeEntry],
        oplog: bool,
    ) -> io::Result<()> {
        self.out.write_all(&MAGIC)?;
        self.doc(&bson::rawdoc! {
            "concurrent_collections": i32::try_from(concurrent_collections).unwrap_or(i32::MAX),
            "version": "0.1",
            "server_version": server_version,
            "tool_version": format!("daraa-ops {}", env!("CARGO_PKG_VERSION")),
        })?;
        for c in collections {
            self.doc(&bson::rawdoc! {
                "db": self.db.as_str(),
                "collection": c.collection.as_str(),
                "metadata": c.metadata.as_str(),
                "size": 0_i32,
                "type": c.kind.as_str(),
            })?;
        }
        if oplog {
            let (db, collection) = OPLOG;
            self.doc(&bson::rawdoc! {
                "db": db, "collection": collection, "metadata": "", "size": 0_i32, "type": "",
            })?;
        }
        self.out.write_all(&TERMINATOR)
    }

    /// One segment: `documents` are concatenated BSON documents of `collection`.
    pub fn segment(&mut self, collection: &str, documents: &[u8]) -> io::Result<()> {
        segment(&mut self.out, &self.db, collection, documents)
    }

    /// The end of a collection, with the CRC-64 of all its documents.
    pub fn end(&mut self, collection: &str, crc: u64) -> io::Result<()> {
        end(&mut self.out, &self.db, collection, crc)
    }

    /// One segment of the oplog's entries (after every collection, as mongodump writes them).
    pub fn oplog_segment(&mut self, entries: &[u8]) -> io::Result<()> {
        segment(&mut self.out, OPLOG.0, OPLOG.1, entries)
    }

    /// The end of the oplog, with the CRC-64 of all its entries.
    pub fn oplog_end(&mut self, crc: u64) -> io::Result<()> {
        end(&mut self.out, OPLOG.0, OPLOG.1, crc)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

fn segment<W: Write>(out: &mut W, db: &str, collection: &str, documents: &[u8]) -> io::Result<()> {
    if documents.is_empty() {
        return Ok(());
    }
    let header = bson::rawdoc! {"db": db, "collection": collection, "EOF": false, "CRC": 0_i64};
    out.write_all(header.as_bytes())?;
    out.write_all(documents)?;
    out.write_all(&TERMINATOR)
}

fn end<W: Write>(out: &mut W, db: &str, collection: &str, crc: u64) -> io::Result<()> {
    let header = bson::rawdoc! {"db": db, "collection": collection, "EOF": true, "CRC": crc as i64};
    out.write_all(header.as_bytes())?;
    out.write_all(&TERMINATOR)
}
