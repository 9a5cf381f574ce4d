//! `restore <ID|latest|PATH>`: the restore engine (src/restore/) behind the checks an
//! operator expects: nothing non-empty is replaced without `--drop`, `--drop` is confirmed,
//! protected databases are refused, and the application's cache is invalidated afterwards.

use std::time::Instant;

use crate::archive::{CollectionEntry, Manifest};
use crate::catalog;
use crate::cli::RestoreArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::mongo::{self, load};
use crate::outcome::Outcome;
use crate::restore::{self, Options};
use serde::Serialize;

pub async fn run(ctx: &Context, args: &RestoreArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let started = Instant::now();
    let target_db = args.target_db.clone().unwrap_or_else(|| cfg.mongodb.database.clone());
    ctx.out.set("target_database", &target_db);
    check_protected(ctx, args, &target_db)?;
    let source = catalog::resolve(cfg, &args.target).await?;
    ctx.out.set("id", &source.id);
    ctx.out.set(
        "source",
        format!("{}/{}", source.storage.describe().trim_end_matches('/'), source.archive_name),
    );
    let mongo =
        mongo::connect(&cfg.mongodb, mongo::Role::Operator, mongo::Access::ReadWrite).await?;
    let db = mongo.client.database(&target_db);
    let manifest = manifest_of(&source).await?;
    let selected = select(&manifest, args.collections.as_deref())?;
    let existing = load::existing(&db).await?;
    if args.dry_run {
        dry_run(ctx, args, &target_db, &manifest, &selected, &existing);
        return Ok(Outcome::Ok);
    }
    confirm_replace(ctx, args, &target_db, &selected, &existing)?;

    let guard = crate::lock::take(cfg, &target_db, "restore", &ctx.cancel).await?;
    let opts = Options {
        collections: args.collections.clone(),
        replace: args.drop,
        parallel_collections: cfg.restore.parallel_collections,
        insertion_workers: cfg.restore.insertion_workers,
    };
    let result = restore::restore(&db, &source, &opts, &ctx.cancel).await;
    guard.release().await;
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(f) = e.downcast_ref::<restore::Failed>() {
                ctx.out.set("collections", &f.collections);
            }
            return Err(e);
        }
    };
    print_report(ctx, &report, &target_db, started.elapsed().as_secs_f64());
    // The application's cache holds data of the old database: clear it after a restore into
    // the live database.
    if target_db == cfg.mongodb.database && !args.no_cache_invalidation {
        invalidate_cache(ctx, cfg).await;
    }
    Ok(Outcome::Ok)
}

/// A protected database is only written after a confirmation (`--yes` in scripts) or with
/// the explicit `--force-protected`.
fn check_protected(ctx: &Context, args: &RestoreArgs, target_db: &str) -> anyhow::Result<()> {
    let cfg = &ctx.config()?.config;
    if cfg.restore.protected_databases.iter().any(|p| p == target_db)
        && !args.force_protected
        && !args.dry_run
    {
        super::confirm(
            ctx,
            &format!("Database {target_db} is in restore.protected_databases. Restore into it?"),
        )
        .map_err(|e| {
            e.with_hint("restore into another database with --target-db, or confirm with --yes")
        })?;
    }
    Ok(())
}

/// What the backup holds: the sidecar, or (a bare path) the archive's own manifest.
async fn manifest_of(source: &catalog::Resolved) -> anyhow::Result<Manifest> {
    if let Some(s) = &source.sidecar {
        return Ok(s.manifest.clone());
    }
    let reader = source.storage.reader(&source.archive_name).await?;
    let name = source.archive_name.clone();
    Ok(tokio::task::spawn_blocking(move || crate::archive::reader::verify(reader, None))
        .await?
        .map_err(|e| CliError::new(Outcome::Drift, format!("{name}: {e}")))?
        .manifest)
}

/// The collections `--collections` picks (all without it); each named one must exist.
fn select<'m>(
    manifest: &'m Manifest,
    wanted: Option<&[String]>,
) -> anyhow::Result<Vec<&'m CollectionEntry>> {
    if let Some(missing) = wanted.into_iter().flatten().find(|w| manifest.collection(w).is_none()) {
        return Err(CliError::usage(format!(
            "collection {missing} is not in backup {}",
            manifest.id
        ))
        .with_hint(format!(
            "it holds: {}",
            manifest.collections.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
        ))
        .into());
    }
    Ok(manifest.collections.iter().filter(|c| wanted.is_none_or(|w| w.contains(&c.name))).collect())
}

type Existing = [(String, String, u64)];

fn live_count(existing: &Existing, name: &str) -> Option<u64> {
    existing
        .iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, kind, n)| if kind == "view" { 1 } else { *n })
}

