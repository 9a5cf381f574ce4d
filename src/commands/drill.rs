//! `drill [ID|latest|PATH]`: restore into the scratch database `<db>_drill`, compare
//! every collection's count and document digest with the archive, the indexes with
//! `metadata.json`, run the configured sample queries, and always drop the scratch database
//! (on success, on failure and on SIGINT/SIGTERM). Exit 0 or 6, with a JSON report.

use std::time::{Duration, Instant};

use bson::Document;
use serde::Serialize;

use crate::catalog;
use crate::cli::DrillArgs;
use crate::context::Context;
use crate::mongo::{self, dump, load};
use crate::outcome::CliError;
use crate::outcome::Outcome;
use crate::restore::{self, Options};

/// The JSON summary of `drill` (docs/cli.md).
#[derive(Debug, Default, Serialize)]
struct Summary {
    id: String,
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

#[derive(Debug, Serialize)]
struct CollectionCheck {
    name: String,
    expected_documents: u64,
    restored_documents: u64,
    digest_matches: bool,
    indexes_match: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
    /// With `--mask`: per field path, the rule and how many values it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    masked: Option<crate::mask::Counts>,
}

#[derive(Debug, Serialize)]
struct QueryCheck {
    name: String,
    collection: String,
    documents: u64,
    min_documents: u64,
    ok: bool,
}

pub async fn run(ctx: &Context, args: &DrillArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let started = Instant::now();
    let source = catalog::resolve(cfg, &args.target).await?;
    // The key is read before anything connects: a missing key file is exit 2, nothing touched.
    let mask = if args.mask { Some(crate::mask::load(&cfg.masking)?) } else { None };
    let mut summary = Summary { id: source.id.clone(), ..Summary::default() };
    let db_name = &cfg.mongodb.database;
    // A fixed name (one drill at a time, under the drill lock): the drill's role can grant
    // dropDatabase on exactly this database and nothing else (least privilege).
    let scratch = crate::mongo::privileges::Job::Drill.database(db_name);
    if scratch.len() > 63 {
        return Err(CliError::usage(format!(
            "scratch database name {scratch} is longer than 63 bytes"
        ))
        .into());
    }
    summary.scratch_database.clone_from(&scratch);
    ctx.out.summary(&summary);
    let mongo = mongo::connect(
        &cfg.mongodb,
        mongo::Role::Job(mongo::privileges::Job::Drill),
        mongo::Access::ReadWrite,
    )
    .await?;
    let client = &mongo.client;

    // One drill at a time per database; a crashed drill's scratch database is dropped first.
    let guard = crate::lock::take(cfg, &scratch, "drill", &ctx.cancel).await?;
    let db = client.database(&scratch);
    if let Err(e) = db.drop().await {
        guard.release().await;
        return Err(anyhow::Error::new(e)
            .context(format!("dropping the scratch database {scratch} of an earlier drill")));
    }

    summary.masked = mask.is_some();
    let result = drill(ctx, cfg, &db, &source, mask, &mut summary).await;
    // Always drop the scratch database, even after a signal (with a bounded wait).
    let dropped = tokio::time::timeout(Duration::from_secs(60), db.drop()).await;
    let dropped_ok = matches!(dropped, Ok(Ok(())));
    if !dropped_ok {
        tracing::error!("could not drop scratch database {scratch}: the next drill drops it");
    }
    guard.release().await;
    summary.scratch_dropped = Some(dropped_ok);
    summary.duration_seconds = Some(started.elapsed().as_secs_f64());
    ctx.out.summary(&summary);
    let about_the_backup = result.as_ref().err().is_none_or(catalog::about_the_backup);
    if !ctx.cancel.is_cancelled() && about_the_backup {
        let check = catalog::Check {
            at: catalog::now_rfc3339(),
            ok: matches!(&result, Ok(p) if p.is_empty()),
            error: match &result {
                Ok(p) if p.is_empty() => None,
                Ok(p) => Some(p.join("; ")),
                Err(e) => Some(format!("{e:#}")),
            },
            contents_checked: None,
            restore_seconds: summary.restore_seconds,
        };
        catalog::record_check(&source, catalog::CheckKind::Drill, check).await;
    }
    let problems = result?;
    let secs = started.elapsed().as_secs_f64();
    if problems.is_empty() {
        ctx.out.line(format!(
            "drill of {} passed ({secs:.1}s); scratch database {scratch} dropped",
            source.id
        ));
        return Ok(Outcome::Ok);
    }
    // The drill ran to its end and found differences: a failed check (exit 6), like a
    // drifting `indexes validate`, with what differs named.
    ctx.out.line(format!("drill of {} FAILED ({secs:.1}s): {}", source.id, problems.join("; ")));
    tracing::error!("drill of {} failed: {}", source.id, problems.join("; "));
    Ok(Outcome::Drift)
}

/// Restores and compares; returns what differs (nothing: the drill passed).
async fn drill(
    ctx: &Context,
    cfg: &crate::config::Config,
    db: &mongodb::Database,
    source: &catalog::Resolved,
    mask: Option<std::sync::Arc<crate::mask::Masker>>,
    summary: &mut Summary,
) -> anyhow::Result<Vec<String>> {
    let restore_started = Instant::now();
    let report = restore_scratch(ctx, cfg, db, source, mask, summary).await?;
    summary.restore_seconds = Some(restore_started.elapsed().as_secs_f64());
    summary.documents = Some(report.manifest.totals.documents);
    summary.bytes = Some(report.manifest.totals.bytes);
    let mut checks = Vec::new();
    for entry in report.manifest.collections.iter().filter(|c| c.kind != "view") {
        crate::signal::check(&ctx.cancel)?;
        let restored = report.collections.iter().find(|c| c.name == entry.name);
        let (count, digest) = load::server_digest(db, &entry.name).await?;
        let mut problems = Vec::new();
        if count != entry.documents {
            problems.push(format!("{count} documents restored, manifest says {}", entry.documents));
        }
        let digest_matches = restored.is_some_and(|r| r.digest == digest);
        if !digest_matches {
            problems.push("the restored documents differ from the archived ones".into());
        }
        let indexes_match = match compare_indexes(db, &entry.name, &report).await {
            Ok(()) => true,
            Err(p) => {
                problems.push(p);
                false
            }
        };
        checks.push(CollectionCheck {
            name: entry.name.clone(),
            expected_documents: entry.documents,
            restored_documents: count,
            digest_matches,
            indexes_match,
            problems,
            masked: restored.and_then(|r| r.masked.clone()),
        });
    }
    let mut queries = Vec::new();
    for q in &cfg.drill.queries {
        crate::signal::check(&ctx.cancel)?;
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
    for c in &checks {
        let state = if c.problems.is_empty() { "ok".to_owned() } else { c.problems.join("; ") };
        ctx.out.line(format!("  {:<32} {:>10} documents  {state}", c.name, c.restored_documents));
    }
    for q in &queries {
        ctx.out.line(format!(
            "  query {:<26} {:>10} documents  {}",
            q.name,
            q.documents,
            if q.ok { "ok" } else { "too few" }
        ));
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
    ctx: &Context,
    cfg: &crate::config::Config,
    db: &mongodb::Database,
    source: &catalog::Resolved,
    mask: Option<std::sync::Arc<crate::mask::Masker>>,
    summary: &mut Summary,
) -> anyhow::Result<restore::Report> {
    let opts = Options {
        collections: None,
        replace: false,
        parallel_collections: cfg.restore.parallel_collections,
        insertion_workers: cfg.restore.insertion_workers,
        mask,
        progress: crate::output::progress::Progress::new(&ctx.out),
    };
    let survey = restore::survey(source, &ctx.cancel, restore::UNCHANGED).await?;
    let restored = restore::restore(db, source, &survey, &opts, &ctx.cancel).await;
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
