//! Dispatch from the parsed command line to the command modules.

use crate::cli::Command;
use crate::commands;
use crate::context::{Context, PendingCheck};
use crate::error::Outcome;

pub async fn run(ctx: &Context, command: &Command) -> anyhow::Result<Outcome> {
    let record = recorded_job(command);
    let notified = record.is_some();
    let started = std::time::Instant::now();
    let started_at = jiff::Timestamp::now();
    // Boxed: the commands' futures together are large for the stack.
    let result = Box::pin(dispatch(ctx, command)).await;
    let done = ctx.take_done();
    if let Some(check) = done.check {
        record_check(check, &result, ctx.cancel.is_cancelled()).await;
    }
    if !notified {
        return result;
    }
    let Ok(loaded) = ctx.config() else { return result };
    let cfg = &loaded.config;
    let (outcome, error, hint) = match &result {
        Ok(o) => (*o, None, None),
        Err(e) => {
            let c = crate::classify::classify(e, ctx.cancel.is_cancelled());
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
    // Every real run is recorded, failed ones too: monitoring alerts on those. What it wrote,
    // read or deleted is what its command reported from its engine.
    if let Some(job) = record.filter(|_| !refused) {
        let tally = done.tally;
        crate::lastrun::save(
            cfg,
            &crate::lastrun::Record {
                job,
                database: database.clone(),
                exit_code: outcome.code(),
                started_unix: started_at.as_millisecond() as f64 / 1000.0,
                duration_seconds: started.elapsed().as_secs_f64(),
                bytes: tally.bytes,
                documents: tally.documents,
                restore_seconds: tally.restore_seconds,
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

/// A verify or drill result, recorded beside its backup (`list` and `describe` show it) when
/// it says something about the backup: not after a signal, a usage error, a missing key, an
/// unreachable server or a held lock.
async fn record_check(check: PendingCheck, result: &anyhow::Result<Outcome>, interrupted: bool) {
    let about_the_backup = result.as_ref().err().is_none_or(crate::classify::about_the_backup);
    if interrupted || !about_the_backup {
        return;
    }
    let ok = matches!(result, Ok(Outcome::Ok)) && check.problems.is_empty();
    let error = if check.problems.is_empty() {
        result.as_ref().err().map(|e| format!("{e:#}"))
    } else {
        Some(check.problems.join("; "))
    };
    let record = crate::repo::Check {
        at: crate::repo::now_rfc3339(),
        ok,
        error,
        contents_checked: check.contents_checked,
        restore_seconds: check.restore_seconds,
        to_time: check.to_time,
    };
    check.source.record_check(check.kind, record).await;
}

/// The metric name of a job whose runs are recorded and notified (dry runs are not).
fn recorded_job(command: &Command) -> Option<&'static str> {
    use crate::cli::{IndexesCommand, UsersCommand};
    match command {
        Command::Backup(a) if !a.dry_run => Some("backup"),
        Command::Cleanup(a) if !a.dry_run => Some("cleanup"),
        Command::Prune(a) if !a.dry_run => Some("prune"),
        Command::Restore(a) if !a.dry_run => Some("restore"),
        Command::Drill(_) => Some("drill"),
        Command::Verify(_) => Some("verify"),
        Command::Import(_) => Some("import"),
        Command::Rekey(a) if !a.dry_run => Some("rekey"),
        Command::Delete(_) => Some("delete"),
        Command::Stats(_) => Some("stats"),
        Command::Pitr(crate::cli::PitrCommand::Push(_)) => Some("pitr_push"),
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
        Command::Rekey(args) => Box::pin(commands::rekey::run(ctx, args)).await,
        Command::Restore(args) => Box::pin(commands::restore::run(ctx, args)).await,
        Command::Drill(args) => commands::drill::run(ctx, args).await,
        Command::Users(cmd) => commands::users::run(ctx, cmd).await,
        Command::Indexes(cmd) => commands::indexes::run(ctx, cmd).await,
        Command::Cleanup(args) => commands::cleanup::run(ctx, args).await,
        Command::Stats(args) => commands::stats::run(ctx, args).await,
        Command::Cron(cmd) => commands::cron::run(ctx, cmd),
        Command::Lock(cmd) => commands::lock::run(ctx, cmd).await,
        Command::Mask(cmd) => commands::mask::run(ctx, cmd).await,
        Command::Pitr(cmd) => commands::pitr::run(ctx, cmd).await,
        Command::Completions(args) => commands::completions::run(ctx, args),
        Command::Man(args) => commands::man::run(ctx, args),
    }
}
