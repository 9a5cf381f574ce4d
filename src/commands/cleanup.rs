//! `cleanup [--rule NAME] [--dry-run]`: the config's cleanup rules (src/cleanup.rs), under the
//! same lock as backups, with a summary per rule. SIGINT/SIGTERM stop after the current batch
//! (exit 130); `cleanup.max_run_time` stops cleanly after a batch (exit 0, `stopped:
//! max-run-time`, the next run goes on). A failing rule does not keep the others from running;
//! the command then exits with the first failure's code.

use std::fmt::Write as _;
use std::time::Instant;

use crate::cleanup::{self, RuleReport, RunEnv, Sink, Stopped};
use crate::cli::CleanupArgs;
use crate::config::{CleanupAction, CleanupRule, Config};
use crate::context::Context;
use crate::lastrun;
use crate::mongo::{self, Access, Role};
use crate::outcome::CliError;
use crate::outcome::Outcome;
use crate::output::human_bytes;
use crate::output::progress::Progress;
use crate::signal::Interrupted;

fn select<'a>(cfg: &'a Config, only: &[String]) -> Result<Vec<&'a CleanupRule>, CliError> {
    let rules = &cfg.cleanup.rules;
    if rules.is_empty() {
        return Err(CliError::usage("the config has no cleanup rules")
            .with_hint("add cleanup.rules (see config/daraa-ops.example.yaml)"));
    }
    if only.is_empty() {
        return Ok(rules.iter().collect());
    }
    only.iter()
        .map(|name| {
            rules.iter().find(|r| &r.name == name).ok_or_else(|| {
                let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
                CliError::usage(format!("no cleanup rule named {name:?}"))
                    .with_hint(format!("configured rules: {}", names.join(", ")))
            })
        })
        .collect()
}

pub async fn run(ctx: &Context, args: &CleanupArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let rules = select(cfg, &args.rule)?;
    ctx.out.summary(&Summary {
        database: &cfg.mongodb.database,
        dry_run: args.dry_run,
        run: None,
        rules: &[],
    });
    let started = Instant::now();
    let started_unix = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
    let result = run_inner(ctx, cfg, &rules, args.dry_run).await;
    if args.dry_run {
        return result.map(|(s, _)| s);
    }
    let (code, deleted, bytes) = match &result {
        Ok((s, reports)) => (
            s.code(),
            reports.iter().map(|r| r.deleted).sum(),
            reports.iter().map(|r| r.bytes).sum(),
        ),
        Err(e) => (crate::outcome::classify(e, ctx.cancel.is_cancelled()).outcome.code(), 0, 0),
    };
    lastrun::save(
        cfg,
        &lastrun::Record {
            job: "cleanup",
            database: cfg.mongodb.database.clone(),
            exit_code: code,
            started_unix,
            duration_seconds: started.elapsed().as_secs_f64(),
            bytes,
            documents: deleted,
            restore_seconds: None,
        },
    )
    .await;
    result.map(|(s, _)| s)
}

async fn run_inner(
    ctx: &Context,
    cfg: &Config,
    rules: &[&CleanupRule],
    dry_run: bool,
) -> anyhow::Result<(Outcome, Vec<RuleReport>)> {
    let mongo = mongo::connect(
        &cfg.mongodb,
        Role::Job(crate::mongo::privileges::Job::Cleanup),
        Access::ReadWrite,
    )
    .await?;
    let db = mongo.client.database(&cfg.mongodb.database);
    let guard = if dry_run {
        None
    } else {
        Some(crate::lock::take(cfg, &cfg.mongodb.database, "cleanup", &ctx.cancel).await?)
    };
    let run_id = format!(
        "{}-{:04x}",
        jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ"),
        rand::random::<u16>()
    );
    let progress = Progress::new(&ctx.out);
    let mut reports: Vec<RuleReport> = Vec::new();
    let mut first_error: Option<anyhow::Error> = None;
    let mut partial = false;
    let deadline = cfg.cleanup.max_run_time.map(|d| Instant::now() + d);
    for rule in rules {
        if ctx.cancel.is_cancelled() {
            break;
        }
        let bar = progress.collection(&rule.name, 0);
        let on_batch = |deleted: u64, bytes: u64| bar.set(deleted, bytes);
        let env = RunEnv {
            cfg: &cfg.cleanup,
            db: &db,
            client: &mongo.client,
            cancel: &ctx.cancel,
            deadline,
            run_id: &run_id,
            now: jiff::Timestamp::now(),
            on_batch: &on_batch,
        };
        let outcome = if dry_run {
            cleanup::dry_run(&env, rule).await
        } else {
            // A rule whose archive target cannot be set up fails like any other rule: the
            // others still run and the lock is released below.
            match rule.action {
                CleanupAction::Archive => match Sink::for_rule(cfg, &db, rule, &run_id).await {
                    Ok(sink) => cleanup::run_rule(&env, rule, Some(&sink)).await,
                    Err(e) => Err(e),
                },
                CleanupAction::Delete => cleanup::run_rule(&env, rule, None).await,
            }
        };
        bar.clear();
        let mut report = match outcome {
            Ok(r) => r,
            Err(e) => {
                let e = e.context(format!("cleanup rule {}", rule.name));
                tracing::error!("{e:#}");
                ctx.out.line(format!("rule {}: failed: {e:#}", rule.name));
                first_error.get_or_insert(e);
                continue;
            }
        };
        if !dry_run && report.deleted > 0 && !rule.invalidate_prefixes.is_empty() {
            match invalidate(cfg, &rule.invalidate_prefixes).await {
                Ok(n) => report.cache_keys_removed = Some(n),
                Err(e) => {
                    tracing::warn!("rule {}: cache invalidation failed: {e}", rule.name);
                    partial = true;
                }
            }
        }
        ctx.out.line(describe(&report));
        let stop = matches!(report.stopped, Stopped::Interrupted | Stopped::MaxRunTime);
        reports.push(report);
        if stop {
            break;
        }
    }
    progress.finish();
    if let Some(g) = guard {
        g.release().await;
    }
    ctx.out.summary(&Summary {
        database: &cfg.mongodb.database,
        dry_run,
        run: Some(&run_id),
        rules: &reports,
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    if ctx.cancel.is_cancelled() {
        return Err(Interrupted.into());
    }
    Ok((if partial { Outcome::Partial } else { Outcome::Ok }, reports))
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

async fn invalidate(cfg: &Config, prefixes: &[String]) -> anyhow::Result<u64> {
    let Some(redis) = &cfg.redis else {
        anyhow::bail!("the rule names invalidate_prefixes but the config has no redis section");
    };
    let mut conn = crate::cache::connect(redis).await?;
    Ok(crate::cache::invalidate(&mut conn, prefixes)
        .await
        .map_err(|e| CliError::unreachable(format!("Redis: {e}")))?)
}

/// The JSON summary of `cleanup` (docs/cli.md).
#[derive(Debug, serde::Serialize)]
struct Summary<'a> {
    database: &'a str,
    dry_run: bool,
    /// This run's id (archive folders are named after it).
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<&'a str>,
    rules: &'a [RuleReport],
}
