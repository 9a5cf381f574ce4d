//! Reading a database for a backup: collection specs, index specs, and raw BSON streamed from
//! `find().batch()` cursors to a staging file, byte for byte as the server sent them.

use std::path::Path;

use bson::{Bson, Document, RawDocumentBuf, doc};
use futures_util::TryStreamExt as _;
use mongodb::Database;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;
use tokio_util::sync::CancellationToken;

use crate::archive::manifest::hex;
use crate::archive::reader::MemberStats;
use crate::signal::Interrupted;

/// One entry of `listCollections`, kept whole so that no option is lost.
#[derive(Debug, Clone)]
pub struct CollectionSpec {
    pub name: String,
    /// `collection`, `view` or `timeseries`.
    pub kind: String,
    pub spec: Document,
}

/// Every collection and view of the database except `system.*`, as mongodump skips them.
pub async fn list_collections(db: &Database) -> mongodb::error::Result<Vec<CollectionSpec>> {
    let cursor = db.run_cursor_command(doc! {"listCollections": 1, "nameOnly": false}).await?;
    let specs: Vec<Document> = cursor.try_collect().await?;
    let mut out: Vec<CollectionSpec> = specs
        .into_iter()
        .filter_map(|spec| {
            let name = spec.get_str("name").ok()?.to_owned();
            if name.starts_with("system.") {
                return None;
            }
            let kind = spec.get_str("type").unwrap_or("collection").to_owned();
            Some(CollectionSpec { name, kind, spec })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub async fn list_indexes(
    db: &Database,
    collection: &str,
) -> mongodb::error::Result<Vec<Document>> {
    let cursor = db.run_cursor_command(doc! {"listIndexes": collection}).await?;
    cursor.try_collect().await
}

/// mongodump's `<collection>.metadata.json`: canonical Extended JSON v2 with keys `options`,
/// `indexes`, `uuid`, `collectionName`, `type`, in that order; index key order is preserved.
pub fn metadata_json(spec: &CollectionSpec, indexes: &[Document]) -> String {
    let options = spec.spec.get_document("options").cloned().unwrap_or_default();
    let mut meta = Document::new();
    meta.insert("options", options);
    meta.insert("indexes", indexes.iter().cloned().map(Bson::Document).collect::<Vec<_>>());
    if let Ok(bson::Bson::Binary(b)) =
        spec.spec.get_document("info").map(|i| i.get("uuid").cloned().unwrap_or(Bson::Null))
    {
        meta.insert("uuid", hex(&b.bytes));
    }
    meta.insert("collectionName", spec.name.clone());
    meta.insert("type", spec.kind.clone());
    Bson::Document(meta).into_canonical_extjson().to_string()
}

/// Streams a collection's documents into `file`, hashing and counting them. Calls `progress`
/// with (documents, bytes) after each batch. Stops with `Interrupted` when `cancel` fires.
pub async fn dump_collection(
    db: &Database,
    name: &str,
    file: &Path,
    batch_size: u32,
    cancel: &CancellationToken,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<MemberStats> {
    let coll = db.collection::<RawDocumentBuf>(name);
    let mut cursor = coll.find(doc! {}).batch_size(batch_size).batch().await?;
    let out =
        tokio::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(file).await?;
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, out);
    let mut hasher = Sha256::new();
    let mut stats = MemberStats::default();
    while let Some(batch) = cursor.try_next().await? {
        if cancel.is_cancelled() {
            return Err(Interrupted.into());
        }
        for item in batch.doc_slices()? {
            let item = item?;
            let bytes = item
                .as_document()
                .ok_or_else(|| {
                    anyhow::anyhow!("collection {name}: the server returned a non-document")
                })?
                .as_bytes();
            hasher.update(bytes);
            out.write_all(bytes).await?;
            stats.documents += 1;
            stats.bytes += bytes.len() as u64;
        }
        progress(stats.documents, stats.bytes);
    }
    out.flush().await?;
    out.into_inner().sync_all().await?;
    stats.sha256 = hex(&hasher.finalize());
    Ok(stats)
}

/// `{"ServerVersion": ..., "ToolVersion": ...}` as mongodump writes it.
pub fn prelude_json(server_version: &str) -> String {
    serde_json::json!({"ServerVersion": server_version, "ToolVersion": format!("daraa-ops {}", env!("CARGO_PKG_VERSION"))}).to_string()
}
