//! `indexes validate|apply|export`: the live indexes of the configured database against the
//! spec file (`indexes.spec`, or `--spec`).
//!
//! Collections the spec does not name are reported as `unmanaged` and never changed; their
//! indexes are not drift. `_id_` is never extra.

use std::time::Instant;

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use indexmap::IndexMap;
use mongodb::Database;
use mongodb::bson::{Bson, doc};
use serde::Serialize;

use crate::cli::{IndexesApplyArgs, IndexesCommand, IndexesExportArgs, IndexesSpecArgs};
use crate::config::Config;
use crate::context::Context;
use crate::indexes::diff::{Finding, LiveIndex, Status, compare_collection};
use crate::indexes::spec::{self, Spec};
use crate::mongo::{self, Access, Role, dump};
use crate::outcome::CliError;
use crate::outcome::Outcome;
use crate::output::progress::Progress;

pub async fn run(ctx: &Context, cmd: &IndexesCommand) -> anyhow::Result<Outcome> {
    match cmd {
        IndexesCommand::Validate(args) => validate(ctx, args).await,
        IndexesCommand::Apply(args) => apply(ctx, args).await,
        IndexesCommand::Export(args) => export(ctx, args).await,
    }
}

fn load_spec(cfg: &Config, args: &IndexesSpecArgs) -> anyhow::Result<Spec> {
    let path = args.spec.clone().or_else(|| cfg.indexes.spec.clone()).ok_or_else(|| {
        CliError::usage("no index spec: set indexes.spec in the config or pass --spec FILE")
            .with_hint("start from config/indexes.yaml, or write one with: daraa-ops indexes export --out indexes.yaml")
    })?;
    Ok(spec::load(&path)?)
}

/// The JSON summary of `indexes validate` (docs/cli.md).
#[derive(Debug, Serialize)]
struct ValidateSummary<'a> {
    database: &'a str,
    spec: String,
    counts: &'a IndexMap<&'static str, usize>,
    collections: &'a [CollectionReport],
}

/// The JSON summary of `indexes apply` (docs/cli.md).
#[derive(Debug, Serialize)]
struct ApplySummary<'a> {
    dry_run: bool,
    database: &'a str,
    collections: Vec<&'a CollectionPlan>,
    failed: &'a [String],
}

/// One collection's comparison.
#[derive(Debug, Serialize)]
struct CollectionReport {
    name: String,
    /// `ok`, `drift`, `missing` (the collection does not exist) or `unmanaged`.
    status: &'static str,
    indexes: Vec<Finding>,
}

async fn compare(db: &Database, spec: &Spec) -> anyhow::Result<Vec<CollectionReport>> {
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

async fn live_indexes(db: &Database, collection: &str) -> anyhow::Result<Vec<LiveIndex>> {
    let docs = dump::list_indexes(db, collection)
        .await
        .map_err(|e| anyhow::anyhow!("listIndexes on {collection}: {e}"))?;
    Ok(docs.iter().filter_map(LiveIndex::from_doc).collect())
}

fn counts(reports: &[CollectionReport]) -> IndexMap<&'static str, usize> {
    let mut c: IndexMap<&'static str, usize> =
        [("ok", 0), ("missing", 0), ("extra", 0), ("different", 0)].into_iter().collect();
    for f in reports.iter().flat_map(|r| &r.indexes) {
        *c.entry(f.status.as_str()).or_default() += 1;
    }
    c
}

fn print_table(ctx: &Context, reports: &[CollectionReport]) {
    if ctx.out.is_json() {
        return;
    }
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
    ctx.out.line(t);
}

async fn validate(ctx: &Context, args: &IndexesSpecArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let spec = load_spec(cfg, args)?;
    let mongo = mongo::connect(
        &cfg.mongodb,
        Role::Job(crate::mongo::privileges::Job::Indexes),
        Access::ReadOnly,
    )
    .await?;
    let db = mongo.client.database(&cfg.mongodb.database);
    let reports = compare(&db, &spec).await?;
    print_table(ctx, &reports);
    let c = counts(&reports);
    let drift = c["missing"] + c["extra"] + c["different"];
    ctx.out.line(format!(
        "{}: {} ok, {} missing, {} extra, {} different",
        db.name(),
        c["ok"],
        c["missing"],
        c["extra"],
        c["different"]
    ));
    ctx.out.summary(&ValidateSummary {
        database: db.name(),
        spec: spec.path.display().to_string(),
        counts: &c,
        collections: &reports,
    });
    Ok(if drift == 0 { Outcome::Ok } else { Outcome::Drift })
}

