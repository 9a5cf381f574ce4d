//! `cron print|install|remove`: the crontab lines (src/cron.rs) for this binary and config,
//! printed, installed or removed.

use std::path::{Path, PathBuf};

use crate::cli::{CronCommand, CronLinesArgs, CronTargetArgs};
use crate::context::Context;
use crate::cron::{self, Entry};
use crate::error::{CliError, Outcome};

/// The JSON summary of `cron print|install|remove` (docs/cli.md).
#[derive(Debug, Default, serde::Serialize)]
struct Summary {
    /// The scheduled commands (print, install).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    entries: Vec<Entry>,
    /// The crontab lines (print).
    #[serde(skip_serializing_if = "Option::is_none")]
    crontab: Option<String>,
    /// The cron.d file written (install --cron-d).
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    /// Whether the crontab changed (install, remove).
    #[serde(skip_serializing_if = "Option::is_none")]
    changed: Option<bool>,
}

pub fn run(ctx: &Context, cmd: &CronCommand) -> anyhow::Result<Outcome> {
    match cmd {
        CronCommand::Print(a) => {
            let (text, entries) = render(ctx, a, None)?;
            ctx.out.raw(&text);
            ctx.out.summary(&Summary { entries, crontab: Some(text), ..Summary::default() });
            Ok(Outcome::Ok)
        }
        CronCommand::Install(a) => install(ctx, &a.lines, &a.target),
        CronCommand::Remove(t) => remove(ctx, t),
    }
}

fn render(
    ctx: &Context,
    a: &CronLinesArgs,
    user: Option<&str>,
) -> anyhow::Result<(String, Vec<Entry>)> {
    let loaded = ctx.config()?;
    let config = loaded.path.as_ref().ok_or_else(|| {
        CliError::usage("cron lines need a config file (the jobs read it when they run)")
            .with_hint("pass --config /etc/daraa-ops/daraa-ops.yaml")
    })?;
    let config = std::fs::canonicalize(config).unwrap_or_else(|_| config.clone());
    let bin = match &a.bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()?,
    };
    let bin = std::fs::canonicalize(&bin).unwrap_or(bin);
    let log_dir = absolute(&a.log_dir)?;
    let entries = cron::entries(&loaded.config)?;
    Ok((cron::lines(&entries, &bin, &config, &log_dir, user), entries))
}

fn absolute(p: &Path) -> std::io::Result<PathBuf> {
    if p.is_absolute() { Ok(p.to_path_buf()) } else { Ok(std::env::current_dir()?.join(p)) }
}

fn install(ctx: &Context, a: &CronLinesArgs, t: &CronTargetArgs) -> anyhow::Result<Outcome> {
    let version = env!("CARGO_PKG_VERSION");
    let log_dir = absolute(&a.log_dir)?;
    if let Some(path) = &t.cron_d {
        let user = t.user.clone().unwrap_or_else(cron::current_user);
        let (body, entries) = render(ctx, a, Some(&user))?;
        cron::ensure_log_dir(&log_dir)?;
        let text = format!("SHELL=/bin/sh\n{}", cron::block(&body, version));
        cron::write_cron_d(path, &text)?;
        ctx.out.line(format!("wrote {} ({} job(s), as {user})", path.display(), entries.len()));
        let path = Some(path.display().to_string());
        ctx.out.summary(&Summary { entries, path, ..Summary::default() });
        return Ok(Outcome::Ok);
    }
    let (body, entries) = render(ctx, a, None)?;
    cron::ensure_log_dir(&log_dir)?;
    let changed = cron::install_block(t.crontab_file.as_deref(), &cron::block(&body, version))?;
    ctx.out.line(format!(
        "{} {} job(s) in {}",
        if changed { "installed" } else { "already installed:" },
        entries.len(),
        describe(t)
    ));
    ctx.out.summary(&Summary { entries, changed: Some(changed), ..Summary::default() });
    Ok(Outcome::Ok)
}

fn describe(t: &CronTargetArgs) -> String {
    match &t.crontab_file {
        Some(f) => f.display().to_string(),
        None => "the user's crontab".into(),
    }
}

fn remove(ctx: &Context, t: &CronTargetArgs) -> anyhow::Result<Outcome> {
    if let Some(path) = &t.cron_d {
        let existed = cron::remove_cron_d(path)?;
        ctx.out.summary(&Summary { changed: Some(existed), ..Summary::default() });
        ctx.out.line(if existed {
            format!("removed {}", path.display())
        } else {
            format!("{} does not exist", path.display())
        });
        return Ok(Outcome::Ok);
    }
    let changed = cron::remove_block(t.crontab_file.as_deref())?;
    ctx.out.summary(&Summary { changed: Some(changed), ..Summary::default() });
    ctx.out.line(if changed {
        format!("removed the daraa-ops block from {}", describe(t))
    } else {
        format!("no daraa-ops block in {}", describe(t))
    });
    Ok(Outcome::Ok)
}
