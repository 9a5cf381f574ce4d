//! The backup archive format (docs/archive-format.md): pure code over `Read`/`Write`, no
//! network and no MongoDB. `writer` builds archives, `reader` verifies and reads them, `names`
//! holds mongodump's file-name escaping and backup ids, `manifest` the manifest and sidecar.

pub mod gz;
pub mod manifest;
pub mod names;
pub mod reader;
pub mod writer;

pub use manifest::{ArchiveInfo, CollectionEntry, Manifest, Sidecar, Totals};
pub use reader::ArchiveError;

#[cfg(test)]
mod tests;