/// What `apply` does to one collection.
#[derive(Debug, Default, Serialize)]
struct CollectionPlan {
    collection: String,
    create: Vec<String>,
    ttl: Vec<String>,
    rebuild: Vec<String>,
    drop: Vec<String>,
    /// Differences left because their flag was not given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    left: Vec<String>,
    #[serde(skip)]
    findings: Vec<Finding>,
}

impl CollectionPlan {
    fn is_empty(&self) -> bool {
        self.create.is_empty()
            && self.ttl.is_empty()
            && self.rebuild.is_empty()
            && self.drop.is_empty()
    }
}

fn plan(reports: Vec<CollectionReport>, args: &IndexesApplyArgs) -> Vec<CollectionPlan> {
    let mut out = Vec::new();
    for r in reports {
        let mut p = CollectionPlan { collection: r.name, ..Default::default() };
        for f in &r.indexes {
            let name = f.name.clone();
            match f.status {
                Status::Ok => {}
                Status::Missing => p.create.push(name),
                Status::Different if f.ttl_only() => p.ttl.push(name),
                Status::Different if args.rebuild => p.rebuild.push(name),
                Status::Different => p.left.push(format!("{name}: different (use --rebuild)")),
                Status::Extra if args.drop_extra => p.drop.push(name),
                Status::Extra => p.left.push(format!("{name}: extra (use --drop-extra)")),
            }
        }
        p.findings = r.indexes;
        out.push(p);
    }
    out
}

async fn apply(ctx: &Context, args: &IndexesApplyArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let spec = load_spec(cfg, &args.spec)?;
    let mongo = mongo::connect(
        &cfg.mongodb,
        Role::Job(crate::mongo::privileges::Job::Indexes),
        Access::ReadWrite,
    )
    .await?;
    let db = mongo.client.database(&cfg.mongodb.database);
    let plans = plan(compare(&db, &spec).await?, args);

    let rebuild: Vec<String> = plans
        .iter()
        .flat_map(|p| p.rebuild.iter().map(move |n| format!("{}.{n}", p.collection)))
        .collect();
    if !args.dry_run && !rebuild.is_empty() {
        super::confirm(
            ctx,
            &format!(
                "Rebuild {} index(es) of {} (drop, then create from the spec; queries lose them meanwhile): {}?",
                rebuild.len(),
                db.name(),
                rebuild.join(", ")
            ),
        )?;
    }
    let work: Vec<&CollectionPlan> = plans.iter().filter(|p| !p.is_empty()).collect();
    let progress = Progress::new(&ctx.out);
    let steps =
        progress.steps("indexes", if args.dry_run { 0 } else { work.len() as u64 }, "collections");
    let mut failed: Vec<String> = Vec::new();
    let mut created = 0;
    for p in &work {
        crate::signal::check(&ctx.cancel)?;
        steps.working_on(&p.collection);
        let started = Instant::now();
        let (made, refused) =
            apply_collection(ctx, &db, p, &spec.collections[&p.collection], args).await?;
        created += made;
        failed.extend(refused);
        steps.step_done();
        if !args.dry_run && !steps.visible() {
            tracing::info!(
                "{}: indexes done in {:.1}s",
                p.collection,
                started.elapsed().as_secs_f64()
            );
        }
    }
    steps.finish();
    let left: Vec<String> = plans
        .iter()
        .flat_map(|p| p.left.iter().map(move |l| format!("{}.{l}", p.collection)))
        .collect();
    for l in &left {
        ctx.out.line(format!("left as is: {l}"));
    }
    let total = |f: fn(&CollectionPlan) -> usize| plans.iter().map(f).sum::<usize>();
    ctx.out.line(format!(
        "{}{} created, {} TTL changed, {} rebuilt, {} dropped, {} left, {} failed",
        if args.dry_run { "plan: " } else { "" },
        if args.dry_run { total(|p| p.create.len()) } else { created },
        total(|p| p.ttl.len()),
        total(|p| p.rebuild.len()),
        total(|p| p.drop.len()),
        left.len(),
        failed.len()
    ));
    ctx.out.summary(&ApplySummary {
        dry_run: args.dry_run,
        database: db.name(),
        collections: plans.iter().filter(|p| !p.is_empty() || !p.left.is_empty()).collect(),
        failed: &failed,
    });
    if !failed.is_empty() {
        for f in &failed {
            tracing::error!("{f}");
        }
        return Err(CliError::new(
            Outcome::Partial,
            format!("{} index operation(s) failed; the first: {}", failed.len(), failed[0]),
        )
        .with_hint("run `daraa-ops indexes validate` to see what is in place")
        .into());
    }
    Ok(if left.is_empty() { Outcome::Ok } else { Outcome::Drift })
}

