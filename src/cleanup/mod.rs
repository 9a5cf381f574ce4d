//! Cleanup rules: delete, or archive then delete, documents older than a cutoff, in batches
//! walking `_id` forward.
//!
//! Each batch reads up to `batch_size` matching documents in `_id` order, (for `archive`)
//! writes them to the archive and makes sure they are there (local: fsync'd file and folder;
//! S3: uploaded, size and MD5 ETag checked; collection: inserted and counted back), and only
//! then deletes exactly the `_id`s it read, still with the rule's condition (a document updated
//! in between stays). A crash between archiving and deleting leaves documents both in the
//! archive and in the collection; the next run archives them again into a new part. Restoring
//! archives cannot duplicate them: `_id` is unique, so a second copy is refused by the server
//! (mongorestore reports it as a duplicate key and goes on).
//!
//! Archive files: `<base>/<db>/<rule>/<run>/part-000001.bson.gz` (gzip of the raw BSON, the same
//! as a `mongodump --gzip` `.bson.gz`) with `part-000001.json` (counts, SHA-256, first and last
//! `_id`) next to it, and `manifest.json` for the run when it ends.

use std::time::{Duration, Instant};

use bson::{Bson, Document, RawDocumentBuf, doc};
use futures_util::TryStreamExt as _;
use mongodb::Database;
use serde::Serialize;

use crate::config::{CleanupAction, CleanupConfig, CleanupRule};
use crate::error::CliError;

mod sink;

pub use sink::Sink;
pub mod job;

pub const PART_FORMAT: &str = "daraa-ops-cleanup-archive";

/// Why a rule stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stopped {
    /// Nothing older than the cutoff is left.
    Done,
    /// `cleanup.max_run_time` was reached (after a whole batch).
    MaxRunTime,
    /// SIGINT/SIGTERM (after a whole batch).
    Interrupted,
    /// `--dry-run`: nothing was changed.
    DryRun,
}

impl Stopped {
    pub fn as_str(self) -> &'static str {
        match self {
            Stopped::Done => "done",
            Stopped::MaxRunTime => "max-run-time",
            Stopped::Interrupted => "interrupted",
            Stopped::DryRun => "dry-run",
        }
    }
}

/// What one rule did (or, dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct RuleReport {
    pub rule: String,
    pub collection: String,
    pub action: CleanupAction,
    /// Documents whose age field is before this instant match.
    pub cutoff: String,
    pub examined: u64,
    pub archived: u64,
    pub deleted: u64,
    /// Raw BSON bytes of the examined documents.
    pub bytes: u64,
    pub duration_seconds: f64,
    pub stopped: Stopped,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub first_ids: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_keys_removed: Option<u64>,
}

/// The rule's query: its filter and `age_field < cutoff`.
pub fn rule_query(rule: &CleanupRule, cutoff: bson::DateTime) -> anyhow::Result<Document> {
    let age = doc! {&rule.age_field: {"$lt": cutoff}};
    match &rule.filter {
        Some(f) if !f.is_empty() => {
            let json = serde_json::Value::Object(f.clone().into_iter().collect());
            let Bson::Document(filter) = Bson::try_from(json)? else {
                anyhow::bail!("cleanup rule {}: filter is not a document", rule.name)
            };
            Ok(doc! {"$and": [filter, age]})
        }
        _ => Ok(age),
    }
}

pub fn cutoff_for(rule: &CleanupRule, now: jiff::Timestamp) -> anyhow::Result<bson::DateTime> {
    let older = jiff::SignedDuration::try_from(rule.older_than)?;
    let cutoff = now.checked_sub(older).map_err(|e| {
        CliError::usage(format!(
            "cleanup rule {}: older_than reaches before year -9999: {e}",
            rule.name
        ))
    })?;
    Ok(bson::DateTime::from_millis(cutoff.as_millisecond()))
}

pub(crate) fn id_of(d: &RawDocumentBuf) -> Option<Bson> {
    d.get("_id").ok().flatten().and_then(|v| Bson::try_from(v).ok())
}

