//! `delete <ID> [--force]`: removes one backup (archive, sidecar, checks) from every storage
//! that holds it, after confirmation (`--yes` in scripts), under the job lock. The newest good
//! backup is refused unless `--force`.

use crate::cli::DeleteArgs;
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::retention::prune;

pub async fn run(ctx: &Context, args: &DeleteArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let (found, newest) = prune::find(cfg, &args.id).await?;
    let places: Vec<String> = found.iter().map(|f| f.storage.describe()).collect();
    if newest && !args.force {
        return Err(CliError::usage(format!(
            "{} is the newest complete backup of {}; refusing to delete it",
            args.id, cfg.mongodb.database
        ))
        .with_hint(
            "pass --force to delete it anyway (the database then has an older newest backup)",
        )
        .into());
    }
    super::confirm(ctx, &format!("Delete backup {} from {}?", args.id, places.join(" and ")))?;
    let deleted = prune::delete(cfg, &found, &ctx.cancel).await?;
    for d in &deleted {
        ctx.out.line(format!("deleted {} from {}", d.id, d.storage));
    }
    ctx.out.summary(&Summary { id: args.id.clone(), deleted });
    Ok(Outcome::Ok)
}

/// The JSON summary of `delete` (docs/cli.md).
#[derive(Debug, serde::Serialize)]
struct Summary {
    id: String,
    deleted: Vec<prune::Deleted>,
}
