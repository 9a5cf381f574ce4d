//! The server half of `indexes`: the live indexes compared with the spec, the plan that
//! brings them in line, applying it collection by collection, and a spec exported from a
//! database. The spec and the comparison rules are pure ([`super::spec`], [`super::diff`]).

use std::time::Instant;

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use indexmap::IndexMap;
use mongodb::Database;
use mongodb::bson::{Bson, doc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::diff::{Finding, LiveIndex, Status, compare_collection};
use super::spec::{IndexSpec, Spec};
use crate::mongo::dump;
use crate::output::progress::Progress;

/// One collection's comparison.
#[derive(Debug, Serialize)]
pub struct CollectionReport {
    pub name: String,
    /// `ok`, `drift`, `missing` (the collection does not exist) or `unmanaged`.
    pub status: &'static str,
    pub indexes: Vec<Finding>,
}

/// Every collection of the spec and of the database, compared.
pub async fn compare(db: &Database, spec: &Spec) -> anyhow::Result<Vec<CollectionReport>> {
    let live_collections = dump::list_collections(db)
        .await
        .map_err(|e| anyhow::anyhow!("listCollections on {}: {e}", db.name()))?;
    let mut reports = Vec::new();
    for (name, indexes) in &spec.collections {
        let exists = live_collections.iter().any(|c| &c.name == name && c.kind == "collection");
        let live = if exists { live_indexes(db, name).await? } else { Vec::new() };
        let findings = compare_collection(indexes, &live);
        let ok = findings.iter().all(|f| f.status == Status::Ok);
        let status = match (exists, ok) {
            (_, true) => "ok",
            (false, false) => "missing",
            (true, false) => "drift",
        };
        reports.push(CollectionReport { name: name.clone(), status, indexes: findings });
    }
    for c in live_collections.iter().filter(|c| c.kind == "collection") {
        if !spec.collections.contains_key(&c.name) {
            reports.push(CollectionReport {
                name: c.name.clone(),
                status: "unmanaged",
                indexes: Vec::new(),
            });
        }
    }
    Ok(reports)
}

pub(crate) async fn live_indexes(
    db: &Database,
    collection: &str,
) -> anyhow::Result<Vec<LiveIndex>> {
    let docs = dump::list_indexes(db, collection)
        .await
        .map_err(|e| anyhow::anyhow!("listIndexes on {collection}: {e}"))?;
    Ok(docs.iter().filter_map(LiveIndex::from_doc).collect())
}

/// Findings by status: ok, missing, extra, different.
pub fn counts(reports: &[CollectionReport]) -> IndexMap<&'static str, usize> {
    let mut c: IndexMap<&'static str, usize> =
        [("ok", 0), ("missing", 0), ("extra", 0), ("different", 0)].into_iter().collect();
    for f in reports.iter().flat_map(|r| &r.indexes) {
        *c.entry(f.status.as_str()).or_default() += 1;
    }
    c
}

/// The comparison as a table: one row per index, or per collection without any.
pub fn table(reports: &[CollectionReport]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY);
    t.set_header(["COLLECTION", "INDEX", "KEYS", "STATUS", "DETAIL"]);
    for r in reports {
        if r.indexes.is_empty() {
            t.add_row([r.name.as_str(), "-", "-", r.status, ""]);
        }
        for f in &r.indexes {
            t.add_row([
                r.name.as_str(),
                f.name.as_str(),
                f.keys.as_str(),
                f.status.as_str(),
                &f.details.join("; "),
            ]);
        }
    }
    t
}

/// What `apply` does to one collection.
#[derive(Debug, Default, Serialize)]
pub struct CollectionPlan {
    pub collection: String,
    pub create: Vec<String>,
    pub ttl: Vec<String>,
    pub rebuild: Vec<String>,
    pub drop: Vec<String>,
    /// Differences left because their flag was not given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left: Vec<String>,
    #[serde(skip)]
    findings: Vec<Finding>,
}

