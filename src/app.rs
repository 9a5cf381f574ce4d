//! Dispatch from the parsed command line to the command modules.

use crate::cli::Command;
use crate::commands;
use crate::context::Context;
use crate::outcome::Outcome;

pub async fn run(ctx: &Context, command: &Command) -> anyhow::Result<Outcome> {
    let record = recorded_job(command);
    let notified = record.is_some() || records_itself(command);
    if !notified {
        return dispatch(ctx, command).await;
    }
    let started = std::time::Instant::now();
    let started_at = jiff::Timestamp::now();
    let started_unix = started_at.as_millisecond() as f64 / 1000.0;
    let result = dispatch(ctx, command).await;
    let Ok(loaded) = ctx.config() else { return result };
    let cfg = &loaded.config;
    let (outcome, error, hint) = match &result {
        Ok(o) => (*o, None, None),
        Err(e) => {
            let c = crate::outcome::classify(e, ctx.cancel.is_cancelled());
            (c.outcome, Some(c.message), c.hint)
        }
    };
    // The database the job acted on: a restore's target, else the configured one. A target
    // refused by name was never acted on: nothing is recorded under that name.
    let target = match command {
        Command::Restore(a) => a.target_db.clone(),
        _ => None,
    };
    let refused =
        target.as_deref().is_some_and(|t| crate::config::check_restore_target(t).is_err());
    let database = target.filter(|_| !refused).unwrap_or_else(|| cfg.mongodb.database.clone());
    // Jobs monitoring alerts on; backup and cleanup record their own with bytes and documents.
    if let Some(job) = record.filter(|_| !refused) {
        let (bytes, documents) = counts(ctx);
        crate::lastrun::save(
            cfg,
            &crate::lastrun::Record {
                job,
                database: database.clone(),
                exit_code: outcome.code(),
                started_unix,
                duration_seconds: started.elapsed().as_secs_f64(),
                bytes,
                documents,
                restore_seconds: ctx.out.get("restore_seconds").and_then(|v| v.as_f64()),
            },
        )
        .await;
    }
    let event = crate::notify::Event {
        tool: "daraa-ops",
        host: crate::lock::hostname(),
        job: command.name().to_owned(),
        database,
        outcome: outcome.status(),
        exit_code: outcome.code(),
        error,
        hint,
        started_at: started_at.round(jiff::Unit::Second).unwrap_or(started_at).to_string(),
        duration_seconds: started.elapsed().as_secs_f64(),
    };
    // After a signal the process is on its way out: one quick try, no retries.
    let mut notify = cfg.notify.clone();
    if ctx.cancel.is_cancelled() {
        notify.attempts = 1;
        notify.timeout = notify.timeout.min(std::time::Duration::from_secs(3));
    }
    crate::notify::send(&notify, &event).await;
    result
}

/// Jobs that write their own last-run record (with what they wrote and deleted); they are
/// notified like the others.
fn records_itself(command: &Command) -> bool {
    match command {
        Command::Backup(a) => !a.dry_run,
        Command::Cleanup(a) => !a.dry_run,
        _ => false,
    }
}

/// Bytes and documents a job's JSON summary reports: at its top level, under `totals`, or
/// under `backup.totals` (import).
fn counts(ctx: &Context) -> (u64, u64) {
    let field = |name: &str| -> Option<u64> {
        let top = ctx.out.get(name).and_then(|v| v.as_u64());
        let totals =
            ctx.out.get("totals").and_then(|t| t.get(name).and_then(serde_json::Value::as_u64));
        let backup = ctx.out.get("backup").and_then(|b| {
            b.get("totals").and_then(|t| t.get(name).and_then(serde_json::Value::as_u64))
        });
        top.or(totals).or(backup)
    };
    (field("bytes").unwrap_or(0), field("documents").unwrap_or(0))
}

/// The metric name of a job whose runs are recorded here (dry runs are not). `backup` and
/// `cleanup` record their own runs (per rule, with what they wrote and deleted).
fn recorded_job(command: &Command) -> Option<&'static str> {
    use crate::cli::{IndexesCommand, UsersCommand};
    match command {
        Command::Prune(a) if !a.dry_run => Some("prune"),
        Command::Restore(a) if !a.dry_run => Some("restore"),
        Command::Drill(_) => Some("drill"),
        Command::Verify(_) => Some("verify"),
        Command::Import(_) => Some("import"),
        Command::Rekey(a) if !a.dry_run => Some("rekey"),
        Command::Delete(_) => Some("delete"),
        Command::Stats(_) => Some("stats"),
        Command::Indexes(IndexesCommand::Validate(_)) => Some("indexes_validate"),
        Command::Indexes(IndexesCommand::Apply(a)) if !a.dry_run => Some("indexes_apply"),
        Command::Users(UsersCommand::Check) => Some("users_check"),
        Command::Users(UsersCommand::Provision(a)) if !a.dry_run => Some("users_provision"),
        _ => None,
    }
}

async fn dispatch(ctx: &Context, command: &Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Config(cmd) => commands::config::run(ctx, cmd).await,
        Command::Backup(args) => commands::backup::run(ctx, args).await,
        Command::List(args) => commands::list::run(ctx, args).await,
        Command::Describe(args) => commands::describe::run(ctx, args).await,
        Command::Delete(args) => commands::delete::run(ctx, args).await,
        Command::Verify(args) => commands::verify::run(ctx, args).await,
        Command::Import(args) => commands::import::run(ctx, args).await,
        Command::Prune(args) => commands::prune::run(ctx, args).await,
        Command::Rekey(args) => commands::rekey::run(ctx, args).await,
        Command::Restore(args) => commands::restore::run(ctx, args).await,
        Command::Drill(args) => commands::drill::run(ctx, args).await,
        Command::Users(cmd) => commands::users::run(ctx, cmd).await,
        Command::Indexes(cmd) => commands::indexes::run(ctx, cmd).await,
        Command::Cleanup(args) => commands::cleanup::run(ctx, args).await,
        Command::Stats(args) => commands::stats::run(ctx, args).await,
        Command::Cron(cmd) => commands::cron::run(ctx, cmd),
        Command::Lock(cmd) => commands::lock::run(ctx, cmd).await,
        Command::Mask(cmd) => commands::mask::run(ctx, cmd).await,
        Command::Completions(args) => commands::completions::run(ctx, args),
        Command::Man(args) => commands::man::run(ctx, args),
    }
}