/// The per-part manifest.
#[derive(Debug, Clone, Serialize)]
pub struct PartInfo {
    pub format: &'static str,
    pub database: String,
    pub collection: String,
    pub rule: String,
    pub run: String,
    pub part: u32,
    pub documents: u64,
    /// Raw BSON bytes, and their SHA-256 (of the uncompressed `.bson`).
    pub bytes: u64,
    pub sha256: String,
    pub compressed_bytes: u64,
    pub compressed_sha256: String,
    /// Set when the part file is an age file (`backup.encryption`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<crate::archive::Encryption>,
    pub first_id: serde_json::Value,
    pub last_id: serde_json::Value,
    pub cutoff: String,
    pub created_at: String,
}

impl PartInfo {
    pub(crate) fn file_stem(&self) -> String {
        format!("part-{:06}", self.part)
    }
}

/// Everything a rule run needs besides the rule.
pub struct RunEnv<'a> {
    pub cfg: &'a CleanupConfig,
    pub db: &'a Database,
    pub client: &'a mongodb::Client,
    pub cancel: &'a tokio_util::sync::CancellationToken,
    pub deadline: Option<Instant>,
    pub run_id: &'a str,
    pub now: jiff::Timestamp,
    /// Called after each batch with (documents deleted so far, bytes so far).
    pub on_batch: &'a (dyn Fn(u64, u64) + Send + Sync),
}

/// Counts what a rule would remove and shows the first `_id`s; changes nothing.
pub async fn dry_run(env: &RunEnv<'_>, rule: &CleanupRule) -> anyhow::Result<RuleReport> {
    let started = Instant::now();
    let cutoff = cutoff_for(rule, env.now)?;
    let query = rule_query(rule, cutoff)?;
    let coll = env.db.collection::<Document>(&rule.collection);
    let count = coll.count_documents(query.clone()).await?;
    let first: Vec<Document> = coll
        .find(query)
        .sort(doc! {"_id": 1})
        .limit(5)
        .projection(doc! {"_id": 1})
        .await?
        .try_collect()
        .await?;
    Ok(RuleReport {
        rule: rule.name.clone(),
        collection: rule.collection.clone(),
        action: rule.action,
        cutoff: cutoff.try_to_rfc3339_string().unwrap_or_default(),
        examined: count,
        archived: 0,
        deleted: 0,
        bytes: 0,
        duration_seconds: started.elapsed().as_secs_f64(),
        stopped: Stopped::DryRun,
        archive: None,
        first_ids: first
            .iter()
            .filter_map(|d| d.get("_id").map(|v| v.clone().into_relaxed_extjson()))
            .collect(),
        cache_keys_removed: None,
    })
}

