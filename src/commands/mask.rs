//! `mask check`: the masking engine's scanner (src/mask/check.rs) over samples of the live
//! database or of a backup; exit 6 when personal-looking data has no rule.

use serde::Serialize;

use crate::catalog;
use crate::cli::MaskCommand;
use crate::context::Context;
use crate::mask::check::{self, CollectionFindings};
use crate::outcome::Outcome;

/// The JSON summary of `mask check` (docs/cli.md).
#[derive(Debug, Serialize)]
struct Summary {
    source: String,
    sample: u64,
    /// Fields that look personal and no rule covers.
    uncovered: usize,
    collections: Vec<CollectionFindings>,
}

pub async fn run(ctx: &Context, cmd: &MaskCommand) -> anyhow::Result<Outcome> {
    let MaskCommand::Check(args) = cmd;
    let cfg = &ctx.config()?.config;
    let (source, scanner) = match &args.backup {
        None => (
            format!("database {}", cfg.mongodb.database),
            check::sample_live(cfg, args.sample).await?,
        ),
        Some(target) => {
            let resolved = catalog::resolve(cfg, target).await?;
            let scanner = check::sample_backup(&resolved, args.sample, &ctx.cancel).await?;
            (resolved.describe(), scanner)
        }
    };
    let collections = scanner.report(&cfg.masking);
    let mut uncovered = 0;
    for c in &collections {
        for f in &c.fields {
            let state = match &f.rule {
                Some(rule) => format!("covered: {rule}"),
                None => {
                    uncovered += 1;
                    "NO RULE".to_owned()
                }
            };
            ctx.out.line(format!(
                "  {:<40} {:<18} {:>6} of {:<6} {state}",
                format!("{}.{}", c.name, f.field),
                f.kind.describe(),
                f.values,
                c.sampled
            ));
        }
    }
    let sampled: u64 = collections.iter().map(|c| c.sampled).sum();
    if uncovered == 0 {
        ctx.out.line(format!(
            "mask check of {source}: every personal-looking field has a rule ({sampled} documents sampled in {} collections)",
            collections.len()
        ));
    } else {
        ctx.out.line(format!(
            "mask check of {source} FAILED: {uncovered} field(s) look personal and have no masking rule (add them to masking.collections, as `keep` if they are not personal)"
        ));
        tracing::error!(
            "mask check: {uncovered} field(s) with personal-looking data have no masking rule"
        );
    }
    ctx.out.summary(&Summary { source, sample: args.sample, uncovered, collections });
    Ok(if uncovered == 0 { Outcome::Ok } else { Outcome::Drift })
}
