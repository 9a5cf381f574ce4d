//! Reading a database for a backup: collection specs, index specs, and raw BSON streamed from
//! `find().batch()` cursors to a staging file, byte for byte as the server sent them.

use std::path::Path;

use bson::{Bson, Document, RawDocumentBuf, doc};
use futures_util::TryStreamExt as _;
use mongodb::Database;
use sha2::{Digest, Sha256};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
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
    // A plain file and a small buffer, written from the async task with `block_in_place`: a
    // tokio File keeps its own copy buffer per file, which with several collections at once
    // made a dump's memory grow with the data (docs/benchmarks.md).
    let file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(file)?;
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
    let mut hasher = Sha256::new();
    let mut stats = MemberStats::default();
    while let Some(batch) = cursor.try_next().await? {
        if cancel.is_cancelled() {
            return Err(Interrupted.into());
        }
        let docs = batch.doc_slices()?;
        tokio::task::block_in_place(|| -> anyhow::Result<()> {
            for item in docs {
                let item = item?;
                let bytes = item
                    .as_document()
                    .ok_or_else(|| {
                        anyhow::anyhow!("collection {name}: the server returned a non-document")
                    })?
                    .as_bytes();
                hasher.update(bytes);
                out.write_all(bytes)?;
                stats.documents += 1;
                stats.bytes += bytes.len() as u64;
            }
            Ok(())
        })?;
        progress(stats.documents, stats.bytes);
    }
    tokio::task::block_in_place(|| -> std::io::Result<()> {
        let file = out.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        file.sync_all()
    })?;
    stats.sha256 = hex(&hasher.finalize());
    Ok(stats)
}

/// `{"ServerVersion": ..., "ToolVersion": ...}` as mongodump writes it.
pub fn prelude_json(server_version: &str) -> String {
    serde_json::json!({"ServerVersion": server_version, "ToolVersion": format!("daraa-ops {}", env!("CARGO_PKG_VERSION"))}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<Document> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/mongodb7")
            .join(name);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| match Bson::try_from(d.clone()).unwrap() {
                Bson::Document(d) => d,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn spec(name: &str) -> CollectionSpec {
        let d = fixture("listCollections.json")
            .into_iter()
            .find(|d| d.get_str("name").ok() == Some(name))
            .unwrap();
        CollectionSpec { name: name.into(), kind: d.get_str("type").unwrap().into(), spec: d }
    }

    /// The exact bytes mongodump 100.x writes for a plain collection.
    #[test]
    fn metadata_of_a_collection_matches_mongodump() {
        let idx = vec![fixture("listIndexes.notifications.json").remove(0)];
        assert_eq!(
            metadata_json(&spec("orders"), &idx),
            r#"{"options":{},"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"uuid":"3bc597265ded422c8ade7dad2fa756e6","collectionName":"orders","type":"collection"}"#
        );
    }

    #[test]
    fn metadata_keeps_every_index_option_and_key_order() {
        let json = metadata_json(&spec("orders"), &fixture("listIndexes.notifications.json"));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let idx = v["indexes"].as_array().unwrap();
        let keys: Vec<&String> = idx[1]["key"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["recipientId", "isRead", "createdAt"]);
        assert_eq!(idx[2]["expireAfterSeconds"], serde_json::json!({"$numberInt": "7776000"}));
        assert_eq!(
            (idx[3]["unique"].clone(), idx[3]["sparse"].clone()),
            (serde_json::json!(true), serde_json::json!(true))
        );
        assert_eq!(idx[4]["partialFilterExpression"], serde_json::json!({"isRead": false}));
        assert_eq!(idx[5]["key"]["location"], "2dsphere");
        assert_eq!(idx[6]["weights"]["title"], serde_json::json!({"$numberInt": "3"}));
    }

    #[test]
    fn metadata_of_views_and_collection_options() {
        let view = metadata_json(&spec("active_orders"), &[]);
        assert_eq!(
            view,
            r#"{"options":{"viewOn":"orders","pipeline":[{"$match":{"status":"active"}}]},"indexes":[],"collectionName":"active_orders","type":"view"}"#
        );
        let stores: serde_json::Value =
            serde_json::from_str(&metadata_json(&spec("stores"), &[])).unwrap();
        assert_eq!(stores["options"]["collation"]["locale"], "ar");
        assert_eq!(stores["options"]["validationLevel"], "strict");
        assert!(stores["options"]["validator"]["$jsonSchema"].is_object());
    }
}
