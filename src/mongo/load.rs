//! Writing a database during a restore: collections created with their archived options, raw
//! documents inserted unordered, indexes built after the data, renames. Which collections
//! are temporary is the restore engine's business (src/restore/temps.rs).

use bson::{Bson, Document, RawDocumentBuf, doc};
use futures_util::TryStreamExt as _;
use mongodb::Database;

use crate::digest::SetDigest;

/// Canonical Extended JSON (from metadata.json) back to BSON.
pub fn to_document(json: &serde_json::Value) -> anyhow::Result<Document> {
    match Bson::try_from(json.clone())? {
        Bson::Document(d) => Ok(d),
        other => anyhow::bail!("expected a document, found {other:?}"),
    }
}

/// `create` with the archived options (capped, size, max, collation, validator, ...).
pub async fn create_collection(
    db: &Database,
    name: &str,
    options: &Document,
) -> mongodb::error::Result<()> {
    let mut cmd = doc! {"create": name};
    for (k, v) in options {
        if k != "viewOn" && k != "pipeline" {
            cmd.insert(k, v.clone());
        }
    }
    db.run_command(cmd).await.map(|_| ())
}

pub async fn create_view(
    db: &Database,
    name: &str,
    options: &Document,
) -> mongodb::error::Result<()> {
    let mut cmd = doc! {"create": name};
    for (k, v) in options {
        cmd.insert(k, v.clone());
    }
    db.run_command(cmd).await.map(|_| ())
}

/// Builds the archived indexes except `_id_` (the server makes it); returns how many.
pub async fn create_indexes(
    db: &Database,
    collection: &str,
    indexes: &[Document],
) -> mongodb::error::Result<usize> {
    let specs: Vec<Document> = indexes
        .iter()
        .filter(|i| i.get_str("name").ok() != Some("_id_"))
        .map(|i| {
            let mut i = i.clone();
            // `ns` is from pre-4.4 servers; `v` is chosen by the server.
            i.remove("ns");
            i.remove("v");
            i
        })
        .collect();
    if specs.is_empty() {
        return Ok(0);
    }
    let n = specs.len();
    db.run_command(doc! {"createIndexes": collection, "indexes": specs}).await?;
    Ok(n)
}

/// Copies collection `from` to a new collection `to` in the same database: its options, every
/// document (raw, in batches), then its indexes. Fails when `to` exists or when fewer
/// documents arrive than were read.
pub async fn copy_collection(db: &Database, from: &str, to: &str) -> anyhow::Result<u64> {
    let spec = super::dump::list_collections(db)
        .await?
        .into_iter()
        .find(|c| c.name == from)
        .ok_or_else(|| anyhow::anyhow!("collection {from} does not exist"))?;
    create_collection(db, to, &spec.options).await?;
    let target = db.collection::<RawDocumentBuf>(to);
    let mut cursor = db.collection::<RawDocumentBuf>(from).find(doc! {}).batch().await?;
    let (mut read, mut written) = (0u64, 0u64);
    while let Some(batch) = cursor.try_next().await? {
        let docs: Vec<RawDocumentBuf> = batch
            .doc_slices()?
            .into_iter()
            .filter_map(|d| d.ok().and_then(|d| d.as_document().map(ToOwned::to_owned)))
            .collect();
        if docs.is_empty() {
            continue;
        }
        read += docs.len() as u64;
        written += target.insert_many(docs).await?.inserted_ids.len() as u64;
    }
    anyhow::ensure!(
        read == written,
        "copying {from} to {to}: {written} of {read} documents were written"
    );
    let indexes = super::dump::list_indexes(db, from).await?;
    create_indexes(db, to, &indexes).await?;
    Ok(read)
}

pub async fn rename(db: &Database, from: &str, to: &str) -> mongodb::error::Result<()> {
    rename_with(db, from, to, false).await
}

/// `renameCollection` with `dropTarget`: the target is replaced in one step on the server
/// (MongoDB), so no moment exists where the name is free.
pub async fn rename_replacing(db: &Database, from: &str, to: &str) -> mongodb::error::Result<()> {
    rename_with(db, from, to, true).await
}

async fn rename_with(
    db: &Database,
    from: &str,
    to: &str,
    drop_target: bool,
) -> mongodb::error::Result<()> {
    let cmd = rename_command(db.name(), from, to, drop_target);
    db.client().database("admin").run_command(cmd).await.map(|_| ())
}

/// `renameCollection` within database `db` as MongoDB documents it: sent to `admin`, with
/// both namespaces in full, and `dropTarget` to replace the target in one step.
pub fn rename_command(db: &str, from: &str, to: &str, drop_target: bool) -> Document {
    let mut cmd = doc! {"renameCollection": format!("{db}.{from}"), "to": format!("{db}.{to}")};
    if drop_target {
        cmd.insert("dropTarget", true);
    }
    cmd
}

/// Whether a failed `renameCollection` with `dropTarget` means the server does not do it
/// (FerretDB 1.x: 238 NotImplemented; 115 CommandNotSupported; a server that rejects the
/// field itself: 2 BadValue or 9 FailedToParse naming it) rather than another failure (a
/// missing privilege — whose message echoes the whole command, `dropTarget` included — a
/// lost connection), which must stop the restore instead.
pub fn refuses_drop_target(code: i32, message: &str) -> bool {
    code == 238 || code == 115 || (matches!(code, 2 | 9) && message.contains("dropTarget"))
}

