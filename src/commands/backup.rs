//! `backup`: the backup engine (src/backup/) with the operator's flags, its report for people
//! and JSON, and what it wrote for the job's last-run record.

use std::time::Instant;

use crate::backup::{self, Env, Request};
use crate::cli::BackupArgs;
use crate::context::Context;
use crate::error::Outcome;
use crate::output::progress::Progress;

pub async fn run(ctx: &Context, args: &BackupArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    if args.dry_run {
        return dry_run(ctx).await;
    }
    if args.stdout {
        use std::io::IsTerminal as _;
        if std::io::stdout().is_terminal() {
            return Err(crate::error::CliError::usage(
                "refusing to write a compressed archive to a terminal",
            )
            .with_hint("redirect it: daraa-ops backup --stdout > file.archive.gz, or pipe it")
            .into());
        }
        ctx.out.keep_stdout_for_data();
    }
    let started = Instant::now();
    let progress = Progress::new(&ctx.out);
    let env = Env { cfg, cancel: &ctx.cancel, progress: &progress };
    let request = Request {
        label: args.label.clone(),
        upload: !args.no_upload,
        prune: !args.no_prune,
        stdout: args.stdout,
        no_oplog: args.no_oplog,
    };
    let result = backup::run(env, &request).await;
    let mut summary = Summary {
        database: &cfg.mongodb.database,
        dry_run: false,
        collections: None,
        duration_seconds: Some((started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0),
        report: None,
    };
    ctx.out.summary(&summary);
    let report = result?;
    ctx.tally(crate::lastrun::Tally {
        bytes: report.archive.size,
        documents: report.totals.documents,
        restore_seconds: None,
    });
    print_report(ctx, &report);
    summary.report = Some(&report);
    ctx.out.summary(&summary);
    Ok(report.outcome)
}

async fn dry_run(ctx: &Context) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let (uri, planned) = backup::plan(cfg).await?;
    ctx.out.line(format!(
        "would back up {} collection(s) of {} from {uri}:",
        planned.len(),
        cfg.mongodb.database
    ));
    for p in &planned {
        ctx.out
            .line(format!("  {:<32} {:<10} ~{} documents", p.name, p.kind, p.estimated_documents));
    }
    ctx.out.summary(&Summary {
        database: &cfg.mongodb.database,
        dry_run: true,
        collections: Some(planned),
        duration_seconds: None,
        report: None,
    });
    Ok(Outcome::Ok)
}

/// The JSON summary of `backup` (docs/cli.md): the engine's report, or with `--dry-run` the
/// collections it would take.
#[derive(Debug, serde::Serialize)]
struct Summary<'a> {
    database: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    collections: Option<Vec<backup::Planned>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<f64>,
    #[serde(flatten)]
    report: Option<&'a backup::Report>,
}

fn print_report(ctx: &Context, r: &backup::Report) {
    for line in r.describe() {
        ctx.out.line(line);
    }
}
