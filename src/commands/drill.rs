//! `drill [ID|latest|PATH]`: the restore drill (src/drill.rs); exit 0 or 6, with a JSON
//! report, the result recorded beside a catalog backup.

use crate::cli::DrillArgs;
use crate::context::{Context, PendingCheck};
use crate::drill;
use crate::error::Outcome;

pub async fn run(ctx: &Context, args: &DrillArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let env = drill::Env { cfg, cancel: &ctx.cancel, out: &ctx.out };
    let d = drill::run(
        env,
        &drill::Request {
            target: args.target.clone(),
            mask: args.mask,
            to_time: args.to_time.clone(),
        },
    )
    .await?;
    ctx.tally(crate::lastrun::Tally {
        bytes: d.bytes,
        documents: d.documents,
        restore_seconds: d.restore_seconds,
    });
    ctx.check(PendingCheck {
        source: d.source.clone(),
        kind: crate::repo::CheckKind::Drill,
        contents_checked: None,
        restore_seconds: d.restore_seconds,
        to_time: d.to_time.clone(),
        problems: d.result.as_ref().map(Clone::clone).unwrap_or_default(),
    });
    let problems = d.result?;
    for c in &d.checks {
        let state = if c.problems.is_empty() { "ok".to_owned() } else { c.problems.join("; ") };
        ctx.out.line(format!("  {:<32} {:>10} documents  {state}", c.name, c.restored_documents));
    }
    for q in &d.queries {
        ctx.out.line(format!(
            "  query {:<26} {:>10} documents  {}",
            q.name,
            q.documents,
            if q.ok { "ok" } else { "too few" }
        ));
    }
    let (id, secs) = (&d.source.id, d.seconds);
    if problems.is_empty() {
        ctx.out.line(format!(
            "drill of {id} passed ({secs:.1}s); scratch database {} dropped",
            d.scratch
        ));
        return Ok(Outcome::Ok);
    }
    // The drill ran to its end and found differences: a failed check (exit 6), like a
    // drifting `indexes validate`, with what differs named.
    ctx.out.line(format!("drill of {id} FAILED ({secs:.1}s): {}", problems.join("; ")));
    Ok(Outcome::Drift)
}
