//! `restore <ID|latest|PATH>`: the restore job (src/restore/job.rs) with the operator's flags;
//! here the confirmation before `--drop` replaces data, and the report for people.

use crate::cli::RestoreArgs;
use crate::context::Context;
use crate::error::Outcome;
use crate::restore::{self, job};

pub async fn run(ctx: &Context, args: &RestoreArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let env = job::Env { cfg, cancel: &ctx.cancel, out: &ctx.out };
    let req = job::Request {
        target: args.target.clone().unwrap_or_default(),
        to_time: args.to_time.clone(),
        target_db: args.target_db.clone(),
        collections: args.collections.clone(),
        drop: args.drop,
        dry_run: args.dry_run,
        mask: args.mask,
        force_protected: args.force_protected,
        no_cache_invalidation: args.no_cache_invalidation,
        yes: ctx.global.yes,
    };
    let mut prepared = job::prepare(env, &req).await?;
    let target_db = prepared.target_db.clone();
    if args.dry_run {
        ctx.out.line(format!("would restore {} into {target_db}:", prepared.survey.manifest.id));
        if let Some((entries, chunks, until)) = prepared.replay_plan() {
            ctx.out.line(format!(
                "  then replay {entries} oplog entries of {} chunk(s) up to {until}:",
                chunks.len()
            ));
            for c in chunks {
                ctx.out.line(format!("    {c}"));
            }
        }
        for c in prepared.plan(&req) {
            ctx.out.line(format!(
                "  {:<32} {:>10} documents   target has {:>10}   {}",
                c.name,
                c.documents,
                c.existing_documents.map_or_else(|| "-".into(), |n| n.to_string()),
                c.action.text()
            ));
        }
        ctx.out.summary(&prepared.summary);
        return Ok(Outcome::Ok);
    }
    if let Some(question) = prepared.confirmation(&req)? {
        super::confirm(ctx, &question)?;
    }
    let done = job::run(env, prepared, &req).await?;
    ctx.tally(crate::lastrun::Tally {
        bytes: done.bytes,
        documents: done.documents,
        restore_seconds: None,
    });
    let report = &done.report;
    let restored = || report.collections.iter().filter(|c| c.action != restore::Action::Skipped);
    ctx.out.line(format!(
        "restored {} into {target_db}: {} collection(s), {} document(s) in {:.1}s",
        report.manifest.id,
        restored().count(),
        done.documents,
        done.seconds,
    ));
    for c in restored() {
        ctx.out.line(format!(
            "  {:<32} {:>10} documents  {:>2} indexes  {}",
            c.name,
            c.after_replay.unwrap_or(c.inserted),
            c.indexes,
            if c.action == restore::Action::Replaced { "replaced" } else { "created" }
        ));
    }
    if let Some(o) = &report.oplog {
        ctx.out.line(if o.applied {
            format!(
                "oplog: {} change(s) of {} entries replayed; the data stands at {} ({})",
                o.changes,
                o.entries,
                o.until,
                crate::oplog::Ts::parse(&o.until).map(|t| t.time().to_string()).unwrap_or_default()
            )
        } else {
            format!("oplog: {}", o.note.as_deref().unwrap_or("not replayed"))
        });
    } else if let Some(why) = &report.manifest.not_point_in_time {
        ctx.out.line(format!("not point-in-time: {why}"));
    }
    if let Some((n, prefixes)) = &done.cache_invalidated {
        ctx.out.line(format!("invalidated {n} cache key(s) under {}", prefixes.join(" ")));
    }
    Ok(done.outcome)
}