/// Runs one rule to its end, the deadline, or a stop request (checked between batches).
pub async fn run_rule(
    env: &RunEnv<'_>,
    rule: &CleanupRule,
    sink: Option<&Sink>,
) -> anyhow::Result<RuleReport> {
    let started = Instant::now();
    let cutoff = cutoff_for(rule, env.now)?;
    let mut report = RuleReport {
        rule: rule.name.clone(),
        collection: rule.collection.clone(),
        action: rule.action,
        cutoff: cutoff.try_to_rfc3339_string().unwrap_or_default(),
        examined: 0,
        archived: 0,
        deleted: 0,
        bytes: 0,
        duration_seconds: 0.0,
        stopped: Stopped::Done,
        archive: sink.map(Sink::describe),
        first_ids: Vec::new(),
        cache_keys_removed: None,
    };
    let mut walk = Walk {
        query: rule_query(rule, cutoff)?,
        last_id: None,
        part: 0,
        batch_size: rule.batch_size.unwrap_or(env.cfg.batch_size).max(1),
    };
    // Asked once: a standalone server (or FerretDB) is not a replica set between batches either.
    let replica_set = match crate::mongo::replset::status(env.client).await {
        Ok(s) => s.is_some(),
        Err(e @ crate::mongo::replset::ReplSetError::Unauthorized(_)) => {
            tracing::warn!("rule {}: the replica-set lag pause is off: {e}", rule.name);
            false
        }
        Err(e) => return Err(e.into()),
    };
    loop {
        if env.cancel.is_cancelled() {
            report.stopped = Stopped::Interrupted;
            break;
        }
        if env.deadline.is_some_and(|d| Instant::now() >= d) {
            report.stopped = Stopped::MaxRunTime;
            break;
        }
        if replica_set {
            wait_for_secondaries(env).await?;
        }
        let more = batch(env, rule, sink, &mut walk, &mut report).await?;
        (env.on_batch)(report.deleted, report.bytes);
        if !more {
            break;
        }
        if !env.cfg.sleep_between_batches.is_zero() {
            tokio::select! {
                () = tokio::time::sleep(env.cfg.sleep_between_batches) => {}
                () = env.cancel.cancelled() => {}
            }
        }
    }
    report.duration_seconds = started.elapsed().as_secs_f64();
    if let Some(sink) = sink
        && walk.part > 0
    {
        let manifest = sink::RunManifest {
            format: PART_FORMAT,
            database: env.db.name(),
            collection: &rule.collection,
            rule: &rule.name,
            run: env.run_id,
            cutoff: &report.cutoff,
            parts: walk.part,
            documents: report.archived,
            bytes: report.bytes,
            stopped: report.stopped,
            completed_at: jiff::Timestamp::now().to_string(),
        };
        if let Err(e) = sink.write_manifest(&manifest).await {
            tracing::warn!("rule {}: cannot write the run manifest: {e:#}", rule.name);
        }
    }
    Ok(report)
}

/// Where a rule's walk over `_id` stands.
struct Walk {
    query: Document,
    last_id: Option<Bson>,
    /// Archive parts written so far.
    part: u32,
    batch_size: u32,
}

/// One batch: up to `batch_size` matching documents after the last `_id`, archived (when the
/// rule archives) before exactly those are deleted. Returns whether more may follow.
async fn batch(
    env: &RunEnv<'_>,
    rule: &CleanupRule,
    sink: Option<&Sink>,
    walk: &mut Walk,
    report: &mut RuleReport,
) -> anyhow::Result<bool> {
    let q = match &walk.last_id {
        Some(id) => doc! {"$and": [walk.query.clone(), {"_id": {"$gt": id.clone()}}]},
        None => walk.query.clone(),
    };
    let docs: Vec<RawDocumentBuf> = env
        .db
        .collection::<RawDocumentBuf>(&rule.collection)
        .find(q)
        .sort(doc! {"_id": 1})
        .limit(i64::from(walk.batch_size))
        .await?
        .try_collect()
        .await?;
    if docs.is_empty() {
        return Ok(false);
    }
    let ids: Vec<Bson> = docs.iter().filter_map(id_of).collect();
    if ids.len() != docs.len() {
        anyhow::bail!("collection {}: a document without a readable _id", rule.collection);
    }
    let bytes: u64 = docs.iter().map(|d| d.as_bytes().len() as u64).sum();
    report.examined += docs.len() as u64;
    report.bytes += bytes;
    if rule.action == CleanupAction::Archive {
        let sink =
            sink.ok_or_else(|| anyhow::anyhow!("rule {} archives but has no target", rule.name))?;
        walk.part += 1;
        let info = PartInfo {
            format: PART_FORMAT,
            database: env.db.name().to_owned(),
            collection: rule.collection.clone(),
            rule: rule.name.clone(),
            run: env.run_id.to_owned(),
            part: walk.part,
            documents: docs.len() as u64,
            bytes,
            sha256: String::new(),
            compressed_bytes: 0,
            compressed_sha256: String::new(),
            encryption: None,
            first_id: ids[0].clone().into_relaxed_extjson(),
            last_id: ids[ids.len() - 1].clone().into_relaxed_extjson(),
            cutoff: report.cutoff.clone(),
            created_at: jiff::Timestamp::now().to_string(),
        };
        sink.write_part(&info, &docs).await.map_err(|e| {
            e.context(format!(
                "rule {}: archiving batch {} to {} failed; nothing of it was deleted",
                rule.name,
                walk.part,
                sink.describe()
            ))
        })?;
        report.archived += docs.len() as u64;
    }
    let deleted = env
        .db
        .collection::<Document>(&rule.collection)
        .delete_many(doc! {"$and": [walk.query.clone(), {"_id": {"$in": &ids}}]})
        .await?;
    report.deleted += deleted.deleted_count;
    walk.last_id = ids.last().cloned();
    Ok(docs.len() >= walk.batch_size as usize)
}

