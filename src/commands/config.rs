//! `config check` and `config show`.

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::{ConfigCheckArgs, ConfigCommand};
use crate::config::env_vars::ProcessEnv;
use crate::context::Context;
use crate::outcome::{CliError, Outcome};
use crate::{cache, mongo, storage};

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

#[derive(Debug, Serialize)]
struct Check {
    name: String,
    status: &'static str,
    detail: String,
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
    crate::catalog::recipients(c)?;
    crate::catalog::load_identities(&c.backup.encryption.identity_files)?;
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
        check_backup_dir(&c.backup.dir)?;
        let result = connect_all(ctx, &mut checks).await;
        summary.checks = Some(checks);
        ctx.out.summary(&summary);
        result?;
    }
    Ok(Outcome::Ok)
}

/// For each job: connect with its account (`mongodb.jobs.<job>`, else the default one), ask
/// `connectionStatus` for the user's privileges, and name the actions the job needs that the
/// user lacks (exit 6). A server that reports no privileges (FerretDB) is said to, not passed.
/// Per job: `Ok(Ok(detail))` granted, `Ok(Err(why))` not checked, `Err` lacking or failed.
type Privileges = anyhow::Result<Result<String, String>>;

async fn job_privileges(c: &crate::config::Config) -> Vec<(mongo::privileges::Job, Privileges)> {
    use mongo::privileges::{Job, granted, missing};
    let mut out = Vec::new();
    // One connection per distinct account: jobs without their own share the default one.
    let mut replies: Vec<(Option<String>, String, bson::Document)> = Vec::new();
    for job in Job::ALL {
        let result = async {
            let account = c.mongodb.jobs.get(job.name()).map(|(a, _)| a.username.clone());
            let (who, reply) = match replies.iter().find(|(a, _, _)| *a == account) {
                Some((_, who, reply)) => (who.clone(), reply.clone()),
                None => {
                    let (who, reply) = connection_status(c, job).await?;
                    replies.push((account, who.clone(), reply.clone()));
                    (who, reply)
                }
            };
            let db = job.database(&c.mongodb.database);
            let Some(g) = granted(&reply, &db) else {
                return anyhow::Ok(Err(format!(
                    "as {who}: the server does not report privileges (FerretDB)"
                )));
            };
            let lacking = missing(job, &g);
            if lacking.is_empty() {
                return Ok(Ok(format!("as {who}: every action the job needs is granted")));
            }
            let list: Vec<String> = lacking
                .iter()
                .map(|(on, a)| match on {
                    mongo::privileges::On::Database => format!("{a} on {db}"),
                    mongo::privileges::On::Cluster => format!("{a} on the cluster"),
                })
                .collect();
            Err(CliError::new(
                Outcome::Drift,
                format!("the {} job's user {who} lacks: {}", job.name(), list.join(", ")),
            )
            .with_hint("grant the job's role from config/daraa-ops.example.yaml (`daraa-ops users provision` creates it), or set mongodb.jobs.<job> to a user that has it")
            .into())
        }
        .await;
        out.push((job, result));
    }
    out
}

/// Connects as `job`'s account and asks for its privileges: (user, `connectionStatus` reply).
/// A server without the command answers with no privileges (an empty reply).
async fn connection_status(
    c: &crate::config::Config,
    job: mongo::privileges::Job,
) -> anyhow::Result<(String, bson::Document)> {
    let m = mongo::connect(&c.mongodb, mongo::Role::Job(job), mongo::Access::ReadOnly).await?;
    let reply = match m
        .client
        .database("admin")
        .run_command(bson::doc! {"connectionStatus": 1, "showPrivileges": true})
        .await
    {
        Ok(r) => r,
        Err(e) if matches!(e.kind.as_ref(), mongodb::error::ErrorKind::Command(c) if c.code == 59 || c.code == 238) => {
            bson::Document::new()
        }
        Err(e) => return Err(e.into()),
    };
    Ok((m.user.clone().unwrap_or_else(|| "(no user)".into()), reply))
}

