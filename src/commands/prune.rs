//! `prune`: retention (src/retention.rs) applied to the local directory and to S3, from the
//! sidecar manifests. Only complete backups count and only names daraa-ops creates are touched.
//! A backup's sidecar is deleted before its archive, so a half-done deletion never leaves
//! something that looks complete.

use serde::Serialize;

use crate::catalog;
use crate::cli::PruneArgs;
use crate::config::Config;
use crate::context::Context;
use crate::exit::ExitStatus;
use crate::jobs;
use crate::retention;
use crate::storage::Storage;

#[derive(Debug, Serialize)]
pub struct Deleted {
    pub storage: &'static str,
    pub id: String,
    pub reason: &'static str,
}

pub async fn run(ctx: &Context, args: &PruneArgs) -> anyhow::Result<ExitStatus> {
    let cfg = &ctx.config()?.config;
    ctx.out.set("dry_run", args.dry_run);
    let guard = if args.dry_run {
        None
    } else {
        Some(
            crate::lock::acquire(
                jobs::lock_backend(cfg).await?,
                "prune",
                cfg.lock.ttl,
                &ctx.cancel,
            )
            .await?,
        )
    };
    let result = apply(ctx, cfg, args.dry_run).await;
    if let Some(g) = guard {
        g.release().await;
    }
    ctx.out.set("deleted", result?);
    Ok(ExitStatus::Ok)
}

/// Applies retention everywhere; returns what was (or, dry run, would be) deleted.
pub async fn apply(ctx: &Context, cfg: &Config, dry_run: bool) -> anyhow::Result<Vec<Deleted>> {
    let mut storages =
        vec![Storage::Local(crate::storage::local::LocalStore::new(cfg.backup.dir.clone()))];
    if let Some(s) = jobs::remote_store(cfg).await {
        storages.push(s);
    }
    let now = jiff::Timestamp::now();
    let verb = if dry_run { "would delete" } else { "deleted" };
    let mut deleted = Vec::new();
    for storage in &storages {
        let entries =
            catalog::scan(storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await?;
        let complete: Vec<(String, jiff::Timestamp)> =
            entries.iter().filter(|e| e.complete).map(|e| (e.id.clone(), e.time)).collect();
        let plan = retention::plan(&complete, &cfg.retention, now);
        let mut doomed: Vec<(&catalog::Entry, &'static str)> = plan
            .iter()
            .filter(|d| !d.keep)
            .filter_map(|d| entries.iter().find(|e| e.id == d.id).map(|e| (e, "expired")))
            .collect();
        // Leftovers of crashed uploads (an archive without sidecar) older than a day.
        let day_ago = now - jiff::SignedDuration::from_hours(24);
        doomed.extend(
            entries
                .iter()
                .filter(|e| {
                    !e.complete && !e.partial && e.archive_size.is_some() && e.time < day_ago
                })
                .map(|e| (e, "incomplete")),
        );
        for (e, reason) in doomed {
            if !dry_run {
                storage.delete(&[e.sidecar_name()]).await?;
                storage.delete(&[e.archive_name()]).await?;
            }
            ctx.out.line(format!("{verb} {} from {} ({reason})", e.id, storage.describe()));
            deleted.push(Deleted { storage: storage.kind(), id: e.id.clone(), reason });
        }
        let kept = plan.iter().filter(|d| d.keep).count();
        ctx.out.line(format!("{}: {kept} backup(s) kept", storage.describe()));
    }
    Ok(deleted)
}