impl CollectionPlan {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
            && self.ttl.is_empty()
            && self.rebuild.is_empty()
            && self.drop.is_empty()
    }
}

/// What `apply` would do; `rebuild` and `drop_extra` are the flags of the same names.
pub fn plan(
    reports: Vec<CollectionReport>,
    rebuild: bool,
    drop_extra: bool,
) -> Vec<CollectionPlan> {
    let mut out = Vec::new();
    for r in reports {
        let mut p = CollectionPlan { collection: r.name, ..Default::default() };
        for f in &r.indexes {
            let name = f.name.clone();
            match f.status {
                Status::Ok => {}
                Status::Missing => p.create.push(name),
                Status::Different if f.ttl_only() => p.ttl.push(name),
                Status::Different if rebuild => p.rebuild.push(name),
                Status::Different => p.left.push(format!("{name}: different (use --rebuild)")),
                Status::Extra if drop_extra => p.drop.push(name),
                Status::Extra => p.left.push(format!("{name}: extra (use --drop-extra)")),
            }
        }
        p.findings = r.indexes;
        out.push(p);
    }
    out
}

/// What applying a plan did: indexes created, operations the server refused.
pub struct Applied {
    pub created: usize,
    pub failed: Vec<String>,
}

/// Applies the plans collection by collection (a dry run only says what it would do); each
/// operation is said through `say` before it runs. Refused operations are collected, not
/// fatal: the other indexes still get built.
pub async fn apply(
    db: &Database,
    spec: &Spec,
    plans: &[CollectionPlan],
    dry_run: bool,
    cancel: &CancellationToken,
    progress: &Progress,
    say: &(dyn Fn(String) + Sync),
) -> anyhow::Result<Applied> {
    let work: Vec<&CollectionPlan> = plans.iter().filter(|p| !p.is_empty()).collect();
    let steps =
        progress.steps("indexes", if dry_run { 0 } else { work.len() as u64 }, "collections");
    let mut failed: Vec<String> = Vec::new();
    let mut created = 0;
    for p in &work {
        crate::signal::check(cancel)?;
        steps.working_on(&p.collection);
        let started = Instant::now();
        let (made, refused) =
            apply_collection(db, p, &spec.collections[&p.collection], dry_run, say).await?;
        created += made;
        failed.extend(refused);
        steps.step_done();
        if !dry_run && !steps.visible() {
            tracing::info!(
                "{}: indexes done in {:.1}s",
                p.collection,
                started.elapsed().as_secs_f64()
            );
        }
    }
    steps.finish();
    Ok(Applied { created, failed })
}

/// One collection's plan: rebuilds (drop first), creations, TTL changes, drops. Returns how
/// many indexes were created and the operations the server refused.
async fn apply_collection(
    db: &mongodb::Database,
    p: &CollectionPlan,
    specs: &[IndexSpec],
    dry_run: bool,
    say: &(dyn Fn(String) + Sync),
) -> anyhow::Result<(usize, Vec<String>)> {
    let verb = |v: &str| if dry_run { format!("would {v}") } else { v.to_owned() };
    let mut failed = Vec::new();
    let mut created = 0;
    let finding = |name: &str| p.findings.iter().find(|f| f.name == name);
    for name in &p.rebuild {
        let live_name =
            finding(name).and_then(|f| f.live.as_ref()).map_or(name.as_str(), |l| l.name.as_str());
        say(format!("{} {}.{live_name}", verb("drop (rebuild)"), p.collection));
        if !dry_run && let Err(e) = drop_index(db, &p.collection, live_name).await {
            failed.push(e);
        }
    }
    let to_create: Vec<&String> = p.create.iter().chain(&p.rebuild).collect();
    if !to_create.is_empty() {
        let mut docs = Vec::new();
        for name in &to_create {
            let s = specs.iter().find(|s| &s.name() == *name).expect("planned from the spec");
            say(format!(
                "{} {}.{name} {}",
                verb("create"),
                p.collection,
                crate::indexes::diff::show_keys(&s.keys)
            ));
            docs.push(Bson::Document(s.to_create_doc()?));
        }
        if !dry_run {
            let refused = create_indexes(db, &p.collection, &to_create, docs).await;
            created += to_create.len() - refused.len();
            failed.extend(refused);
        }
    }
    for name in &p.ttl {
        let s = specs.iter().find(|s| &s.name() == name).expect("planned from the spec");
        let ttl = s.expire_after_seconds.unwrap_or_default();
        say(format!("{} {}.{name} expireAfterSeconds={ttl}", verb("change TTL of"), p.collection));
        if !dry_run
            && let Err(e) = db
                .run_command(doc! {"collMod": &p.collection, "index": {"name": name, "expireAfterSeconds": ttl}})
                .await
        {
            failed.push(format!("collMod on {}.{name}: {}", p.collection, command_error(&e)));
        }
    }
    for name in &p.drop {
        say(format!("{} {}.{name} (extra)", verb("drop"), p.collection));
        if !dry_run && let Err(e) = drop_index(db, &p.collection, name).await {
            failed.push(e);
        }
    }
    Ok((created, failed))
}

