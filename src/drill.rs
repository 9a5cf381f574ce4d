//! The restore drill: restore a backup into the scratch database `<db>_drill` under its lock,
//! compare every collection's count and document digest with the archive, the indexes with
//! `metadata.json`, run the configured sample queries, and always drop the scratch database
//! (on success, on failure and on SIGINT/SIGTERM).

use std::time::{Duration, Instant};

use bson::Document;
use serde::Serialize;

use crate::error::CliError;
use crate::mongo::{self, dump, load};
use crate::repo::{self, Resolved};
use crate::restore::{self, Options};

/// What the operator asked for.
#[derive(Debug, Clone)]
pub struct Request {
    /// A backup id, `latest`, a path or `-`.
    pub target: String,
    /// Apply the masking rules while restoring (`--mask`).
    pub mask: bool,
    /// `--to-time`: the base backup and the archived oplog up to this time (docs/pitr.md).
    pub to_time: Option<String>,
}

pub use crate::engine::Env;

/// A drill that ran against a backup: its result (the differences found, or why it could not
/// finish) and what it measured. An error before the drill touched the backup (no such
/// backup, a missing key, an unreachable server, a held lock) is the outer error of [`run`].
pub struct Drilled {
    pub source: Resolved,
    pub scratch: String,
    pub result: anyhow::Result<Vec<String>>,
    pub seconds: f64,
    pub restore_seconds: Option<f64>,
    /// `--to-time`: the point restored to (`T,I`).
    pub to_time: Option<String>,
    pub documents: u64,
    pub bytes: u64,
    pub checks: Vec<CollectionCheck>,
    pub queries: Vec<QueryCheck>,
}

/// `--to-time random`.
pub const RANDOM: &str = "random";

/// A random point (`T,I`) of the newest window a restore to a time can reach, over every
/// storage (docs/pitr.md): a random second of it, the last entry of that second, within the
/// window's ends.
async fn random_point(cfg: &crate::config::Config) -> anyhow::Result<String> {
    let status = crate::pitr::status::status(cfg).await?;
    let Some(w) = status
        .storages
        .iter()
        .flat_map(|s| s.windows.iter())
        .max_by_key(|w| (w.until.ts, w.from.ts))
    else {
        return Err(CliError::usage(format!(
            "drill --to-time random: nothing of {} can be restored to a point in time",
            cfg.mongodb.database
        ))
        .with_hint(
            "a point-in-time backup (`daraa-ops backup`) and `daraa-ops pitr push` make a window; `daraa-ops pitr status` shows them",
        )
        .into());
    };
    let (from, until) = (w.from.ts, w.until.ts);
    let second = rand::random_range(from.t..=until.t);
    let point = crate::oplog::Ts { t: second, i: u32::MAX }.clamp(from, until);
    tracing::info!("drill --to-time random: {point}, in the window {from} to {until}");
    Ok(point.pair())
}

