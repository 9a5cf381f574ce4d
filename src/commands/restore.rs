//! `restore <ID|latest|PATH>`: the restore engine (src/restore/) behind the checks an
//! operator expects: nothing non-empty is replaced without `--drop`, `--drop` is confirmed,
//! protected databases are refused, and the application's cache is invalidated afterwards.

use std::time::Instant;

use crate::archive::{CollectionEntry, Manifest};
use crate::catalog;
use crate::cli::RestoreArgs;
use crate::context::Context;
use crate::mongo::{self, load};
use crate::outcome::CliError;
use crate::outcome::Outcome;
use crate::restore::{self, Options};
use serde::Serialize;

pub async fn run(ctx: &Context, args: &RestoreArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let started = Instant::now();
    let target_db = args.target_db.clone().unwrap_or_else(|| cfg.mongodb.database.clone());
    // Names are checked before any connection: the server would refuse them half-way.
    crate::config::check_restore_target(&target_db).map_err(|m| {
        CliError::usage(format!("--target-db {target_db:?}: {m}; nothing was restored"))
            .with_hint("restore into another database, e.g. --target-db daraa_restored")
    })?;
    for c in args.collections.iter().flatten() {
        if c.is_empty() || c.contains('\0') || c.contains('$') {
            return Err(
                CliError::usage(format!("--collections: {c:?} is not a collection name")).into()
            );
        }
    }
    let mut summary = Summary { target_database: target_db.clone(), ..Summary::default() };
    ctx.out.summary(&summary);
    let mask = check_masking(cfg, args, &target_db)?;
    summary.masked = args.mask;
    check_protected(ctx, args, &target_db)?;
    let source = catalog::resolve(cfg, &args.target).await?;
    summary.id = Some(source.id.clone());
    summary.source = Some(source.describe());
    ctx.out.summary(&summary);
    let mongo = mongo::connect(
        &cfg.mongodb,
        mongo::Role::Job(mongo::privileges::Job::Restore),
        mongo::Access::ReadWrite,
    )
    .await?;
    let db = mongo.client.database(&target_db);
    let survey = restore::survey(&source, &ctx.cancel, restore::UNCHANGED).await?;
    if survey.streamed {
        check_streamed(ctx, args)?;
    }
    let manifest = &survey.manifest;
    let selected =
        if survey.streamed { Vec::new() } else { select(manifest, args.collections.as_deref())? };
    let existing = load::existing(&db, args.dry_run).await?;
    if args.dry_run {
        summary.dry_run = true;
        summary.collections = Some(Collections::Planned(dry_run(
            ctx, args, &target_db, manifest, &selected, &existing,
        )));
        ctx.out.summary(&summary);
        return Ok(Outcome::Ok);
    }
    confirm_replace(ctx, args, &target_db, &selected, &existing)?;

    let guard = crate::lock::take(cfg, &target_db, "restore", &ctx.cancel).await?;
    let opts = Options {
        collections: args.collections.clone(),
        replace: args.drop,
        parallel_collections: cfg.restore.parallel_collections,
        insertion_workers: cfg.restore.insertion_workers,
        mask,
        progress: crate::output::progress::Progress::new(&ctx.out),
    };
    let result = restore::restore(&db, &source, &survey, &opts, &ctx.cancel).await;
    guard.release().await;
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(f) = e.downcast_ref::<restore::Failed>() {
                summary.collections = Some(Collections::Restored(f.collections.clone()));
                ctx.out.summary(&summary);
            }
            return Err(e);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    print_report(ctx, &report, &target_db, secs);
    summary.documents = Some(report.collections.iter().map(|c| c.inserted).sum());
    summary.bytes = Some(
        report
            .collections
            .iter()
            .filter_map(|c| report.manifest.collection(&c.name))
            .map(|c| c.bytes)
            .sum(),
    );
    summary.duration_seconds = Some(secs);
    summary.swap = Some(report.swap);
    summary.collections = Some(Collections::Restored(report.collections));
    // The application's cache holds data of the old database: clear it after a restore into
    // the live database. When that fails the restore is only a partial success (exit 5): the
    // application would serve stale data until the keys expire.
    let mut outcome = Outcome::Ok;
    if target_db == cfg.mongodb.database && !args.no_cache_invalidation {
        match invalidate_cache(ctx, cfg).await {
            Ok(n) => summary.cache_keys_invalidated = n,
            Err(e) => {
                summary.cache_invalidation_error = Some(e);
                outcome = Outcome::Partial;
            }
        }
    }
    ctx.out.summary(&summary);
    Ok(outcome)
}

