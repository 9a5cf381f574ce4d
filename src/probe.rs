//! `config check --connect`: every configured dependency reached with its credentials
//! (MongoDB, its admin account, Redis, S3), each job's privileges asked of the server, and
//! the backup folder tried for writing.

use anyhow::Context as _;
use serde::Serialize;

use crate::config::Config;
use crate::error::{CliError, Outcome};
use crate::{cache, mongo, storage};

#[derive(Debug, Serialize)]
/// One dependency reached (or not): `ok`, `failed` or `not-checked`, and what was found.
pub struct Check {
    pub name: String,
    pub status: &'static str,
    pub detail: String,
}

/// For each job: connect with its account (`mongodb.jobs.<job>`, else the default one), ask
/// `connectionStatus` for the user's privileges, and name the actions the job needs that the
/// user lacks (exit 6). A server that reports no privileges (FerretDB) is said to, not passed.
/// Per job: `Ok(Ok(detail))` granted, `Ok(Err(why))` not checked, `Err` lacking or failed.
type Privileges = anyhow::Result<Result<String, String>>;

async fn job_privileges(c: &Config) -> Vec<(mongo::privileges::Job, Privileges)> {
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
                    mongo::privileges::On::Oplog => format!("{a} on local.oplog.rs"),
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
    c: &Config,
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
pub fn check_backup_dir(dir: &std::path::Path) -> anyhow::Result<()> {
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
/// Each check goes to `on_check` as it is made.
pub async fn connect_all(
    c: &Config,
    checks: &mut Vec<Check>,
    on_check: &(dyn Fn(&Check) + Sync),
) -> anyhow::Result<()> {
    let mut first_error: Option<anyhow::Error> = None;
    let mut record = |checks: &mut Vec<Check>,
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
        let check = Check { name, status, detail };
        on_check(&check);
        checks.push(check);
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
    record(checks, "mongodb".to_owned(), r, true);

    if c.mongodb.admin.is_some() {
        let r = mongo::connect(&c.mongodb, mongo::Role::Admin, mongo::Access::ReadWrite)
            .await
            .map(|m| format!("{} as {}", m.display_uri, m.user.unwrap_or_default()))
            .map_err(anyhow::Error::from);
        record(checks, "mongodb-admin".to_owned(), r, true);
    }
    if let Some(r) = &c.redis {
        let res = async {
            let mut conn = cache::connect(r).await?;
            let v = cache::server_version(&mut conn).await.unwrap_or_else(|_| "unknown".into());
            anyhow::Ok(format!("{} (redis {v})", crate::config::redact::redact_uri(&r.url)))
        }
        .await;
        record(checks, "redis".to_owned(), res, r.required);
    }
    if let Some(s) = &c.s3 {
        let client = storage::s3::client(s).await;
        let res = storage::s3::probe(&client, s).await.map(|()| {
            let at = s.endpoint.as_deref().map(|e| format!(" at {e}")).unwrap_or_default();
            format!("s3://{}/{}{at}", s.bucket, s.prefix)
        });
        let res = res.map_err(anyhow::Error::from);
        record(checks, "s3".to_owned(), res, true);
    }
    // Privileges only when MongoDB answered: six more connection attempts to a server that
    // is down would each wait for the server-selection timeout.
    if checks.iter().any(|ch| ch.name == "mongodb" && ch.status == "ok") {
        for (job, result) in job_privileges(c).await {
            let name = format!("privileges {}", job.name());
            match result {
                Ok(Err(why)) => {
                    let check = Check { name, status: "not-checked", detail: why };
                    on_check(&check);
                    checks.push(check);
                }
                other => {
                    record(checks, name, other.and_then(|r| r.map_err(anyhow::Error::msg)), true);
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(e).context("config check --connect"),
        None => Ok(()),
    }
}