/// Runs a drill (docs/operations.md, "Restore drills").
pub async fn run(env: Env<'_>, req: &Request) -> anyhow::Result<Drilled> {
    let cfg = env.cfg;
    let started = Instant::now();
    let to_time = match req.to_time.as_deref() {
        Some(RANDOM) => Some(random_point(cfg).await?),
        other => other.map(str::to_owned),
    };
    let plan = match &to_time {
        Some(t) => Some(crate::pitr::plan(cfg, t).await?),
        None => None,
    };
    let source =
        repo::resolve(cfg, plan.as_ref().map_or(req.target.as_str(), |p| p.base.as_str())).await?;
    let point_in_time = match &plan {
        Some(plan) => Some(std::sync::Arc::new(restore::PointInTime::of(cfg, plan).await?)),
        None => None,
    };
    // The key is read before anything connects: a missing key file is exit 2, nothing touched.
    let mask = if req.mask { Some(crate::mask::load(&cfg.masking)?) } else { None };
    let mut summary = Summary {
        id: source.id.clone(),
        to_time: point_in_time.as_ref().map(|p| p.until.pair()),
        ..Summary::default()
    };
    // A fixed name (one drill at a time, under the drill lock): the drill's role can grant
    // dropDatabase on exactly this database and nothing else (least privilege).
    let scratch = crate::mongo::privileges::Job::Drill.database(&cfg.mongodb.database);
    if scratch.len() > 63 {
        return Err(CliError::usage(format!(
            "scratch database name {scratch} is longer than 63 bytes"
        ))
        .into());
    }
    summary.scratch_database.clone_from(&scratch);
    env.out.summary(&summary);
    let mongo = mongo::connect(
        &cfg.mongodb,
        mongo::Role::Job(mongo::privileges::Job::Drill),
        mongo::Access::ReadWrite,
    )
    .await?;
    let db = mongo.client.database(&scratch);
    summary.masked = mask.is_some();
    // One drill at a time per database; a crashed drill's scratch database is dropped first.
    let (result, dropped_ok) = crate::lock::with(cfg, &scratch, "drill", env.cancel, async || {
        db.drop().await.map_err(|e| {
            anyhow::Error::new(e)
                .context(format!("dropping the scratch database {scratch} of an earlier drill"))
        })?;
        let result = drill(env, &db, &source, mask, point_in_time, &mut summary).await;
        // Always drop the scratch database, even after a signal (with a bounded wait).
        let dropped = tokio::time::timeout(Duration::from_secs(60), db.drop()).await;
        Ok((result, matches!(dropped, Ok(Ok(())))))
    })
    .await?;
    if !dropped_ok {
        tracing::error!("could not drop scratch database {scratch}: the next drill drops it");
    }
    summary.scratch_dropped = Some(dropped_ok);
    summary.duration_seconds = Some(started.elapsed().as_secs_f64());
    env.out.summary(&summary);
    if let Ok(problems) = &result
        && !problems.is_empty()
    {
        tracing::error!("drill of {} failed: {}", source.id, problems.join("; "));
    }
    Ok(Drilled {
        source,
        scratch,
        result,
        seconds: started.elapsed().as_secs_f64(),
        restore_seconds: summary.restore_seconds,
        to_time: summary.to_time.clone(),
        documents: summary.documents.unwrap_or(0),
        bytes: summary.bytes.unwrap_or(0),
        checks: summary.collections.take().unwrap_or_default(),
        queries: summary.queries.take().unwrap_or_default(),
    })
}

