//! `stats`: what the MongoDB server, the configured database and Redis look like now, plus the
//! age of the last successful jobs and (optionally) growth since a previous run.
//!
//! Collection reads only what the server offers: `$collStats` (falling back to `collStats`),
//! `$indexStats` where implemented, `replSetGetStatus` on replica-set members. Redis is
//! optional: unreachable, it is reported, and only fatal with `redis.required`.

pub mod history;
pub mod job;
pub mod prom;
pub mod redis;
pub mod redis_info;
pub mod table;

use bson::{Bson, Document, doc};
use futures_util::TryStreamExt as _;
use serde::{Deserialize, Serialize};

use crate::mongo::replset::ReplStatus;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generated_at: String,
    pub mongodb: MongoStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica_set: Option<ReplStatus>,
    pub redis: RedisSection,
    pub jobs: Vec<JobAge>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub growth: Option<history::Growth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MongoStats {
    pub server_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connections_current: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connections_available: Option<i64>,
    pub database: DatabaseTotals,
    /// Largest first (by data size).
    pub collections: Vec<CollectionStats>,
    /// Whether the server answered `$indexStats` (FerretDB does not).
    pub index_usage_available: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DatabaseTotals {
    pub name: String,
    pub collections: i64,
    pub objects: i64,
    pub data_bytes: i64,
    pub storage_bytes: i64,
    pub index_bytes: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CollectionStats {
    pub name: String,
    pub documents: i64,
    pub size_bytes: i64,
    pub avg_object_bytes: i64,
    pub storage_bytes: i64,
    pub indexes: i64,
    pub index_bytes: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub index_usage: Vec<IndexUsage>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexUsage {
    pub name: String,
    /// Operations that used the index since `since` (server start or index creation).
    pub ops: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RedisSection {
    /// `ok`, `unreachable` or `not-configured`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<redis_info::RedisStats>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache_keys: Vec<PrefixCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PrefixCount {
    pub prefix: String,
    pub keys: u64,
    /// The scan stopped at the cap: `keys` is a lower bound.
    pub capped: bool,
}

/// The last run of a job, from the metrics textfile or Redis.
#[derive(Debug, Clone, Serialize)]
pub struct JobAge {
    pub job: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_run_age_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success_age_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_exit_code: Option<i64>,
}

fn num(d: &Document, key: &str) -> Option<i64> {
    match d.get(key)? {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        Bson::Double(f) => Some(*f as i64),
        _ => None,
    }
}

fn float(d: &Document, key: &str) -> Option<f64> {
    match d.get(key)? {
        Bson::Int32(i) => Some(f64::from(*i)),
        Bson::Int64(i) => Some(*i as f64),
        Bson::Double(f) => Some(*f),
        _ => None,
    }
}

/// Database totals from a `dbStats` reply.
pub fn parse_db_stats(name: &str, d: &Document) -> DatabaseTotals {
    DatabaseTotals {
        name: name.to_owned(),
        collections: num(d, "collections").unwrap_or(0),
        objects: num(d, "objects").unwrap_or(0),
        data_bytes: num(d, "dataSize").unwrap_or(0),
        storage_bytes: num(d, "storageSize").unwrap_or(0),
        index_bytes: num(d, "indexSize").unwrap_or(0),
    }
}

/// Collection figures from `$collStats.storageStats` or a `collStats` reply (same fields).
pub fn parse_coll_stats(name: &str, d: &Document) -> CollectionStats {
    CollectionStats {
        name: name.to_owned(),
        documents: num(d, "count").unwrap_or(0),
        size_bytes: num(d, "size").unwrap_or(0),
        avg_object_bytes: num(d, "avgObjSize").unwrap_or(0),
        storage_bytes: num(d, "storageSize").unwrap_or(0),
        indexes: num(d, "nindexes").unwrap_or(0),
        index_bytes: num(d, "totalIndexSize").unwrap_or(0),
        index_usage: Vec::new(),
    }
}

/// Index usage from `$indexStats` documents.
pub fn parse_index_stats(docs: &[Document]) -> Vec<IndexUsage> {
    let mut out: Vec<IndexUsage> = docs
        .iter()
        .filter_map(|d| {
            let accesses = d.get_document("accesses").ok();
            Some(IndexUsage {
                name: d.get_str("name").ok()?.to_owned(),
                ops: accesses.and_then(|a| num(a, "ops")).unwrap_or(0),
                since: accesses
                    .and_then(|a| a.get_datetime("since").ok())
                    .and_then(|t| t.try_to_rfc3339_string().ok()),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

async fn coll_stats(db: &mongodb::Database, name: &str) -> anyhow::Result<CollectionStats> {
    let agg = db
        .collection::<Document>(name)
        .aggregate([doc! {"$collStats": {"storageStats": {}}}])
        .await;
    if let Ok(cursor) = agg {
        let docs: Vec<Document> = cursor.try_collect().await.unwrap_or_default();
        if let Some(s) = docs.first().and_then(|d| d.get_document("storageStats").ok()) {
            return Ok(parse_coll_stats(name, s));
        }
    }
    let reply = db
        .run_command(doc! {"collStats": name})
        .await
        .map_err(|e| anyhow::anyhow!("collStats {name}: {e}"))?;
    Ok(parse_coll_stats(name, &reply))
}

/// `$indexStats` counters are per member: they are read from the primary, whatever
/// `mongodb.read_preference` says, or a secondary's idle counters would call every index
/// unused.
async fn index_stats(db: &mongodb::Database, name: &str) -> Option<Vec<IndexUsage>> {
    let primary = mongodb::options::SelectionCriteria::ReadPreference(
        mongodb::options::ReadPreference::Primary,
    );
    let cursor = db
        .collection::<Document>(name)
        .aggregate([doc! {"$indexStats": {}}])
        .selection_criteria(primary)
        .await
        .ok()?;
    let docs: Vec<Document> = cursor.try_collect().await.ok()?;
    Some(parse_index_stats(&docs))
}

/// Everything `stats` reports about MongoDB.
pub async fn mongo_stats(client: &mongodb::Client, database: &str) -> anyhow::Result<MongoStats> {
    let info = crate::mongo::build_info(client).await?;
    let server_version = info.get_str("version").unwrap_or("unknown").to_owned();
    let status = client.database("admin").run_command(doc! {"serverStatus": 1}).await.ok();
    let conns = status.as_ref().and_then(|s| s.get_document("connections").ok());
    let db = client.database(database);
    let db_stats = db.run_command(doc! {"dbStats": 1}).await?;
    let mut collections = Vec::new();
    let mut index_usage_available = true;
    for c in crate::mongo::dump::list_collections(&db).await? {
        if c.kind != "collection" {
            continue;
        }
        let mut s = coll_stats(&db, &c.name).await?;
        match index_stats(&db, &c.name).await {
            Some(u) => s.index_usage = u,
            None => index_usage_available = false,
        }
        collections.push(s);
    }
    if !index_usage_available {
        for c in &mut collections {
            c.index_usage.clear();
        }
    }
    collections.sort_by(|a, b| b.size_bytes.cmp(&a.size_bytes).then(a.name.cmp(&b.name)));
    Ok(MongoStats {
        server_version,
        uptime_seconds: status.as_ref().and_then(|s| float(s, "uptime")),
        connections_current: conns.and_then(|c| num(c, "current")),
        connections_available: conns.and_then(|c| num(c, "available")),
        database: parse_db_stats(database, &db_stats),
        collections,
        index_usage_available,
    })
}

/// The jobs whose last run `stats` shows, as their metric names spell them.
pub const JOBS: [&str; 7] =
    ["backup", "drill", "restore", "prune", "cleanup", "indexes_validate", "users_check"];

/// Last-run ages from `daraa_ops_<job>.prom` in the textfile folder, else the Redis hash.
pub fn job_age_from_textfile(text: &str, job: &str, now: f64) -> JobAge {
    let value = |name: &str| crate::metrics::sample(text, &format!("daraa_ops_{job}_{name}"));
    JobAge {
        job: job.to_owned(),
        last_run_age_seconds: value("last_run_timestamp_seconds").map(|t| (now - t).max(0.0)),
        last_success_age_seconds: value("last_success_timestamp_seconds")
            .map(|t| (now - t).max(0.0)),
        last_exit_code: value("last_exit_code").map(|c| c as i64),
    }
}

#[cfg(test)]
mod tests;
