//! `restore <ID|latest|PATH>`: the restore engine (src/restore.rs) behind the checks an
//! operator expects: nothing non-empty is replaced without `--drop`, `--drop` is confirmed,
//! protected databases are refused, and the application's cache is invalidated afterwards.

use std::time::Instant;

use crate::catalog;
use crate::cli::RestoreArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::mongo::{self, load};
use crate::outcome::Outcome;
use crate::restore::{self, Options};

pub async fn run(ctx: &Context, args: &RestoreArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let started = Instant::now();
    let target_db = args.target_db.clone().unwrap_or_else(|| cfg.mongodb.database.clone());
    ctx.out.set("target_database", &target_db);
    // A protected database is only written after a confirmation (`--yes` in scripts) or with
    // the explicit `--force-protected`.
    if cfg.restore.protected_databases.contains(&target_db)
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
    let source = catalog::resolve(cfg, &args.target).await?;
    ctx.out.set("id", &source.id);
    ctx.out.set(
        "source",
        format!("{}/{}", source.storage.describe().trim_end_matches('/'), source.archive_name),
    );

    let mongo =
        mongo::connect(&cfg.mongodb, mongo::Role::Operator, mongo::Access::ReadWrite).await?;
    let db = mongo.client.database(&target_db);

    // What the backup holds: the sidecar, or (a bare path) the archive's own manifest.
    let manifest = match &source.sidecar {
        Some(s) => s.manifest.clone(),
        None => {
            let reader = source.storage.reader(&source.archive_name).await?;
            tokio::task::spawn_blocking(move || crate::archive::reader::verify(reader, None))
                .await?
                .map_err(|e| {
                    CliError::new(Outcome::Drift, format!("{}: {e}", source.archive_name))
                })?
                .manifest
        }
    };
    let selected: Vec<&crate::archive::CollectionEntry> = manifest
        .collections
        .iter()
        .filter(|c| args.collections.as_ref().is_none_or(|w| w.contains(&c.name)))
        .collect();
    if let Some(missing) =
        args.collections.iter().flatten().find(|w| manifest.collection(w).is_none())
    {
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
    let existing = load::existing(&db).await?;
    let occupied: Vec<(String, u64)> = selected
        .iter()
        .filter_map(|c| {
            existing
                .iter()
                .find(|(n, _, _)| *n == c.name)
                .map(|(n, kind, count)| (n.clone(), if kind == "view" { 1 } else { *count }))
        })
        .filter(|(_, n)| *n > 0)
        .collect();

    if args.dry_run {
        ctx.out.line(format!("would restore {} into {target_db}:", manifest.id));
        let mut plan = Vec::new();
        for c in &selected {
            let live = existing.iter().find(|(n, _, _)| *n == c.name).map(|(_, _, n)| *n);
            let action = match live {
                None => "create",
                Some(0) => "create (exists, empty)",
                Some(_) if args.drop => "replace",
                Some(_) => "refused without --drop",
            };
            ctx.out.line(format!(
                "  {:<32} {:>10} documents   target has {:>10}   {action}",
                c.name,
                c.documents,
                live.map_or_else(|| "-".into(), |n| n.to_string())
            ));
            plan.push(serde_json::json!({"name": c.name, "type": c.kind, "documents": c.documents, "existing_documents": live, "action": action}));
        }
        ctx.out.set("dry_run", true);
        ctx.out.set("collections", plan);
        return Ok(Outcome::Ok);
    }

    if !occupied.is_empty() {
        let list = occupied
            .iter()
            .map(|(n, c)| format!("{n} ({c} documents)"))
            .collect::<Vec<_>>()
            .join(", ");
        if !args.drop {
            return Err(CliError::usage(format!("{target_db} already has data in: {list}"))
                .with_hint("pass --drop to replace them, --target-db to restore elsewhere, or --collections to pick others")
                .into());
        }
        super::confirm(
            ctx,
            &format!("Replace {} non-empty collection(s) in {target_db} ({list})?", occupied.len()),
        )?;
    }

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
    let inserted: u64 = report.collections.iter().map(|c| c.inserted).sum();
    ctx.out.line(format!(
        "restored {} into {target_db}: {} collection(s), {inserted} document(s) in {:.1}s",
        manifest.id,
        report.collections.iter().filter(|c| c.action != restore::Action::Skipped).count(),
        started.elapsed().as_secs_f64()
    ));
    for c in report.collections.iter().filter(|c| c.action != restore::Action::Skipped) {
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
    ctx.out.set("duration_seconds", started.elapsed().as_secs_f64());

    // The application's cache holds data of the old database: clear it after a restore into
    // the live database.
    if target_db == cfg.mongodb.database && !args.no_cache_invalidation {
        invalidate_cache(ctx, cfg).await;
    }
    Ok(Outcome::Ok)
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
