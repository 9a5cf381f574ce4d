//! MongoDB's archive format (what `mongodump --archive` writes and `mongorestore --archive`
//! reads; docs/archive-format.md) and mongodump's `--out` folders.
//!
//! The archive: a magic number, a header document, one document per namespace with its
//! metadata, a terminator, then segments of documents of any namespace, interleaved, each
//! namespace closed by an end header that carries the CRC-64 (ECMA polynomial, as Go's
//! `hash/crc64` computes it) of all its documents. Its constants are here; [`reader`] and
//! [`writer`] sit side by side. A `--out` folder (one folder per database, `<coll>.bson[.gz]`
//! and `<coll>.metadata.json[.gz]`) is streamed as a tar ([`folder`]) for the tar walker.
//!
//! Neither records a checksum a daraa-ops manifest would: what is checked is the structure,
//! every document's BSON, each metadata file, the per-collection counts found and, in the
//! archive format, each namespace's CRC-64.

pub mod folder;
pub mod reader;
pub mod writer;

/// The first four bytes of mongodump's archive format (0x8199e26d, little-endian).
pub const MAGIC: [u8; 4] = [0x6d, 0xe2, 0x99, 0x81];

/// Ends the metadata list and every segment: where a document length would be, -1.
pub const TERMINATOR: [u8; 4] = [0xff; 4];

/// CRC-64 with the ECMA-182 polynomial, reflected, all ones in and out: Go's
/// `crc64.Checksum(data, crc64.MakeTable(crc64.ECMA))`, which mongodump uses.
pub static CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_XZ);

/// The oplog's namespace in the archive format (`mongodump --oplog`): database `""`,
/// collection `oplog`, which mongorestore reads as the top-level `oplog.bson`.
pub const OPLOG: (&str, &str) = ("", "oplog");
