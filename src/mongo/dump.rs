//! Reading a database for a backup: collection specs, index specs, and raw BSON streamed from
//! `find().batch()` cursors to a staging file, byte for byte as the server sent them. What
//! the archive makes of them is the archive module's business.

use bson::{Bson, Document, RawDocumentBuf, doc};
use futures_util::TryStreamExt as _;
use mongodb::Database;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::digest::MemberStats;
use crate::files::hex;
use crate::signal::Interrupted;

/// One entry of `listCollections`: every option kept, so that none is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionSpec {
    pub name: String,
    /// `collection`, `view` or `timeseries`.
    pub kind: String,
    pub options: Document,
    /// `info.uuid`, hex.
    pub uuid: Option<String>,
}

impl CollectionSpec {
    /// From one document of a `listCollections` reply.
    pub fn from_listing(spec: &Document) -> Option<Self> {
        let uuid = match spec.get_document("info").ok().and_then(|i| i.get("uuid")) {
            Some(Bson::Binary(b)) => Some(hex(&b.bytes)),
            _ => None,
        };
        Some(CollectionSpec {
            name: spec.get_str("name").ok()?.to_owned(),
            kind: spec.get_str("type").unwrap_or("collection").to_owned(),
            options: spec.get_document("options").cloned().unwrap_or_default(),
            uuid,
        })
    }

    pub fn is_view(&self) -> bool {
        self.kind == "view"
    }
}

