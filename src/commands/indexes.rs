//! `indexes validate|apply|export`: the live indexes of the configured database against the
//! spec file (`indexes.spec`, or `--spec`).
//!
//! Collections the spec does not name are reported as `unmanaged` and never changed; their
//! indexes are not drift. `_id_` is never extra.

use indexmap::IndexMap;
use serde::Serialize;

use crate::cli::{IndexesApplyArgs, IndexesCommand, IndexesExportArgs, IndexesSpecArgs};
use crate::config::Config;
use crate::context::Context;
use crate::error::CliError;
use crate::error::Outcome;
use crate::indexes::server::{self, CollectionPlan, CollectionReport};
use crate::indexes::spec::{self, Spec};
use crate::mongo::{self, Access, Role};
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
    let reports = server::compare(&db, &spec).await?;
    if !ctx.out.is_json() {
        ctx.out.line(server::table(&reports));
    }
    let c = server::counts(&reports);
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
    let plans = server::plan(server::compare(&db, &spec).await?, args.rebuild, args.drop_extra);
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
    let progress = Progress::new(&ctx.out);
    let say = |line: String| ctx.out.line(line);
    let applied =
        server::apply(&db, &spec, &plans, args.dry_run, &ctx.cancel, &progress, &say).await?;
    let left: Vec<String> = plans
        .iter()
        .flat_map(|p| p.left.iter().map(move |l| format!("{}.{l}", p.collection)))
        .collect();
    for l in &left {
        ctx.out.line(format!("left as is: {l}"));
    }
    let failed = &applied.failed;
    let total = |f: fn(&CollectionPlan) -> usize| plans.iter().map(f).sum::<usize>();
    ctx.out.line(format!(
        "{}{} created, {} TTL changed, {} rebuilt, {} dropped, {} left, {} failed",
        if args.dry_run { "plan: " } else { "" },
        if args.dry_run { total(|p| p.create.len()) } else { applied.created },
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
        failed,
    });
    if !failed.is_empty() {
        for f in failed {
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

async fn export(ctx: &Context, args: &IndexesExportArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let mongo = mongo::connect(
        &cfg.mongodb,
        Role::Job(crate::mongo::privileges::Job::Indexes),
        Access::ReadOnly,
    )
    .await?;
    let db = mongo.client.database(&cfg.mongodb.database);
    let out = server::export(&db).await?;
    let yaml = server::export_yaml(&out, db.name());
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