/// From standard input the backup is known only as it is read: no dry run, and `--drop` only
/// with `--yes` (there is no list of collections to confirm).
fn check_streamed(ctx: &Context, args: &RestoreArgs) -> Result<(), CliError> {
    if args.dry_run {
        return Err(CliError::usage("--dry-run needs a backup file, not standard input")
            .with_hint("save the stream to a file first, or restore into an empty --target-db"));
    }
    if args.drop && !ctx.global.yes {
        return Err(CliError::usage(
            "--drop from standard input needs --yes: its collections are not known before it is read",
        ));
    }
    Ok(())
}

/// Masked data never goes into the live database or a protected one (not even with
/// `--force-protected`), and a staging database only ever receives masked data. Checked, and the
/// key read, before anything connects.
fn check_masking(
    cfg: &crate::config::Config,
    args: &RestoreArgs,
    target_db: &str,
) -> anyhow::Result<Option<std::sync::Arc<crate::mask::Masker>>> {
    let staging = cfg.masking.staging_databases.iter().any(|s| s == target_db);
    if !args.mask {
        if staging && !args.dry_run {
            return Err(CliError::usage(format!(
                "database {target_db} is in masking.staging_databases: it only receives masked data; nothing was restored"
            ))
            .with_hint("add --mask")
            .into());
        }
        return Ok(None);
    }
    if target_db == cfg.mongodb.database {
        return Err(CliError::usage(format!(
            "refusing to write masked data into the live database {target_db}; nothing was restored"
        ))
        .with_hint("restore into a staging or scratch database with --target-db")
        .into());
    }
    if cfg.restore.protected_databases.iter().any(|p| p == target_db) {
        return Err(CliError::usage(format!(
            "refusing to write masked data into {target_db}, a protected database (restore.protected_databases); nothing was restored"
        ))
        .into());
    }
    crate::mask::load(&cfg.masking).map(Some)
}

/// A protected database is written only with `--force-protected`: `--yes` does not do it,
/// because scripts pass `--yes` for `--drop` and the protection must hold exactly there.
fn check_protected(ctx: &Context, args: &RestoreArgs, target_db: &str) -> anyhow::Result<()> {
    let cfg = &ctx.config()?.config;
    if cfg.restore.protected_databases.iter().any(|p| p == target_db)
        && !args.force_protected
        && !args.dry_run
    {
        return Err(CliError::usage(format!(
            "database {target_db} is in restore.protected_databases; nothing was restored"
        ))
        .with_hint("restore into another database with --target-db, or pass --force-protected")
        .into());
    }
    Ok(())
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
) -> Vec<Planned> {
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
    plan
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
        .filter(|c| live_count(existing, &c.name).is_some_and(|n| n > 0))
        .map(|c| c.name.clone())
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
}

/// Deletes the configured cache prefixes; `Ok(None)` when no Redis is configured. The error
/// is the operator's message: the restore succeeded, the cache did not follow.
async fn invalidate_cache(
    ctx: &Context,
    cfg: &crate::config::Config,
) -> Result<Option<u64>, String> {
    let Some(r) = &cfg.redis else { return Ok(None) };
    let result = match crate::cache::connect(r).await {
        Ok(mut conn) => crate::cache::invalidate(&mut conn, &r.cache_prefixes)
            .await
            .map_err(|e| format!("cache invalidation failed: {e}")),
        Err(e) => Err(format!("cache invalidation skipped: {e}")),
    };
    match result {
        Ok(n) => {
            ctx.out
                .line(format!("invalidated {n} cache key(s) under {}", r.cache_prefixes.join(" ")));
            Ok(Some(n))
        }
        Err(what) => {
            tracing::error!(
                "{what}; the restore is complete but the application may serve stale data: clear the keys under {:?} by hand",
                r.cache_prefixes
            );
            Err(what)
        }
    }
}

/// The JSON summary of `restore` (docs/cli.md).
#[derive(Debug, Default, Serialize)]
struct Summary {
    target_database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dry_run: bool,
    /// `--mask`: the masking rules were applied (per collection counts in `collections`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    masked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    collections: Option<Collections>,
    #[serde(skip_serializing_if = "Option::is_none")]
    documents: Option<u64>,
    /// BSON bytes of the restored collections, as the manifest counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    /// `atomic` (renameCollection with dropTarget) or `two-step` (the server lacks it).
    #[serde(skip_serializing_if = "Option::is_none")]
    swap: Option<restore::swap::SwapMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<f64>,
    /// Keys deleted after a restore into the live database (null: no Redis configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_keys_invalidated: Option<u64>,
    /// Why the cache could not be invalidated (exit 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_invalidation_error: Option<String>,
}

/// The plan of a dry run, or what the restore did.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Collections {
    Planned(Vec<Planned>),
    Restored(Vec<restore::CollectionReport>),
}
