//! `pitr push`: the push engine (src/pitr/push.rs), which takes the `pitr` lock.

use crate::cli::{PitrCommand, PitrPushArgs};
use crate::context::Context;
use crate::error::Outcome;
use crate::pitr::push;

pub async fn run(ctx: &Context, cmd: &PitrCommand) -> anyhow::Result<Outcome> {
    match cmd {
        PitrCommand::Push(args) => run_push(ctx, args).await,
    }
}

async fn run_push(ctx: &Context, args: &PitrPushArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let env = push::Env { cfg, cancel: &ctx.cancel, out: &ctx.out };
    let report = push::run(env, args.once).await?;
    if let Some(how) = &report.started {
        ctx.out.line(format!("archiving began {how}"));
    }
    if report.copied > 0 {
        ctx.out.line(format!("copied {} chunk(s) a storage lacked", report.copied));
    }
    for c in &report.chunks {
        ctx.out.line(format!("wrote {c}"));
    }
    match (&report.from, &report.until) {
        (Some(from), Some(until)) => ctx.out.line(format!(
            "archived {} oplog entries of {} after {from} up to {until} (lag {} s)",
            report.entries,
            report.database,
            report.lag_seconds.unwrap_or(0)
        )),
        _ => ctx.out.line("nothing new to archive"),
    }
    if let Some(g) = &report.gap {
        ctx.out.line(format!(
            "GAP: the oplog no longer held {} to {}; restores cannot cross it: take a base backup (`daraa-ops backup`)",
            g.from, g.until
        ));
    }
    ctx.tally(crate::lastrun::Tally { bytes: 0, documents: report.entries, restore_seconds: None });
    ctx.out.summary(&report);
    Ok(report.outcome())
}