/// With a replica set, waits while a healthy secondary lags more than `max_secondary_lag`
/// (checking every second; a stop request or the deadline ends the wait).
async fn wait_for_secondaries(env: &RunEnv<'_>) -> anyhow::Result<()> {
    let max = env.cfg.max_secondary_lag.as_secs_f64();
    let mut logged = false;
    loop {
        let Some(status) = crate::mongo::replset::status(env.client).await? else { return Ok(()) };
        match status.max_secondary_lag() {
            Some(lag) if lag > max => {
                if !logged {
                    tracing::warn!("a secondary lags {lag:.0}s (> {max:.0}s): pausing cleanup");
                    logged = true;
                }
                if env.cancel.is_cancelled() || env.deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(());
                }
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = env.cancel.cancelled() => {}
                }
            }
            _ => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    use super::*;
    use crate::files::hex;

    fn rule(filter: Option<&str>) -> CleanupRule {
        let yaml = format!(
            "name: r\ncollection: carts\nage_field: updatedAt\nolder_than: 7d\naction: delete\n{}",
            filter.map(|f| format!("filter: {f}\n")).unwrap_or_default()
        );
        serde_saphyr::from_str(&yaml).unwrap()
    }

    #[test]
    fn query_combines_filter_and_age() {
        let now: jiff::Timestamp = "2026-11-26T00:00:00Z".parse().unwrap();
        let r = rule(Some("{status: active}"));
        let cutoff = cutoff_for(&r, now).unwrap();
        assert_eq!(cutoff.try_to_rfc3339_string().unwrap(), "2026-11-19T00:00:00Z");
        let q = rule_query(&r, cutoff).unwrap();
        assert_eq!(q, doc! {"$and": [{"status": "active"}, {"updatedAt": {"$lt": cutoff}}]});
        assert_eq!(rule_query(&rule(None), cutoff).unwrap(), doc! {"updatedAt": {"$lt": cutoff}});
    }

    #[test]
    fn part_encoding_is_gzip_of_the_raw_bson_with_checksums() {
        let docs: Vec<RawDocumentBuf> =
            (0..3).map(|i| RawDocumentBuf::try_from(&doc! {"_id": i, "x": "y"}).unwrap()).collect();
        let info = PartInfo {
            format: PART_FORMAT,
            database: "d".into(),
            collection: "c".into(),
            rule: "r".into(),
            run: "run".into(),
            part: 1,
            documents: 3,
            bytes: docs.iter().map(|d| d.as_bytes().len() as u64).sum(),
            sha256: String::new(),
            compressed_bytes: 0,
            compressed_sha256: String::new(),
            encryption: None,
            first_id: 0.into(),
            last_id: 2.into(),
            cutoff: String::new(),
            created_at: String::new(),
        };
        let (data, meta) = sink::encode_part(&info, &docs, None).unwrap();
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&data[..]), &mut raw).unwrap();
        let expected: Vec<u8> = docs.iter().flat_map(|d| d.as_bytes().to_vec()).collect();
        assert_eq!(raw, expected);
        let m: serde_json::Value = serde_json::from_slice(&meta).unwrap();
        assert_eq!(m["sha256"], hex(&Sha256::digest(&expected)));
        assert_eq!(m["compressed_bytes"], data.len());
        assert_eq!(m["documents"], 3);
    }
}
