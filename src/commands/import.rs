//! `import PATH`: the backup engine's import (src/backup/import.rs) of a mongodump backup,
//! with the operator's flags and its report for people and JSON.

use crate::backup::{self, Env, Request};
use crate::cli::ImportArgs;
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::output::progress::Progress;
use crate::repo;

pub async fn run(ctx: &Context, args: &ImportArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let time = args.time.as_deref().map(parse_time).transpose()?;
    let source = repo::resolve(cfg, &args.path).await?;
    if source.directory.is_none() && !std::path::Path::new(&args.path).exists() {
        return Err(CliError::usage(format!("{} is not a file or folder", args.path))
            .with_hint("import takes the path of a mongodump backup; backups in the catalog are there already")
            .into());
    }
    let progress = Progress::new(&ctx.out);
    let env = Env { cfg, cancel: &ctx.cancel, progress: &progress };
    let request = Request {
        label: args.label.clone(),
        upload: !args.no_upload,
        prune: !args.no_prune,
        stdout: false,
        no_oplog: true,
    };
    let report = backup::import(env, &source, time, args.allow_future, &request).await?;
    let outcome = report.backup.as_ref().map_or(Outcome::Ok, |b| b.outcome);
    if let Some(b) = &report.backup {
        ctx.tally(crate::lastrun::Tally {
            bytes: b.totals.bytes,
            documents: b.totals.documents,
            restore_seconds: None,
        });
    }
    if report.already_present {
        ctx.out.line(format!(
            "{} is already in the catalog as backup {} (time {} from its {}); nothing written",
            report.source,
            report.id,
            report.time,
            time_from_text(report.time_from)
        ));
    } else {
        ctx.out.line(format!(
            "imported {} ({}) as of {} (from its {})",
            report.source,
            report.source_format.describe(),
            report.time,
            time_from_text(report.time_from)
        ));
        for line in report.backup.iter().flat_map(backup::Report::describe) {
            ctx.out.line(line);
        }
    }
    ctx.out.summary(&report);
    Ok(outcome)
}

fn time_from_text(t: backup::TimeFrom) -> &'static str {
    match t {
        backup::TimeFrom::Option => "--time",
        backup::TimeFrom::Name => "name",
        backup::TimeFrom::Mtime => "modification time",
    }
}

/// `2026-11-28`, `2026-11-28T03:00[:00]` (UTC) or RFC 3339.
fn parse_time(text: &str) -> Result<jiff::Timestamp, CliError> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    text.parse::<jiff::civil::DateTime>()
        .or_else(|_| {
            text.parse::<jiff::civil::Date>().map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            CliError::usage(format!("--time {text:?} is not a date or time")).with_hint(
                "write 2026-11-28, 2026-11-28T03:00:00 (UTC) or 2026-11-28T03:00:00+01:00",
            )
        })
}
