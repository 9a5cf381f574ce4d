//! `cleanup [--rule NAME] [--dry-run]`: the cleanup job (src/cleanup/job.rs), a line per rule
//! as it ends.

use std::fmt::Write as _;

use crate::cleanup::job::{self, Env};
use crate::cleanup::{RuleReport, Stopped};
use crate::cli::CleanupArgs;
use crate::config::CleanupAction;
use crate::context::Context;
use crate::error::Outcome;
use crate::output::human_bytes;

pub async fn run(ctx: &Context, args: &CleanupArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let env = Env { cfg, cancel: &ctx.cancel, out: &ctx.out };
    let on_rule = |name: &str, r: Result<&RuleReport, &anyhow::Error>| match r {
        Ok(report) => ctx.out.line(describe(report)),
        Err(e) => ctx.out.line(format!("rule {name}: failed: {e:#}")),
    };
    let done = job::run(env, &args.rule, args.dry_run, &on_rule).await?;
    ctx.tally(crate::lastrun::Tally {
        bytes: done.bytes,
        documents: done.deleted,
        restore_seconds: None,
    });
    Ok(done.outcome)
}

fn describe(r: &RuleReport) -> String {
    if r.stopped == Stopped::DryRun {
        let ids: Vec<String> = r.first_ids.iter().map(ToString::to_string).collect();
        return format!(
            "rule {}: would {} {} document(s) of {} older than {}{}",
            r.rule,
            match r.action {
                CleanupAction::Delete => "delete",
                CleanupAction::Archive => "archive and delete",
            },
            r.examined,
            r.collection,
            r.cutoff,
            if ids.is_empty() {
                String::new()
            } else {
                format!(" (first _ids: {})", ids.join(", "))
            }
        );
    }
    let mut text = format!(
        "rule {}: {} examined, {} archived, {} deleted ({}) from {} in {:.1}s; {}",
        r.rule,
        r.examined,
        r.archived,
        r.deleted,
        human_bytes(r.bytes),
        r.collection,
        r.duration_seconds,
        r.stopped.as_str()
    );
    if let Some(a) = &r.archive {
        let _ = write!(text, "; archive: {a}");
    }
    if let Some(n) = r.cache_keys_removed {
        let _ = write!(text, "; {n} cache key(s) removed");
    }
    text
}
