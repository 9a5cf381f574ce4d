//! `rekey [ID...] [--dry-run]`: the backup engine's re-encryption (src/backup/rekey.rs).

use crate::backup::{self, RekeyReport};
use crate::cli::RekeyArgs;
use crate::context::Context;
use crate::error::Outcome;

pub async fn run(ctx: &Context, args: &RekeyArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let progress = crate::output::progress::Progress::new(&ctx.out);
    let env = backup::Env { cfg, cancel: &ctx.cancel, progress: &progress };
    let report = Box::pin(backup::rekey(env, &args.ids, args.dry_run)).await?;
    for line in describe(&report) {
        ctx.out.line(line);
    }
    ctx.out.summary(&report);
    Ok(Outcome::Ok)
}

fn describe(r: &RekeyReport) -> Vec<String> {
    let verb = if r.dry_run { "would re-encrypt" } else { "re-encrypted" };
    let mut lines: Vec<String> = r
        .rekeyed
        .iter()
        .map(|b| {
            let from = if b.from.is_empty() {
                "not encrypted".to_owned()
            } else {
                format!("for {}", b.from.join(", "))
            };
            format!(
                "{verb} {} ({}, was {from}) in {}: {}",
                b.id,
                crate::output::human_bytes(b.size),
                b.storages.join(" and "),
                b.archive
            )
        })
        .collect();
    let total = if r.dry_run { "would be re-encrypted" } else { "re-encrypted" };
    lines.push(format!(
        "{} backup(s) {total} for {}; {} already were",
        r.rekeyed.len(),
        r.recipients.join(", "),
        r.unchanged.len()
    ));
    lines
}