/// Every collection and view of the database except `system.*`, as mongodump skips them.
pub async fn list_collections(db: &Database) -> mongodb::error::Result<Vec<CollectionSpec>> {
    let cursor = db.run_cursor_command(doc! {"listCollections": 1, "nameOnly": false}).await?;
    let specs: Vec<Document> = cursor.try_collect().await?;
    let mut out: Vec<CollectionSpec> = specs
        .into_iter()
        .filter_map(|spec| CollectionSpec::from_listing(&spec))
        .filter(|c| !c.name.starts_with("system."))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The server's `operationTime` now (replica sets and sharded clusters report one with every
/// reply; a standalone server or FerretDB does not: `None`).
pub async fn operation_time(db: &Database) -> Option<bson::Timestamp> {
    let reply = db.run_command(doc! {"ping": 1}).await.ok()?;
    operation_time_of(&reply)
}

/// `operationTime` of a command reply.
pub fn operation_time_of(reply: &Document) -> Option<bson::Timestamp> {
    reply.get_timestamp("operationTime").ok()
}

pub async fn list_indexes(
    db: &Database,
    collection: &str,
) -> mongodb::error::Result<Vec<Document>> {
    let cursor = db.run_cursor_command(doc! {"listIndexes": collection}).await?;
    cursor.try_collect().await
}

/// About how many bytes one cursor batch should hold. The server caps a batch at 16 MiB
/// whatever its document count: with large documents (GridFS chunks are 255 KiB)
/// `backup.batch_size` documents would always reach that cap, and with `parallel_collections`
/// batches held at once the memory of a dump would follow the documents' size. Small enough
/// that a dump's peak memory does not grow with the data: with 2 MiB, glibc kept the freed
/// replies of a large GridFS collection, and a backup of ten times the data peaked 27% higher
/// (docs/benchmarks.md, "Batches of half a MiB"); large enough that a round trip per batch
/// costs nothing measurable (only a median document over about 524 bytes makes a batch
/// smaller than `backup.batch_size`'s 1,000).
pub const BATCH_BYTES: u64 = 512 * 1024;

/// Documents read first to learn a collection's typical document size, and how many come
/// per reply (a sample of sixteen 16 MiB documents must not arrive as one 16 MiB reply per
/// collection in flight).
const SAMPLE_DOCS: u32 = 16;
const SAMPLE_BATCH: u32 = 2;

/// Documents per cursor batch for a collection whose first documents weigh `sampled` bytes
/// each: as many as fit in [`BATCH_BYTES`] at their median size, at least one, at most `max`
/// (`backup.batch_size`). The median, not the mean: one huge document among small ones would
/// make every batch of millions of small documents tiny. Best effort: documents larger than
/// the sample's come in batches up to the server's 16 MiB cap, as before. An empty sample
/// says nothing: `max`.
pub fn docs_per_batch(sampled: &mut [u64], max: u32) -> u32 {
    if sampled.is_empty() {
        return max;
    }
    sampled.sort_unstable();
    let median = sampled[sampled.len() / 2].max(1);
    let fit = (BATCH_BYTES / median).max(1);
    u32::try_from(fit).unwrap_or(u32::MAX).min(max)
}

/// The batch size for dumping `name`: its first documents read once, two per reply, and
/// [`docs_per_batch`] of what they weigh. One more `find` on the collection the dump reads
/// anyway, so no privilege beyond the dump's own.
async fn batch_size_for(
    coll: &mongodb::Collection<RawDocumentBuf>,
    max: u32,
    cancel: &CancellationToken,
) -> anyhow::Result<u32> {
    let sample = async {
        let mut cursor = coll
            .find(doc! {})
            .limit(i64::from(SAMPLE_DOCS))
            .batch_size(SAMPLE_BATCH)
            .batch()
            .await?;
        let mut sizes = Vec::with_capacity(SAMPLE_DOCS as usize);
        while let Some(batch) = cursor.try_next().await? {
            for item in batch.doc_slices()? {
                if let Some(d) = item?.as_document() {
                    sizes.push(d.as_bytes().len() as u64);
                }
            }
        }
        anyhow::Ok(sizes)
    };
    let mut sizes = tokio::select! {
        sampled = sample => sampled?,
        () = cancel.cancelled() => return Err(Interrupted.into()),
    };
    Ok(docs_per_batch(&mut sizes, max))
}

/// Reads a collection as raw BSON and hands each cursor batch (its documents, as the server
/// sent them, not copied) to `sink`, which runs where blocking is allowed; returns the counts
/// and the SHA-256 of all the bytes. Batches hold at most `batch_size` documents and about
/// [`BATCH_BYTES`].
pub async fn dump_collection_to(
    db: &Database,
    name: &str,
    batch_size: u32,
    cancel: &CancellationToken,
    mut progress: impl FnMut(u64, u64),
    mut sink: impl FnMut(&[&[u8]]) -> anyhow::Result<()>,
) -> anyhow::Result<MemberStats> {
    let coll = db.collection::<RawDocumentBuf>(name);
    let batch_size = batch_size_for(&coll, batch_size, cancel).await?;
    let mut cursor = coll.find(doc! {}).batch_size(batch_size).batch().await?;
    let mut hasher = Sha256::new();
    let mut stats = MemberStats::default();
    loop {
        // A batch can take seconds to arrive: a signal must not wait for it.
        let batch = tokio::select! {
            next = cursor.try_next() => next?,
            () = cancel.cancelled() => return Err(Interrupted.into()),
        };
        let Some(batch) = batch else { break };
        let mut documents: Vec<&[u8]> = Vec::with_capacity(batch_size as usize);
        for item in batch.doc_slices()? {
            let item = item?;
            let bytes = item
                .as_document()
                .ok_or_else(|| {
                    anyhow::anyhow!("collection {name}: the server returned a non-document")
                })?
                .as_bytes();
            hasher.update(bytes);
            documents.push(bytes);
            stats.documents += 1;
            stats.bytes += bytes.len() as u64;
        }
        tokio::task::block_in_place(|| sink(&documents))?;
        progress(stats.documents, stats.bytes);
    }
    stats.sha256 = hex(&hasher.finalize());
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A MongoDB 7 replica-set member's reply to `ping` (tests/fixtures/mongodb7/ping.json)
    /// carries the cluster time the backup records; FerretDB's does not.
    #[test]
    fn operation_time_from_a_recorded_reply() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/mongodb7/ping.json");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let Bson::Document(reply) = Bson::try_from(v).unwrap() else { panic!("not a document") };
        assert_eq!(
            operation_time_of(&reply),
            Some(bson::Timestamp { time: 1_764_363_600, increment: 7 })
        );
        assert_eq!(operation_time_of(&doc! {"ok": 1.0}), None);
    }

    /// Large documents get few per batch, small ones are held to `backup.batch_size`, a
    /// document larger than a batch still travels alone, and one huge document among small
    /// ones does not make every batch tiny (the median decides).
    #[test]
    fn a_batch_holds_about_half_a_mib_and_at_most_the_configured_documents() {
        let per = |sizes: &[u64], max: u32| docs_per_batch(&mut sizes.to_vec(), max);
        let gridfs_chunk = 255 * 1024 + 60;
        assert_eq!(per(&[gridfs_chunk; 16], 1000), 2);
        // 200-byte documents: 2,621 would fit, the configuration allows 1,000.
        assert_eq!(per(&[200; 16], 1000), 1000);
        assert_eq!(per(&[200; 16], 100_000), 2_621);
        // A third of 512 KiB, rounded down and up.
        assert_eq!(per(&[174_762; 3], 1000), 3);
        assert_eq!(per(&[174_763; 3], 1000), 2);
        assert_eq!(per(&[512 * 1024], 1000), 1);
        assert_eq!(per(&[16 * 1024 * 1024], 1000), 1);
        // One 16 MiB document among fifteen of 200 bytes, first or last: the median is 200.
        let mut mixed = vec![200; 15];
        mixed.insert(0, 16 * 1024 * 1024);
        assert_eq!(per(&mixed, 1000), 1000);
        mixed.rotate_left(1);
        assert_eq!(per(&mixed, 1000), 1000);
        // The median of an even count is the upper middle one: [100, 200, 100_000, 100_000].
        assert_eq!(per(&[100_000, 100, 100_000, 200], 1000), 5);
        // Nothing sampled (an empty collection): the configured size; zero-sized is one byte.
        assert_eq!(per(&[], 1000), 1000);
        assert_eq!(per(&[0; 5], 7), 7);
    }
}