/// One collection's plan: rebuilds (drop first), creations, TTL changes, drops. Returns how
/// many indexes were created and the operations the server refused.
async fn apply_collection(
    ctx: &Context,
    db: &mongodb::Database,
    p: &CollectionPlan,
    specs: &[crate::indexes::spec::IndexSpec],
    args: &IndexesApplyArgs,
) -> anyhow::Result<(usize, Vec<String>)> {
    let verb = |v: &str| if args.dry_run { format!("would {v}") } else { v.to_owned() };
    let mut failed = Vec::new();
    let mut created = 0;
    let finding = |name: &str| p.findings.iter().find(|f| f.name == name);
    for name in &p.rebuild {
        let live_name =
            finding(name).and_then(|f| f.live.as_ref()).map_or(name.as_str(), |l| l.name.as_str());
        ctx.out.line(format!("{} {}.{live_name}", verb("drop (rebuild)"), p.collection));
        if !args.dry_run
            && let Err(e) = drop_index(db, &p.collection, live_name).await
        {
            failed.push(e);
        }
    }
    let to_create: Vec<&String> = p.create.iter().chain(&p.rebuild).collect();
    if !to_create.is_empty() {
        let mut docs = Vec::new();
        for name in &to_create {
            let s = specs.iter().find(|s| &s.name() == *name).expect("planned from the spec");
            ctx.out.line(format!(
                "{} {}.{name} {}",
                verb("create"),
                p.collection,
                crate::indexes::diff::show_keys(&s.keys)
            ));
            docs.push(Bson::Document(s.to_create_doc()?));
        }
        if !args.dry_run {
            let refused = create_indexes(db, &p.collection, &to_create, docs).await;
            created += to_create.len() - refused.len();
            failed.extend(refused);
        }
    }
    for name in &p.ttl {
        let s = specs.iter().find(|s| &s.name() == name).expect("planned from the spec");
        let ttl = s.expire_after_seconds.unwrap_or_default();
        ctx.out.line(format!(
            "{} {}.{name} expireAfterSeconds={ttl}",
            verb("change TTL of"),
            p.collection
        ));
        if !args.dry_run
            && let Err(e) = db
                .run_command(doc! {"collMod": &p.collection, "index": {"name": name, "expireAfterSeconds": ttl}})
                .await
        {
            failed.push(format!("collMod on {}.{name}: {}", p.collection, command_error(&e)));
        }
    }
    for name in &p.drop {
        ctx.out.line(format!("{} {}.{name} (extra)", verb("drop"), p.collection));
        if !args.dry_run
            && let Err(e) = drop_index(db, &p.collection, name).await
        {
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

async fn export(ctx: &Context, args: &IndexesExportArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let mongo = mongo::connect(
        &cfg.mongodb,
        Role::Job(crate::mongo::privileges::Job::Indexes),
        Access::ReadOnly,
    )
    .await?;
    let db = mongo.client.database(&cfg.mongodb.database);
    let collections = dump::list_collections(&db)
        .await
        .map_err(|e| anyhow::anyhow!("listCollections on {}: {e}", db.name()))?;
    let mut out = IndexMap::new();
    for c in collections.iter().filter(|c| c.kind == "collection") {
        let live = live_indexes(&db, &c.name).await?;
        out.insert(
            c.name.clone(),
            live.iter().filter(|i| i.name != "_id_").map(LiveIndex::to_spec).collect::<Vec<_>>(),
        );
    }
    let header = format!(
        "Index spec exported by daraa-ops {} from database {} at {}.\nEdit freely; `daraa-ops indexes validate --spec FILE` compares it with the server.",
        env!("CARGO_PKG_VERSION"),
        db.name(),
        jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ")
    );
    let yaml = spec::to_yaml(&out, &header);
    let count: usize = out.values().map(Vec::len).sum();
    let mut summary = ExportSummary {
        database: db.name().to_owned(),
        collections: out.len(),
        indexes: count,
        path: None,
        spec: None,
    };
    match &args.out {
        Some(path) => {
            crate::files::write_atomic(path, yaml.as_bytes()).map_err(|e| {
                CliError::new(Outcome::Failed, format!("cannot write {}: {e}", path.display()))
            })?;
            summary.path = Some(path.display().to_string());
            ctx.out.line(format!(
                "wrote {count} index(es) of {} collection(s) to {}",
                out.len(),
                path.display()
            ));
        }
        None => {
            ctx.out.raw(&yaml);
            summary.spec = Some(yaml);
        }
    }
    ctx.out.summary(&summary);
    Ok(Outcome::Ok)
}

/// The JSON summary of `indexes export` (docs/cli.md).
#[derive(Debug, Serialize)]
struct ExportSummary {
    database: String,
    collections: usize,
    indexes: usize,
    /// With `--out`: the file written.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    /// Without `--out`: the spec itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    spec: Option<String>,
}