/// Whether the server replaces a rename's target atomically (`dropTarget`), found out by
/// doing it with two scratch collections: FerretDB 1.x answers that it does not implement it,
/// MongoDB does it. The scratch collections are dropped either way.
pub async fn supports_drop_target(
    db: &Database,
    scratch_a: &str,
    scratch_b: &str,
) -> mongodb::error::Result<bool> {
    db.run_command(doc! {"create": scratch_a}).await?;
    db.run_command(doc! {"create": scratch_b}).await?;
    let result = rename_replacing(db, scratch_a, scratch_b).await;
    let _ = db.collection::<Document>(scratch_a).drop().await;
    let _ = db.collection::<Document>(scratch_b).drop().await;
    match result {
        Ok(()) => Ok(true),
        Err(e) => match e.kind.as_ref() {
            mongodb::error::ErrorKind::Command(c) if refuses_drop_target(c.code, &c.message) => {
                Ok(false)
            }
            _ => Err(e),
        },
    }
}

/// Whether the server renames collections with a dot in their names, found out on two
/// scratch names (which must hold a dot): FerretDB 1.x refuses every dotted namespace in
/// `renameCollection` ("Invalid namespace", code 73), MongoDB renames them.
pub async fn renames_dotted(
    db: &Database,
    scratch_a: &str,
    scratch_b: &str,
) -> mongodb::error::Result<bool> {
    db.run_command(doc! {"create": scratch_a}).await?;
    let result = rename(db, scratch_a, scratch_b).await;
    let _ = db.collection::<Document>(scratch_a).drop().await;
    let _ = db.collection::<Document>(scratch_b).drop().await;
    match result {
        Ok(()) => Ok(true),
        Err(e) => match e.kind.as_ref() {
            mongodb::error::ErrorKind::Command(c)
                if c.code == 73
                    || c.message.contains("Invalid namespace")
                    || c.message.contains("Invalid target namespace") =>
            {
                Ok(false)
            }
            _ => Err(e),
        },
    }
}

/// Collections of a database: name, kind, and whether they hold documents (one `findOne`
/// each, cheap on every server). With `counts`, non-empty collections also get their
/// estimated document count (for people reading a dry run): FerretDB answers that with a
/// full scan, so a real restore never asks.
pub async fn existing(
    db: &Database,
    counts: bool,
) -> mongodb::error::Result<Vec<(String, String, u64)>> {
    let mut out = Vec::new();
    for spec in super::dump::list_collections(db).await? {
        let n = if spec.kind == "view" || is_empty(db, &spec.name).await? {
            0
        } else if counts {
            db.collection::<Document>(&spec.name).estimated_document_count().await?.max(1)
        } else {
            1
        };
        out.push((spec.name, spec.kind, n));
    }
    Ok(out)
}

pub async fn is_empty(db: &Database, collection: &str) -> mongodb::error::Result<bool> {
    Ok(db.collection::<RawDocumentBuf>(collection).find_one(doc! {}).await?.is_none())
}

/// Inserts a batch unordered; returns (inserted, error messages of the documents that failed).
pub async fn insert_batch(
    db: &Database,
    collection: &str,
    docs: Vec<RawDocumentBuf>,
) -> (u64, Vec<String>) {
    let n = docs.len() as u64;
    match db.collection::<RawDocumentBuf>(collection).insert_many(docs).ordered(false).await {
        Ok(r) => (r.inserted_ids.len() as u64, Vec::new()),
        Err(e) => match e.kind.as_ref() {
            mongodb::error::ErrorKind::InsertMany(im) => {
                let failures: Vec<String> = im
                    .write_errors
                    .as_ref()
                    .map(|we| {
                        we.iter().map(|w| format!("document {}: {}", w.index, w.message)).collect()
                    })
                    .unwrap_or_default();
                let failed = if failures.is_empty() { n } else { failures.len() as u64 };
                let mut failures = failures;
                if let Some(wc) = &im.write_concern_error {
                    failures.push(format!("write concern: {}", wc.message));
                }
                (n.saturating_sub(failed), failures)
            }
            _ => (0, vec![format!("batch of {n} documents: {e}")]),
        },
    }
}

/// The documents of `collection` with these `_id`s, as the server holds them.
pub async fn find_by_ids(
    db: &Database,
    collection: &str,
    ids: &[Bson],
) -> mongodb::error::Result<Vec<RawDocumentBuf>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(1000) {
        let cursor = db
            .collection::<RawDocumentBuf>(collection)
            .find(doc! {"_id": {"$in": chunk.to_vec()}})
            .await?;
        out.extend(cursor.try_collect::<Vec<_>>().await?);
    }
    Ok(out)
}

/// Deletes the documents of `collection` with these `_id`s.
pub async fn delete_by_ids(
    db: &Database,
    collection: &str,
    ids: &[Bson],
) -> mongodb::error::Result<u64> {
    let mut n = 0;
    for chunk in ids.chunks(1000) {
        n += db
            .collection::<RawDocumentBuf>(collection)
            .delete_many(doc! {"_id": {"$in": chunk.to_vec()}})
            .await?
            .deleted_count;
    }
    Ok(n)
}

/// Count and order-independent digest of what the server holds (for drills).
pub async fn server_digest(
    db: &Database,
    collection: &str,
) -> mongodb::error::Result<(u64, String)> {
    let mut cursor = db.collection::<RawDocumentBuf>(collection).find(doc! {}).batch().await?;
    let mut digest = SetDigest::default();
    let mut n = 0;
    while let Some(batch) = cursor.try_next().await? {
        for d in batch.doc_slices()? {
            if let Some(d) = d?.as_document() {
                digest.add(d.as_bytes());
                n += 1;
            }
        }
    }
    Ok((n, digest.hex()))
}
