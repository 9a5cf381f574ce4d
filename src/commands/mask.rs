//! `mask check`: the masking engine's scanner (src/mask/check.rs) over samples of the live
//! database or of a backup; exit 6 when personal-looking data has no rule.

use serde::Serialize;

use crate::cli::MaskCommand;
use crate::context::Context;
use crate::error::Outcome;
use crate::mask::check::{self, CollectionFindings};
use crate::repo;

/// The JSON summary of `mask check` (docs/cli.md).
#[derive(Debug, Serialize)]
struct Summary {
    source: String,
    sample: u64,
    /// Fields that look personal and nothing masks.
    uncovered: usize,
    /// Collections with neither rules nor a `copy_as_is` entry.
    unconfigured: Vec<String>,
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
            let resolved = repo::resolve(cfg, target).await?;
            let scanner = check::sample_backup(&resolved, args.sample, &ctx.cancel).await?;
            (resolved.describe(), scanner)
        }
    };
    let collections = scanner.report(&cfg.masking);
    let mut uncovered = 0;
    let mut unconfigured = Vec::new();
    for c in &collections {
        if c.unconfigured {
            unconfigured.push(c.name.clone());
            ctx.out.line(format!(
                "  {:<40} NOT CONFIGURED: no rules and not in masking.copy_as_is (restore --mask refuses it)",
                c.name
            ));
        }
        for f in &c.fields {
            let state = match &f.rule {
                Some(rule) if rule == "scan" => "masked by the free-text scan".to_owned(),
                Some(rule) => format!("covered: {rule}"),
                None => {
                    uncovered += 1;
                    "NO RULE".to_owned()
                }
            };
            ctx.out.line(format!(
                "  {:<40} {:<18} {:>6} in {:>6} of {:<6} documents  {state}",
                format!("{}.{}", c.name, f.field),
                format!("{}{}", f.kind.describe(), if f.embedded { " in text" } else { "" }),
                f.values,
                f.documents,
                c.sampled
            ));
        }
    }
    let sampled: u64 = collections.iter().map(|c| c.sampled).sum();
    let failed = uncovered > 0 || !unconfigured.is_empty();
    if failed {
        if uncovered > 0 {
            ctx.out.line(format!(
                "mask check of {source} FAILED: {uncovered} field(s) look personal and nothing masks them (add rules to masking.collections, `keep` if they are not personal)"
            ));
        }
        if !unconfigured.is_empty() {
            ctx.out.line(format!(
                "mask check of {source} FAILED: {} not configured for masking (add rules, or list them under masking.copy_as_is)",
                unconfigured.join(", ")
            ));
        }
        tracing::error!(
            "mask check: {uncovered} field(s) with personal-looking data have no masking rule; {} collection(s) not configured",
            unconfigured.len()
        );
    } else {
        ctx.out.line(format!(
            "mask check of {source}: every personal-looking field is masked ({sampled} documents sampled in {} collections)",
            collections.len()
        ));
    }
    ctx.out.summary(&Summary { source, sample: args.sample, uncovered, unconfigured, collections });
    Ok(if failed { Outcome::Drift } else { Outcome::Ok })
}