/// Creates a collection's indexes in one command (one scan of the data on MongoDB); when the
/// server refuses the batch, one at a time, so one refused index does not hold back the rest.
async fn create_indexes(
    db: &Database,
    collection: &str,
    names: &[&String],
    docs: Vec<Bson>,
) -> Vec<String> {
    let batch = db.run_command(doc! {"createIndexes": collection, "indexes": docs.clone()}).await;
    match batch {
        Ok(_) => return Vec::new(),
        Err(e) if docs.len() == 1 => {
            return vec![format!(
                "createIndexes on {collection} ({}): {}",
                names[0],
                command_error(&e)
            )];
        }
        Err(_) => {}
    }
    let mut failed = Vec::new();
    for (name, d) in names.iter().zip(docs) {
        if let Err(e) = db.run_command(doc! {"createIndexes": collection, "indexes": [d]}).await {
            failed.push(format!("createIndexes on {collection} ({name}): {}", command_error(&e)));
        }
    }
    failed
}

async fn drop_index(db: &Database, collection: &str, name: &str) -> Result<(), String> {
    db.run_command(doc! {"dropIndexes": collection, "index": name})
        .await
        .map(|_| ())
        .map_err(|e| format!("dropIndexes {collection}.{name}: {}", command_error(&e)))
}

fn command_error(e: &mongodb::error::Error) -> String {
    match e.kind.as_ref() {
        mongodb::error::ErrorKind::Command(c) => {
            format!("the server refused ({} {}: {})", c.code, c.code_name, c.message)
        }
        _ => e.to_string(),
    }
}

/// The live indexes of every collection as a spec (without `_id_`).
pub async fn export(db: &Database) -> anyhow::Result<IndexMap<String, Vec<IndexSpec>>> {
    let collections = dump::list_collections(db)
        .await
        .map_err(|e| anyhow::anyhow!("listCollections on {}: {e}", db.name()))?;
    let mut out = IndexMap::new();
    for c in collections.iter().filter(|c| c.kind == "collection") {
        let live = live_indexes(db, &c.name).await?;
        out.insert(
            c.name.clone(),
            live.iter().filter(|i| i.name != "_id_").map(LiveIndex::to_spec).collect::<Vec<_>>(),
        );
    }
    Ok(out)
}

/// An exported spec as YAML, with a header saying where and when it came from.
pub fn export_yaml(spec: &IndexMap<String, Vec<IndexSpec>>, database: &str) -> String {
    let header = format!(
        "Index spec exported by daraa-ops {} from database {database} at {}.\nEdit freely; `daraa-ops indexes validate --spec FILE` compares it with the server.",
        env!("CARGO_PKG_VERSION"),
        jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ")
    );
    super::spec::to_yaml(spec, &header)
}
