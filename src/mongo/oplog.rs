//! Reading the server's oplog (`local.oplog.rs`): where it stands, and the entries between two
//! timestamps as raw BSON, in the order the server wrote them (`$natural`). What the entries
//! mean is `crate::oplog`'s business.

use bson::{RawDocumentBuf, Timestamp, doc};
use futures_util::TryStreamExt as _;
use mongodb::Client;
use tokio_util::sync::CancellationToken;

use crate::signal::Interrupted;

pub const DATABASE: &str = "local";
pub const COLLECTION: &str = "oplog.rs";

/// The newest entry's timestamp; `None` when the oplog is missing or empty (a find on a
/// collection that does not exist returns nothing on MongoDB and FerretDB alike).
pub async fn newest(client: &Client) -> mongodb::error::Result<Option<Timestamp>> {
    let coll = client.database(DATABASE).collection::<bson::Document>(COLLECTION);
    let found = coll
        .find_one(doc! {})
        .sort(doc! {"$natural": -1})
        .projection(doc! {"ts": 1, "_id": 0})
        .await;
    match found {
        Ok(found) => Ok(found.and_then(|d| d.get_timestamp("ts").ok())),
        // FerretDB sorts by $natural only capped collections; a missing (or uncapped)
        // local.oplog.rs is no oplog.
        Err(e) if matches!(*e.kind, mongodb::error::ErrorKind::Command(ref c) if c.code == NOT_IMPLEMENTED) => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The oldest entry's timestamp: how far back the oplog still reaches.
pub async fn oldest(client: &Client) -> mongodb::error::Result<Option<Timestamp>> {
    let coll = client.database(DATABASE).collection::<bson::Document>(COLLECTION);
    let found = coll
        .find_one(doc! {})
        .sort(doc! {"$natural": 1})
        .projection(doc! {"ts": 1, "_id": 0})
        .await?;
    Ok(found.and_then(|d| d.get_timestamp("ts").ok()))
}

/// The server error `NotImplemented`.
const NOT_IMPLEMENTED: i32 = 238;

/// Whether the server says it is a replica-set member (`hello.setName`): one keeps an oplog
/// even while it is empty. FerretDB never says so; it keeps one once `local.oplog.rs` exists.
pub async fn is_replica_set(client: &Client) -> mongodb::error::Result<bool> {
    let hello = client.database("admin").run_command(doc! {"hello": 1}).await?;
    Ok(hello.get_str("setName").is_ok())
}

/// Hands every entry with `from < ts <= until` to `each`, in `$natural` order. The filter on
/// `ts` is served by the oplog's own ordering on MongoDB (it is a capped collection in
/// timestamp order); FerretDB scans it.
pub async fn read(
    client: &Client,
    from: Timestamp,
    until: Timestamp,
    cancel: &CancellationToken,
    mut each: impl FnMut(RawDocumentBuf) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let coll = client.database(DATABASE).collection::<RawDocumentBuf>(COLLECTION);
    let mut cursor = coll
        .find(doc! {"ts": {"$gt": from, "$lte": until}})
        .sort(doc! {"$natural": 1})
        .batch_size(1000)
        .await?;
    loop {
        let next = tokio::select! {
            next = cursor.try_next() => next?,
            () = cancel.cancelled() => return Err(Interrupted.into()),
        };
        let Some(entry) = next else { return Ok(()) };
        each(entry)?;
    }
}
