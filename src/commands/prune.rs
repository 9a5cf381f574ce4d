//! `prune`: the retention engine (src/retention/prune.rs), which takes the job lock.

use crate::cli::PruneArgs;
use crate::context::Context;
use crate::error::Outcome;
use crate::retention::prune;

pub async fn run(ctx: &Context, args: &PruneArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let results = prune::run(cfg, args.dry_run, &ctx.cancel).await?;
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
