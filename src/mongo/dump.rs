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

/// Reads a collection as raw BSON and hands each cursor batch (its documents concatenated)
/// to `sink`, which runs where blocking is allowed; returns the counts and the SHA-256 of all
/// the bytes.
pub async fn dump_collection_to(
    db: &Database,
    name: &str,
    batch_size: u32,
    cancel: &CancellationToken,
    mut progress: impl FnMut(u64, u64),
    mut sink: impl FnMut(&[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<MemberStats> {
    let coll = db.collection::<RawDocumentBuf>(name);
    let mut cursor = coll.find(doc! {}).batch_size(batch_size).batch().await?;
    let mut hasher = Sha256::new();
    let mut stats = MemberStats::default();
    let mut buf = Vec::with_capacity(256 * 1024);
    loop {
        // A batch can take seconds to arrive: a signal must not wait for it.
        let batch = tokio::select! {
            next = cursor.try_next() => next?,
            () = cancel.cancelled() => return Err(Interrupted.into()),
        };
        let Some(batch) = batch else { break };
        buf.clear();
        for item in batch.doc_slices()? {
            let item = item?;
            let bytes = item
                .as_document()
                .ok_or_else(|| {
                    anyhow::anyhow!("collection {name}: the server returned a non-document")
                })?
                .as_bytes();
            hasher.update(bytes);
            buf.extend_from_slice(bytes);
            stats.documents += 1;
            stats.bytes += bytes.len() as u64;
        }
        tokio::task::block_in_place(|| sink(&buf))?;
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
}
