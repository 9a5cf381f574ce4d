//! `pitr push`: the push engine (src/pitr/push.rs), which takes the `pitr` lock; `pitr
//! status`: src/pitr/status.rs, as a table or JSON (no lock: it only reads).

use crate::cli::{PitrCommand, PitrPushArgs};
use crate::context::Context;
use crate::error::Outcome;
use crate::output::human_bytes;
use crate::pitr::{push, status};

pub async fn run(ctx: &Context, cmd: &PitrCommand) -> anyhow::Result<Outcome> {
    match cmd {
        PitrCommand::Push(args) => run_push(ctx, args).await,
        PitrCommand::Status => run_status(ctx).await,
    }
}

async fn run_status(ctx: &Context) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let s = status::status(cfg).await?;
    if !ctx.out.is_json() {
        print_status(ctx, &s);
    }
    ctx.out.summary(&s);
    Ok(Outcome::Ok)
}

fn print_status(ctx: &Context, s: &status::Status) {
    match (&s.last_entry, s.lag_seconds) {
        (Some(p), Some(lag)) => ctx
            .out
            .line(format!("{}: newest archived oplog entry {}, {lag} s ago", s.database, p.ts)),
        _ => ctx.out.line(format!(
            "{}: no oplog archived yet (`daraa-ops pitr push` archives it; docs/pitr.md)",
            s.database
        )),
    }
    if let Some(e) = &s.remote_error {
        ctx.out.line(format!("not shown: {e}"));
    }
    let mut t = crate::output::table();
    t.set_header(["STORAGE", "CHUNKS", "ENTRIES", "SIZE", "BASES", "GAPS"]);
    for st in &s.storages {
        t.add_row([
            st.location.clone(),
            st.chunks.to_string(),
            st.entries.to_string(),
            human_bytes(st.stored_bytes),
            st.bases.to_string(),
            match (st.gaps.len(), st.open_gaps()) {
                (0, _) => "0".to_owned(),
                (n, 0) => n.to_string(),
                (n, open) => format!("{n} ({open} open)"),
            },
        ]);
    }
    ctx.out.line(t);
    for st in &s.storages {
        if st.windows.is_empty() {
            ctx.out.line(format!(
                "{}: nothing can be restored to a point in time{}",
                st.location,
                if st.bases == 0 {
                    " (no point-in-time backup: `daraa-ops backup` takes one)"
                } else if st.chunks == 0 {
                    " (no chunks)"
                } else {
                    ""
                }
            ));
        }
        for w in &st.windows {
            ctx.out.line(format!(
                "{}: restorable from {} to {} (base {}{})",
                st.location,
                w.from.ts,
                w.until.ts,
                w.bases[0],
                if w.bases.len() > 1 {
                    format!(" and {} later", w.bases.len() - 1)
                } else {
                    String::new()
                }
            ));
        }
        for g in &st.gaps {
            ctx.out.line(format!(
                "{}: GAP from {} to {}{}",
                st.location,
                g.from.ts,
                g.until.ts,
                if g.open {
                    ": restores cannot reach past it; take a base backup (`daraa-ops backup`)"
                } else {
                    " (a later base backup covers it)"
                }
            ));
        }
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
    if let Some(e) = &report.storage_error {
        ctx.out.line(format!(
            "NOT COPIED: {e}; the chunks are complete locally and the next run copies them"
        ));
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
