//! `config check` and `config show`; `--connect` reaches every dependency (src/probe.rs).

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::{ConfigCheckArgs, ConfigCommand};
use crate::config::env_vars::ProcessEnv;
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::probe::{self, Check};

pub async fn run(ctx: &Context, cmd: &ConfigCommand) -> anyhow::Result<Outcome> {
    match cmd {
        ConfigCommand::Check(args) => check(ctx, args).await,
        ConfigCommand::Show => show(ctx),
    }
}

/// The JSON summary of `config check` (docs/cli.md).
#[derive(Debug, Default, Serialize)]
struct CheckSummary {
    /// The file read; null when the configuration came from the environment alone.
    config_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_files_read: Option<usize>,
    /// With `--connect`: one per dependency.
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<Vec<Check>>,
}

/// The JSON summary of `config show`: the resolved configuration, secrets redacted.
#[derive(Debug, Serialize)]
struct ShowSummary<'a> {
    config_file: Option<String>,
    config: &'a crate::config::Config,
}

async fn check(ctx: &Context, args: &ConfigCheckArgs) -> anyhow::Result<Outcome> {
    let loaded = ctx.config()?;
    let c = &loaded.config;
    let source = loaded
        .path
        .as_ref()
        .map_or_else(|| "environment only".to_owned(), |p| p.display().to_string());
    let config_file = loaded.path.as_ref().map(|p| p.display().to_string());
    ctx.out.summary(&CheckSummary { config_file: config_file.clone(), ..CheckSummary::default() });
    let secrets = loaded.check_secrets(&ProcessEnv)?;
    // age keys parse: recipients files are read, identity files hold identities.
    crate::repo::recipients(c)?;
    crate::repo::load_identities(&c.backup.encryption.identity_files)?;
    let mut summary = CheckSummary { config_file, secret_files_read: Some(secrets), checks: None };
    ctx.out.summary(&summary);
    if let Some(spec) = &c.indexes.spec
        && !spec.is_file()
    {
        return Err(CliError::usage(format!("indexes.spec {} does not exist", spec.display()))
            .with_hint("point indexes.spec at an index spec file (see config/indexes.yaml)")
            .into());
    }
    ctx.out.line(format!("config ok: {source}"));
    ctx.out.line(format!("secrets: {secrets} file(s) read"));

    let mut checks = Vec::new();
    if args.connect {
        probe::check_backup_dir(&c.backup.dir)?;
        let say = |ch: &Check| {
            let status = if ch.status == "not-checked" { "not checked" } else { ch.status };
            ctx.out.line(format!("{}: {status}: {}", ch.name, ch.detail));
        };
        let result = probe::connect_all(c, &mut checks, &say).await;
        summary.checks = Some(checks);
        ctx.out.summary(&summary);
        result?;
    }
    Ok(Outcome::Ok)
}

fn show(ctx: &Context) -> anyhow::Result<Outcome> {
    let loaded = ctx.config()?;
    ctx.out.summary(&ShowSummary {
        config_file: loaded.path.as_ref().map(|p| p.display().to_string()),
        config: &loaded.config,
    });
    if !ctx.out.is_json() {
        let source =
            loaded.path.as_ref().map_or_else(|| "no file".to_owned(), |p| p.display().to_string());
        let yaml = serde_saphyr::to_string(&loaded.config)
            .context("rendering the configuration as YAML")?;
        ctx.out
            .line(format!("# resolved from {source} + DARAA_OPS_* environment; secrets redacted"));
        ctx.out.raw(&yaml);
    }
    Ok(Outcome::Ok)
}
