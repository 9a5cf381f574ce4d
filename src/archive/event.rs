//! What a walk over any backup reports, whatever its format: collections' metadata, their
//! documents in batches, each collection's end with its stats and digest, and at the end what
//! was verified.

use super::bson::{ArchiveError, corrupt};
use super::format::SourceFormat;
use super::manifest::Manifest;
use super::metadata::CollectionMetadata;
use crate::digest::MemberStats;

#[derive(Debug)]
pub struct Verified {
    /// The archive's own manifest, or for a backup mongodump wrote (no manifest), one made
    /// from what was read: counts and SHA-256 as found, `id` and times empty.
    pub manifest: Manifest,
    pub members: usize,
    pub format: SourceFormat,
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
    /// Up to `BATCH_DOCS` entries of the backup's oplog (`oplog.bson`), after every
    /// collection; checked against the manifest when the walk ends.
    Oplog { docs: Vec<bson::RawDocumentBuf> },
}

pub const BATCH_DOCS: usize = 1000;

pub const BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Collects documents into batches of at most `BATCH_DOCS` documents or `BATCH_BYTES` bytes.
#[derive(Default)]
pub(crate) struct Batcher {
    docs: Vec<bson::RawDocumentBuf>,
    bytes: usize,
}

impl Batcher {
    /// Adds a document; returns a full batch.
    pub(crate) fn push(
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
    pub(crate) fn take(&mut self) -> Option<Vec<bson::RawDocumentBuf>> {
        self.bytes = 0;
        if self.docs.is_empty() { None } else { Some(std::mem::take(&mut self.docs)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_of(len: usize) -> Vec<u8> {
        // {"p": <binary of len - 13 bytes>}: 4 + 1 + 2 + 4 + 1 + n + 1 bytes.
        let n = len - 13;
        bson::rawdoc! {"p": bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: vec![7; n] }}
            .into_bytes()
    }

    /// A batch ends at 1,000 documents or at 8 MiB, whichever comes first; what is left
    /// comes out on `take`, and an empty batcher gives nothing.
    #[test]
    fn batches_end_at_a_thousand_documents_or_eight_mib() {
        let small = doc_of(40);
        assert_eq!(small.len(), 40);
        let mut b = Batcher::default();
        for k in 1..BATCH_DOCS {
            assert!(b.push(&small, "m").unwrap().is_none(), "cut early at {k}");
        }
        let full = b.push(&small, "m").unwrap().expect("cut at 1,000");
        assert_eq!(full.len(), BATCH_DOCS);
        assert!(b.take().is_none());
        // 3 MiB documents: the third reaches 8 MiB (9 MiB in all).
        let big = doc_of(3 * 1024 * 1024);
        assert!(b.push(&big, "m").unwrap().is_none());
        assert!(b.push(&big, "m").unwrap().is_none());
        assert_eq!(b.push(&big, "m").unwrap().map(|d| d.len()), Some(3));
        // The byte count starts again after a cut, and after `take`.
        assert!(b.push(&big, "m").unwrap().is_none());
        assert_eq!(b.take().map(|d| d.len()), Some(1));
        assert!(b.push(&big, "m").unwrap().is_none());
        assert!(b.push(&big, "m").unwrap().is_none());
        assert_eq!(b.take().map(|d| d.len()), Some(2));
        // Exactly 8 MiB is a batch.
        let half = doc_of(4 * 1024 * 1024);
        assert!(b.push(&half, "m").unwrap().is_none());
        assert_eq!(b.push(&half, "m").unwrap().map(|d| d.len()), Some(2));
        // A damaged document is named by its member.
        let err = b.push(&[5, 0, 0, 0, 9], "shop/orders.bson").unwrap_err().to_string();
        assert!(err.contains("shop/orders.bson"), "{err}");
    }
}
