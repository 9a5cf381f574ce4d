//! `drill [ID|latest|PATH]`: restore into a scratch database `<db>_drill_<timestamp>`, compare
//! every collection's count and document digest with the archive, the indexes with
//! `metadata.json`, run the configured sample queries, and always drop the scratch database
//! (on success, on failure and on SIGINT/SIGTERM). Exit 0 or 6, with a JSON report.

use std::time::{Duration, Instant};

use bson::Document;
use serde::Serialize;

use crate::catalog;
use crate::cli::DrillArgs;
use crate::context::Context;
use crate::error::{CliError, ErrorKind};
use crate::exit::ExitStatus;
use crate::jobs;
use crate::mongo::{self, dump, load};
use crate::restore::{self, Options};

#[derive(Debug, Serialize)]
struct CollectionCheck {
    name: String,
    expected_documents: u64,
    restored_documents: u64,
    digest_matches: bool,
    indexes_match: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
}

#[derive(Debug, Serialize)]
struct QueryCheck {
    name: String,
    collection: String,
    documents: u64,
    min_documents: u64,
    ok: bool,
}

pub async fn run(ctx: &Context, args: &DrillArgs) -> anyhow::Result<ExitStatus> {
    let cfg = &ctx.config()?.config;
    let started = Instant::now();
    let source = catalog::resolve(cfg, &args.target).await?;
    ctx.out.set("id", &source.id);
    let db_name = &cfg.mongodb.database;
    let series = format!("{db_name}_drill_");
    let scratch = format!("{series}{}", jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S"));
    if scratch.len() > 63 {
        return Err(CliError::usage(format!(
            "scratch database name {scratch} is longer than 63 bytes"
        ))
        .into());
    }
    ctx.out.set("scratch_database", &scratch);
    let mongo =
        mongo::connect(&cfg.mongodb, mongo::Role::Operator, mongo::Access::ReadWrite).await?;
    let client = &mongo.client;

    // One drill at a time per database, so scratch databases of crashed drills can be dropped.
    let guard = crate::lock::acquire(
        jobs::lock_backend_for(cfg, &format!("{db_name}_drill")).await?,
        "drill",
        cfg.lock.ttl,
        &ctx.cancel,
    )
    .await?;
    for old in client.list_database_names().await?.into_iter().filter(|n| n.starts_with(&series)) {
        tracing::warn!("dropping scratch database {old} left by an interrupted drill");
        client.database(&old).drop().await?;
    }
    let db = client.database(&scratch);
    let result = drill(ctx, cfg, &db, &source).await;
    // Always drop the scratch database, even after a signal (with a bounded wait).
    let dropped = tokio::time::timeout(Duration::from_secs(60), db.drop()).await;
    let dropped_ok = matches!(dropped, Ok(Ok(())));
    if !dropped_ok {
        tracing::error!("could not drop scratch database {scratch}: the next drill drops it");
    }
    guard.release().await;
    ctx.out.set("scratch_dropped", dropped_ok);
    ctx.out.set("duration_seconds", started.elapsed().as_secs_f64());
    let ok = result?;
    if ok {
        ctx.out.line(format!(
            "drill of {} passed ({:.1}s); scratch database {scratch} dropped",
            source.id,
            started.elapsed().as_secs_f64()
        ));
        Ok(ExitStatus::Ok)
    } else {
        Err(CliError::new(ErrorKind::Check, format!("drill of {} failed: the restored data differs from the backup", source.id))
            .with_hint("see the per-collection report (--output json); verify the archive with `daraa-ops verify`")
            .into())
    }
}

/// Restores and compares; `Ok(false)` when something differs.
async fn drill(
    ctx: &Context,
    cfg: &crate::config::Config,
    db: &mongodb::Database,
    source: &catalog::Resolved,
) -> anyhow::Result<bool> {
    let opts = Options {
        collections: None,
        replace: false,
        parallel_collections: cfg.restore.parallel_collections,
        insertion_workers: cfg.restore.insertion_workers,
    };
    let report = match restore::restore(db, source, &opts, &ctx.cancel).await {
        Ok(r) => r,
        Err(e) => {
            if let Some(f) = e.downcast_ref::<restore::Failed>() {
                ctx.out.set("collections", &f.collections);
            }
            // A damaged archive is a failed drill (exit 6), as is any document the server refused.
            return Err(e);
        }
    };
    let mut all_ok = true;
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
        all_ok &= problems.is_empty();
        checks.push(CollectionCheck {
            name: entry.name.clone(),
            expected_documents: entry.documents,
            restored_documents: count,
            digest_matches,
            indexes_match,
            problems,
        });
    }
    let mut queries = Vec::new();
    for q in &cfg.drill.queries {
        crate::signal::check(&ctx.cancel)?;
        let filter =
            load::to_document(&serde_json::Value::Object(q.filter.clone().into_iter().collect()))?;
        let n = db.collection::<Document>(&q.collection).count_documents(filter).await?;
        let ok = n >= q.min_documents;
        all_ok &= ok;
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
    ctx.out.set("collections", &checks);
    ctx.out.set("queries", &queries);
    Ok(all_ok)
}

/// The restored indexes (names, keys in order, options) against `metadata.json`, as listed by
/// the server, so that an index or option the server silently dropped is caught.
async fn compare_indexes(
    db: &mongodb::Database,
    name: &str,
    report: &restore::Report,
) -> Result<(), String> {
    let archived: Vec<Document> = report
        .metadata
        .get(name)
        .and_then(|m| m.get("indexes"))
        .and_then(|i| i.as_array())
        .map(|a| a.iter().filter_map(|i| load::to_document(i).ok()).collect())
        .unwrap_or_default();
    let live =
        dump::list_indexes(db, name).await.map_err(|e| format!("cannot list indexes: {e}"))?;
    index_differences(&archived, &live)
}

/// Options that change what an index does; anything else (`v`, `ns`, versions) is ignored.
const COMPARED_OPTIONS: &[&str] = &[
    "unique",
    "sparse",
    "expireAfterSeconds",
    "partialFilterExpression",
    "collation",
    "weights",
    "default_language",
    "hidden",
];

pub fn index_differences(archived: &[Document], live: &[Document]) -> Result<(), String> {
    let mut problems = Vec::new();
    for a in archived {
        let name = a.get_str("name").unwrap_or("?");
        let Some(l) = live.iter().find(|l| l.get_str("name").ok() == Some(name)) else {
            problems.push(format!("index {name} missing"));
            continue;
        };
        let keys = |d: &Document| -> Vec<(String, String)> {
            d.get_document("key")
                .map(|k| k.iter().map(|(f, v)| (f.clone(), number_or_text(v))).collect())
                .unwrap_or_default()
        };
        if keys(a) != keys(l) {
            problems.push(format!("index {name} has keys {:?}, archived {:?}", keys(l), keys(a)));
        }
        for opt in COMPARED_OPTIONS {
            let (av, lv) = (a.get(*opt).map(number_or_text), l.get(*opt).map(number_or_text));
            // `sparse: false` and `unique: false` mean the same as absent.
            let falsy = |v: &Option<String>| v.is_none() || v.as_deref() == Some("false");
            if av != lv && !(falsy(&av) && falsy(&lv)) {
                problems.push(format!("index {name}: {opt} is {lv:?}, archived {av:?}"));
            }
        }
    }
    for l in live {
        let name = l.get_str("name").unwrap_or("?");
        if !archived.iter().any(|a| a.get_str("name").ok() == Some(name)) {
            problems.push(format!("index {name} is not in the archive"));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

/// Numbers compare by value whatever their BSON type (1, 1i64 and 1.0 are the same key order).
fn number_or_text(v: &bson::Bson) -> String {
    match v {
        bson::Bson::Int32(n) => f64::from(*n).to_string(),
        bson::Bson::Int64(n) => (*n as f64).to_string(),
        bson::Bson::Double(n) => n.to_string(),
        bson::Bson::Document(d) => {
            let inner: Vec<String> =
                d.iter().map(|(k, v)| format!("{k}:{}", number_or_text(v))).collect();
            format!("{{{}}}", inner.join(","))
        }
        other => other.to_string(),
    }
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
        assert!(index_differences(&archived, &swapped).unwrap_err().contains("has keys"));
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