fn dry_run(
    ctx: &Context,
    args: &RestoreArgs,
    target_db: &str,
    manifest: &Manifest,
    selected: &[&CollectionEntry],
    existing: &Existing,
) {
    ctx.out.line(format!("would restore {} into {target_db}:", manifest.id));
    let mut plan = Vec::new();
    for c in selected {
        let live = existing.iter().find(|(n, _, _)| *n == c.name).map(|(_, _, n)| *n);
        let action = match live {
            None => PlannedAction::Create,
            Some(0) => PlannedAction::CreateExistsEmpty,
            Some(_) if args.drop => PlannedAction::Replace,
            Some(_) => PlannedAction::RefusedWithoutDrop,
        };
        ctx.out.line(format!(
            "  {:<32} {:>10} documents   target has {:>10}   {}",
            c.name,
            c.documents,
            live.map_or_else(|| "-".into(), |n| n.to_string()),
            action.text()
        ));
        plan.push(Planned {
            name: c.name.clone(),
            kind: c.kind.clone(),
            documents: c.documents,
            existing_documents: live,
            action,
        });
    }
    ctx.out.set("dry_run", true);
    ctx.out.set("collections", plan);
}

/// One collection of a dry run.
#[derive(Debug, Serialize)]
struct Planned {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    documents: u64,
    existing_documents: Option<u64>,
    action: PlannedAction,
}

#[derive(Debug, Clone, Copy, Serialize)]
enum PlannedAction {
    #[serde(rename = "create")]
    Create,
    #[serde(rename = "create (exists, empty)")]
    CreateExistsEmpty,
    #[serde(rename = "replace")]
    Replace,
    #[serde(rename = "refused without --drop")]
    RefusedWithoutDrop,
}

impl PlannedAction {
    fn text(self) -> &'static str {
        match self {
            PlannedAction::Create => "create",
            PlannedAction::CreateExistsEmpty => "create (exists, empty)",
            PlannedAction::Replace => "replace",
            PlannedAction::RefusedWithoutDrop => "refused without --drop",
        }
    }
}

/// Non-empty collections are replaced only with `--drop`, confirmed on a terminal or by `--yes`.
fn confirm_replace(
    ctx: &Context,
    args: &RestoreArgs,
    target_db: &str,
    selected: &[&CollectionEntry],
    existing: &Existing,
) -> anyhow::Result<()> {
    let occupied: Vec<String> = selected
        .iter()
        .filter_map(|c| live_count(existing, &c.name).filter(|n| *n > 0).map(|n| (c, n)))
        .map(|(c, n)| format!("{} ({n} documents)", c.name))
        .collect();
    if occupied.is_empty() {
        return Ok(());
    }
    let list = occupied.join(", ");
    if !args.drop {
        return Err(CliError::usage(format!("{target_db} already has data in: {list}"))
            .with_hint("pass --drop to replace them, --target-db to restore elsewhere, or --collections to pick others")
            .into());
    }
    super::confirm(
        ctx,
        &format!("Replace {} non-empty collection(s) in {target_db} ({list})?", occupied.len()),
    )?;
    Ok(())
}

fn print_report(ctx: &Context, report: &restore::Report, target_db: &str, secs: f64) {
    let inserted: u64 = report.collections.iter().map(|c| c.inserted).sum();
    let restored = || report.collections.iter().filter(|c| c.action != restore::Action::Skipped);
    ctx.out.line(format!(
        "restored {} into {target_db}: {} collection(s), {inserted} document(s) in {secs:.1}s",
        report.manifest.id,
        restored().count(),
    ));
    for c in restored() {
        ctx.out.line(format!(
            "  {:<32} {:>10} documents  {:>2} indexes  {}",
            c.name,
            c.inserted,
            c.indexes,
            if c.action == restore::Action::Replaced { "replaced" } else { "created" }
        ));
    }
    ctx.out.set("collections", &report.collections);
    ctx.out.set("documents", inserted);
    ctx.out.set("duration_seconds", secs);
}

async fn invalidate_cache(ctx: &Context, cfg: &crate::config::Config) {
    let Some(r) = &cfg.redis else {
        ctx.out.set("cache_keys_invalidated", serde_json::Value::Null);
        return;
    };
    match crate::cache::connect(r).await {
        Ok(mut conn) => match crate::cache::invalidate(&mut conn, &r.cache_prefixes).await {
            Ok(n) => {
                ctx.out.line(format!(
                    "invalidated {n} cache key(s) under {}",
                    r.cache_prefixes.join(" ")
                ));
                ctx.out.set("cache_keys_invalidated", n);
            }
            Err(e) => {
                cache_failed(ctx, &format!("cache invalidation failed: {e}"), &r.cache_prefixes);
            }
        },
        Err(e) => cache_failed(ctx, &format!("cache invalidation skipped: {e}"), &r.cache_prefixes),
    }
}

/// The restore itself succeeded; the stale cache is reported in the log and the JSON summary
/// so that an operator or CI job clears it.
fn cache_failed(ctx: &Context, what: &str, prefixes: &[String]) {
    tracing::error!("{what}; clear the keys under {prefixes:?} by hand");
    ctx.out.set("cache_invalidation_error", what);
}