/// The JSON summary of `drill` (docs/cli.md).
#[derive(Debug, Default, Serialize)]
struct Summary {
    id: String,
    /// `--to-time`: the point the drill restored to (`T,I`).
    #[serde(skip_serializing_if = "Option::is_none")]
    to_time: Option<String>,
    scratch_database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    scratch_dropped: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<f64>,
    /// `--mask`: the masking rules were applied; digests compare the masked documents.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    masked: bool,
    /// The comparison, per collection (when the restore succeeded).
    #[serde(skip_serializing_if = "Option::is_none")]
    collections: Option<Vec<CollectionCheck>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    queries: Option<Vec<QueryCheck>>,
    /// The restore's per-collection counts when documents were refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    restore_failures: Option<Vec<restore::CollectionReport>>,
    /// Seconds the restore into the scratch database took: the restore time to expect (RTO).
    #[serde(skip_serializing_if = "Option::is_none")]
    restore_seconds: Option<f64>,
    /// Documents and BSON bytes restored.
    #[serde(skip_serializing_if = "Option::is_none")]
    documents: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CollectionCheck {
    pub name: String,
    pub expected_documents: u64,
    pub restored_documents: u64,
    pub digest_matches: bool,
    pub indexes_match: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// With `--mask`: per field path, the rule and how many values it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked: Option<crate::mask::Counts>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueryCheck {
    pub name: String,
    pub collection: String,
    pub documents: u64,
    pub min_documents: u64,
    pub ok: bool,
}

/// Restores and compares; returns what differs (nothing: the drill passed).
async fn drill(
    env: Env<'_>,
    db: &mongodb::Database,
    source: &Resolved,
    mask: Option<std::sync::Arc<crate::mask::Masker>>,
    point_in_time: Option<std::sync::Arc<restore::PointInTime>>,
    summary: &mut Summary,
) -> anyhow::Result<Vec<String>> {
    let cfg = env.cfg;
    let restore_started = Instant::now();
    let report = restore_scratch(env, db, source, mask, point_in_time, summary).await?;
    summary.restore_seconds = Some(restore_started.elapsed().as_secs_f64());
    summary.documents = Some(report.manifest.totals.documents);
    summary.bytes = Some(report.manifest.totals.bytes);
    let mut checks = Vec::new();
    // The archived collections, and those the backup's oplog created.
    let archived = report.manifest.collections.iter().filter(|c| c.kind != "view");
    let mut expected: Vec<(&str, u64)> = archived.map(|c| (c.name.as_str(), c.documents)).collect();
    for c in &report.collections {
        if c.kind == crate::restore::Kind::Collection && !expected.iter().any(|(n, _)| *n == c.name)
        {
            expected.push((c.name.as_str(), 0));
        }
    }
    for (name, archived) in expected {
        crate::signal::check(env.cancel)?;
        let restored = report.collections.iter().find(|c| c.name == name);
        let (count, digest) = load::server_digest(db, name).await?;
        let mut problems = Vec::new();
        // With an oplog, the count once its changes were applied.
        let want = restored.and_then(|r| r.after_replay).unwrap_or(archived);
        if count != want {
            problems.push(match restored.and_then(|r| r.after_replay) {
                Some(_) => format!(
                    "{count} documents restored, {want} expected ({archived} archived, then the oplog)"
                ),
                None => format!("{count} documents restored, manifest says {archived}"),
            });
        }
        let digest_matches = restored.is_some_and(|r| r.digest == digest);
        if !digest_matches {
            problems.push("the restored documents differ from the archived ones".into());
        }
        let indexes_match = match compare_indexes(db, name, &report).await {
            Ok(()) => true,
            Err(p) => {
                problems.push(p);
                false
            }
        };
        checks.push(CollectionCheck {
            name: name.to_owned(),
            expected_documents: want,
            restored_documents: count,
            digest_matches,
            indexes_match,
            problems,
            masked: restored.and_then(|r| r.masked.clone()),
        });
    }
    let mut queries = Vec::new();
    for q in &cfg.drill.queries {
        crate::signal::check(env.cancel)?;
        let filter =
            load::to_document(&serde_json::Value::Object(q.filter.clone().into_iter().collect()))?;
        let n = db.collection::<Document>(&q.collection).count_documents(filter).await?;
        let ok = n >= q.min_documents;
        queries.push(QueryCheck {
            name: q.name.clone(),
            collection: q.collection.clone(),
            documents: n,
            min_documents: q.min_documents,
            ok,
        });
    }
    let mut differs: Vec<String> = Vec::new();
    if report.manifest.totals.documents == 0 {
        differs.push(
            "the backup holds no documents: an empty backup cannot stand for the database".into(),
        );
    }
    if let Some(s) = &report.manifest.shrunk {
        differs.push(format!(
            "the backup is marked as shrunk ({} documents, {} in {})",
            report.manifest.totals.documents, s.previous_documents, s.previous_id
        ));
    }
    differs.extend(
        checks
            .iter()
            .filter(|c| !c.problems.is_empty())
            .map(|c| format!("collection {}: {}", c.name, c.problems.join(", "))),
    );
    differs.extend(queries.iter().filter(|q| !q.ok).map(|q| {
        format!(
            "query {} on {} found {} document(s), at least {} expected",
            q.name, q.collection, q.documents, q.min_documents
        )
    }));
    summary.collections = Some(checks);
    summary.queries = Some(queries);
    Ok(differs)
}

/// The restore into the scratch database (a backup without a sidecar is surveyed first).
async fn restore_scratch(
    env: Env<'_>,
    db: &mongodb::Database,
    source: &Resolved,
    mask: Option<std::sync::Arc<crate::mask::Masker>>,
    point_in_time: Option<std::sync::Arc<restore::PointInTime>>,
    summary: &mut Summary,
) -> anyhow::Result<restore::Report> {
    let cfg = env.cfg;
    let opts = Options {
        collections: None,
        replace: false,
        parallel_collections: cfg.restore.parallel_collections,
        insertion_workers: cfg.restore.insertion_workers,
        mask,
        progress: crate::output::progress::Progress::new(env.out),
        point_in_time,
    };
    let survey = restore::survey(source, env.cancel, restore::UNCHANGED).await?;
    let restored = restore::restore(db, source, &survey, &opts, env.cancel).await;
    if let Err(e) = &restored
        && let Some(f) = e.downcast_ref::<restore::Failed>()
    {
        summary.restore_failures = Some(f.collections.clone());
    }
    // A damaged archive is a failed drill (exit 6); a document the server refused is a
    // runtime failure (exit 1).
    restored
}

/// The restored indexes against `metadata.json`, as the server lists them, compared by the
/// same rules as `indexes validate` (src/indexes/diff.rs), so an index or option the server
/// silently dropped is caught.
async fn compare_indexes(
    db: &mongodb::Database,
    name: &str,
    report: &restore::Report,
) -> Result<(), String> {
    let archived = report.metadata.get(name).map(|m| m.indexes.as_slice()).unwrap_or_default();
    let live =
        dump::list_indexes(db, name).await.map_err(|e| format!("cannot list indexes: {e}"))?;
    index_differences(archived, &live)
}

/// Every archived index must be live with the same keys and options, and nothing more.
pub fn index_differences(archived: &[Document], live: &[Document]) -> Result<(), String> {
    use crate::indexes::diff::{LiveIndex, Status, compare_collection};
    let spec: Vec<_> =
        archived.iter().filter_map(LiveIndex::from_doc).map(|i| i.to_spec()).collect();
    let live: Vec<LiveIndex> = live.iter().filter_map(LiveIndex::from_doc).collect();
    let problems: Vec<String> = compare_collection(&spec, &live)
        .into_iter()
        .filter(|f| f.status != Status::Ok)
        .map(|f| match f.status {
            Status::Missing => format!("index {} missing", f.name),
            Status::Extra => format!("index {} is not in the archive", f.name),
            _ => format!("index {}: {}", f.name, f.details.join(", ")),
        })
        .collect();
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::index_differences;

    #[test]
    fn index_comparison_sees_order_options_and_missing() {
        let archived = vec![
            doc! {"v": 2, "key": {"_id": 1}, "name": "_id_"},
            doc! {"v": 2, "key": {"a": 1, "b": -1}, "name": "a_1_b_-1", "unique": true},
            doc! {"v": 2, "key": {"t": 1}, "name": "t_1", "expireAfterSeconds": 60},
        ];
        let same = vec![
            doc! {"v": 2, "key": {"_id": 1_i64}, "name": "_id_"},
            doc! {"v": 2, "key": {"a": 1.0, "b": -1}, "name": "a_1_b_-1", "unique": true, "sparse": false},
            doc! {"v": 2, "key": {"t": 1}, "name": "t_1", "expireAfterSeconds": 60_i64},
        ];
        assert_eq!(index_differences(&archived, &same), Ok(()));
        let swapped = vec![
            same[0].clone(),
            doc! {"key": {"b": -1, "a": 1}, "name": "a_1_b_-1", "unique": true},
            same[2].clone(),
        ];
        assert!(index_differences(&archived, &swapped).unwrap_err().contains("other keys"));
        let lost_ttl =
            vec![same[0].clone(), same[1].clone(), doc! {"key": {"t": 1}, "name": "t_1"}];
        assert!(
            index_differences(&archived, &lost_ttl).unwrap_err().contains("expireAfterSeconds")
        );
        let missing = vec![same[0].clone(), same[1].clone()];
        assert!(index_differences(&archived, &missing).unwrap_err().contains("t_1 missing"));
        let extra = vec![
            same[0].clone(),
            same[1].clone(),
            same[2].clone(),
            doc! {"key": {"z": 1}, "name": "z_1"},
        ];
        assert!(
            index_differences(&archived, &extra).unwrap_err().contains("z_1 is not in the archive")
        );
    }
}
