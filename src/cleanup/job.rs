//! A cleanup job: the config's rules (or the ones named), one after the other, under the same
//! lock as backups, with a report per rule. SIGINT/SIGTERM stop after the current batch (exit
//! 130); `cleanup.max_run_time` stops cleanly after a batch (exit 0, `stopped: max-run-time`,
//! the next run goes on). A failing rule does not keep the others from running; the job then
//! fails with the first failure.

use std::time::Instant;

use mongodb::Database;

use super::{RuleReport, RunEnv, Sink, Stopped};
use crate::config::{CleanupAction, CleanupRule, Config};
use crate::error::{CliError, Outcome};
use crate::mongo::{self, Access, Role};
use crate::output::progress::Progress;
use crate::signal::Interrupted;

pub use crate::engine::Env;

/// What a cleanup run did: per rule, and in total.
pub struct Cleaned {
    /// Ok, or Partial when a rule's cache invalidation failed.
    pub outcome: Outcome,
    pub reports: Vec<RuleReport>,
    pub deleted: u64,
    pub bytes: u64,
}

pub fn select<'a>(cfg: &'a Config, only: &[String]) -> Result<Vec<&'a CleanupRule>, CliError> {
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

/// Runs the selected rules (all without `only`), under the database's job lock unless it is a
/// dry run. Each rule's result goes to `on_rule` as it ends.
pub async fn run(
    env: Env<'_>,
    only: &[String],
    dry_run: bool,
    on_rule: &(dyn Fn(&str, Result<&RuleReport, &anyhow::Error>) + Sync),
) -> anyhow::Result<Cleaned> {
    let cfg = env.cfg;
    let rules = select(cfg, only)?;
    env.out.summary(&Summary { database: &cfg.mongodb.database, dry_run, run: None, rules: &[] });
    let mongo = mongo::connect(
        &cfg.mongodb,
        Role::Job(crate::mongo::privileges::Job::Cleanup),
        Access::ReadWrite,
    )
    .await?;
    let db = mongo.client.database(&cfg.mongodb.database);
    if dry_run {
        return run_rules(env, &mongo, &db, &rules, true, on_rule).await;
    }
    crate::lock::with(cfg, &cfg.mongodb.database, "cleanup", env.cancel, async || {
        run_rules(env, &mongo, &db, &rules, false, on_rule).await
    })
    .await
}

async fn run_rules(
    env: Env<'_>,
    mongo: &mongo::Mongo,
    db: &Database,
    rules: &[&CleanupRule],
    dry_run: bool,
    on_rule: &(dyn Fn(&str, Result<&RuleReport, &anyhow::Error>) + Sync),
) -> anyhow::Result<Cleaned> {
    let cfg = env.cfg;
    let run_id = format!(
        "{}-{:04x}",
        jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ"),
        rand::random::<u16>()
    );
    let progress = Progress::new(env.out);
    let mut reports: Vec<RuleReport> = Vec::new();
    let mut first_error: Option<anyhow::Error> = None;
    let mut partial = false;
    let deadline = cfg.cleanup.max_run_time.map(|d| Instant::now() + d);
    for rule in rules {
        if env.cancel.is_cancelled() {
            break;
        }
        let bar = progress.collection(&rule.name, 0);
        let on_batch = |deleted: u64, bytes: u64| bar.set(deleted, bytes);
        let run_env = RunEnv {
            cfg: &cfg.cleanup,
            db,
            client: &mongo.client,
            cancel: env.cancel,
            deadline,
            run_id: &run_id,
            now: jiff::Timestamp::now(),
            on_batch: &on_batch,
        };
        let outcome = if dry_run {
            super::dry_run(&run_env, rule).await
        } else {
            // A rule whose archive target cannot be set up fails like any other rule: the
            // others still run and the lock is released below.
            match rule.action {
                CleanupAction::Archive => match Sink::for_rule(cfg, db, rule, &run_id).await {
                    Ok(sink) => super::run_rule(&run_env, rule, Some(&sink)).await,
                    Err(e) => Err(e),
                },
                CleanupAction::Delete => super::run_rule(&run_env, rule, None).await,
            }
        };
        bar.clear();
        let mut report = match outcome {
            Ok(r) => r,
            Err(e) => {
                let e = e.context(format!("cleanup rule {}", rule.name));
                tracing::error!("{e:#}");
                on_rule(&rule.name, Err(&e));
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
        on_rule(&rule.name, Ok(&report));
        let stop = matches!(report.stopped, Stopped::Interrupted | Stopped::MaxRunTime);
        reports.push(report);
        if stop {
            break;
        }
    }
    progress.finish();
    env.out.summary(&Summary {
        database: &cfg.mongodb.database,
        dry_run,
        run: Some(&run_id),
        rules: &reports,
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    if env.cancel.is_cancelled() {
        return Err(Interrupted.into());
    }
    let outcome = if partial { Outcome::Partial } else { Outcome::Ok };
    Ok(Cleaned {
        outcome,
        deleted: reports.iter().map(|r| r.deleted).sum(),
        bytes: reports.iter().map(|r| r.bytes).sum(),
        reports,
    })
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
