//! The backup archive format (docs/archive-format.md): pure code over `Read`/`Write`, no
//! network and no MongoDB. `layout` says which members an archive holds and in which order
//! (and types `metadata.json`), `writer` builds archives, `reader` verifies and reads them,
//! `names` holds mongodump's file-name escaping and backup ids, `manifest` the manifest and
//! sidecar.

pub mod crypt;
pub mod foreign;
pub mod gz;
pub mod interleaved;
pub mod layout;
pub mod manifest;
pub mod names;
pub mod reader;
pub mod writer;

pub use foreign::SourceFormat;
pub use layout::CollectionMetadata;
pub use manifest::{ArchiveInfo, CollectionEntry, Encryption, Manifest, Sidecar, Totals};
pub use reader::ArchiveError;

#[cfg(test)]
mod tests;