/// `backup.dir` must be a folder this user can write, or one it can create (exit 2).
fn check_backup_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let bad = |why: String| {
        anyhow::Error::new(
            CliError::usage(format!("backup.dir {}: {why}", dir.display()))
                .with_hint("point backup.dir at a folder the backup user can write"),
        )
    };
    let existing = dir.ancestors().find(|p| p.exists()).unwrap_or(std::path::Path::new("."));
    if !existing.is_dir() {
        return Err(bad(format!("{} is not a folder", existing.display())));
    }
    let probe = existing.join(format!(".daraa-ops-write-test-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(bad(format!("cannot write in {}: {e}", existing.display()))),
    }
}

/// Connects to every configured dependency; the first failure is returned after all were
/// tried, so the operator sees the whole picture at once. A configured Redis counts even when
/// `redis.required` is false: exit 0 here means every dependency answers with its credentials.
async fn connect_all(ctx: &Context, checks: &mut Vec<Check>) -> anyhow::Result<()> {
    let c = &ctx.config()?.config;
    let mut first_error: Option<anyhow::Error> = None;
    let mut record = |ctx: &Context,
                      checks: &mut Vec<Check>,
                      name: String,
                      result: anyhow::Result<String>,
                      required: bool| {
        let (status, detail) = match result {
            Ok(d) => ("ok", d),
            Err(e) => {
                let d = e.to_string();
                let note =
                    if required { "" } else { " (redis.required is false: jobs go on without it)" };
                tracing::error!("{name}: {d}{note}");
                first_error.get_or_insert(e);
                ("failed", format!("{d}{note}"))
            }
        };
        ctx.out.line(format!("{name}: {status}: {detail}"));
        checks.push(Check { name, status, detail });
    };

    let r = async {
        let m = mongo::connect(&c.mongodb, mongo::Role::Operator, mongo::Access::ReadOnly).await?;
        let version = mongo::build_info(&m.client)
            .await
            .ok()
            .and_then(|d| d.get_str("version").ok().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into());
        let who = m.user.as_deref().map(|u| format!(" as {u}")).unwrap_or_default();
        anyhow::Ok(format!("{} (server {version}){who}", m.display_uri))
    }
    .await;
    record(ctx, checks, "mongodb".to_owned(), r, true);

    if c.mongodb.admin.is_some() {
        let r = mongo::connect(&c.mongodb, mongo::Role::Admin, mongo::Access::ReadWrite)
            .await
            .map(|m| format!("{} as {}", m.display_uri, m.user.unwrap_or_default()))
            .map_err(anyhow::Error::from);
        record(ctx, checks, "mongodb-admin".to_owned(), r, true);
    }
    if let Some(r) = &c.redis {
        let res = async {
            let mut conn = cache::connect(r).await?;
            let v = cache::server_version(&mut conn).await.unwrap_or_else(|_| "unknown".into());
            anyhow::Ok(format!("{} (redis {v})", crate::config::redact::redact_uri(&r.url)))
        }
        .await;
        record(ctx, checks, "redis".to_owned(), res, r.required);
    }
    if let Some(s) = &c.s3 {
        let client = storage::s3::client(s).await;
        let res = storage::s3::probe(&client, s).await.map(|()| {
            let at = s.endpoint.as_deref().map(|e| format!(" at {e}")).unwrap_or_default();
            format!("s3://{}/{}{at}", s.bucket, s.prefix)
        });
        let res = res.map_err(anyhow::Error::from);
        record(ctx, checks, "s3".to_owned(), res, true);
    }
    // Privileges only when MongoDB answered: six more connection attempts to a server that
    // is down would each wait for the server-selection timeout.
    if checks.iter().any(|ch| ch.name == "mongodb" && ch.status == "ok") {
        for (job, result) in job_privileges(c).await {
            let name = format!("privileges {}", job.name());
            match result {
                Ok(Err(why)) => {
                    ctx.out.line(format!("{name}: not checked: {why}"));
                    checks.push(Check { name, status: "not-checked", detail: why });
                }
                other => record(
                    ctx,
                    checks,
                    name,
                    other.and_then(|r| r.map_err(anyhow::Error::msg)),
                    true,
                ),
            }
        }
    }
    match first_error {
        Some(e) => Err(e).context("config check --connect"),
        None => Ok(()),
    }
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
