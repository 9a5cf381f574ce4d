//! The backup formats (docs/archive-format.md): pure code over `Read`/`Write`, no network and
//! no MongoDB. From the bottom up:
//!
//! - shared pieces: [`bson`] (documents read from a stream, the one error type), [`event`]
//!   (what every walker reports), [`metadata`] (a collection's `metadata.json`), [`manifest`]
//!   (manifest and sidecar), [`names`] (mongodump's file-name escaping, backup ids),
//!   [`format`] (the formats by name), [`hashing`], [`gz`] (parallel gzip), [`crypt`] (age);
//! - [`tar`]: daraa-ops' own format, a gzip'd tar: its layout, writer and walker;
//! - [`mongodump`]: MongoDB's archive format (its constants, reader and writer side by side)
//!   and `--out` folders streamed as tar;
//! - [`found`]: the manifest made for a backup that has none;
//! - [`walk`]: the one entry for readers, which tells the shapes apart.

pub mod bson;
pub mod crypt;
pub mod event;
pub mod format;
pub mod found;
pub mod gz;
pub mod hashing;
pub mod manifest;
pub mod metadata;
pub mod mongodump;
pub mod names;
pub mod tar;
pub mod walk;

pub use bson::ArchiveError;
pub use event::{Event, Verified};
pub use format::SourceFormat;
pub use manifest::{ArchiveInfo, CollectionEntry, Encryption, Manifest, Sidecar, Totals};
pub use metadata::CollectionMetadata;

#[cfg(test)]
mod testio;
#[cfg(test)]
mod tests;
