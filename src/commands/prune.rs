//! `prune`: the retention engine (src/retention/prune.rs) under the job lock.

use crate::cli::PruneArgs;
use crate::context::Context;
use crate::outcome::Outcome;
use crate::retention::prune;

pub async fn run(ctx: &Context, args: &PruneArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let guard = if args.dry_run {
        None
    } else {
        Some(crate::lock::take(cfg, &cfg.mongodb.database, "prune", &ctx.cancel).await?)
    };
    let result = prune::apply(cfg, args.dry_run).await;
    if let Some(g) = guard {
        g.release().await;
    }
    let results = result?;
    for line in prune::describe(&results, args.dry_run) {
        ctx.out.line(line);
    }
    let deleted = results.iter().flat_map(|r| r.deleted.clone()).collect();
    ctx.out.summary(&Summary { dry_run: args.dry_run, deleted, storages: results });
    Ok(Outcome::Ok)
}

/// The JSON summary of `prune` (docs/cli.md).
#[derive(Debug, serde::Serialize)]
struct Summary {
    dry_run: bool,
    deleted: Vec<prune::Deleted>,
    /// Per storage: every backup, kept or not, and why.
    storages: Vec<prune::StorageResult>,
}
