//! The config's `users:` and `roles:` against the server, over the admin connection
//! (`mongodb.admin`): planned, provisioned idempotently, or checked for drift.
//!
//! Every secrets file is read before anything changes, so a missing one stops the run with
//! nothing half-done. Custom roles are provisioned before users, which may name them. Users
//! and roles the config does not list are left alone (and not reported as drift): the server
//! has its own admin accounts.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use super::{Action, PasswordPolicy, RolePlan, UserPlan, role_name, server};
use crate::config::{Config, ConfigError, SecretFile, UserSpec, env_vars::ProcessEnv};
use crate::error::{CliError, Outcome};
use crate::mongo::{self, Access, Role};

/// `users provision`'s flags.
#[derive(Debug, Clone, Copy)]
pub struct Provision {
    pub generate_missing: bool,
    pub dry_run: bool,
    pub update_passwords: PasswordPolicy,
}

/// Creates or updates the configured roles, then users (a dry run changes nothing); each is
/// said through `say` once done.
pub async fn provision(
    cfg: &Config,
    req: Provision,
    cancel: &CancellationToken,
    say: &(dyn Fn(String) + Sync),
) -> anyhow::Result<Planned> {
    if cfg.users.is_empty() && cfg.roles.is_empty() {
        return Err(CliError::usage("the config has no users: and no roles: to provision")
            .with_hint("see config/daraa-ops.example.yaml")
            .into());
    }
    let passwords = load_passwords(cfg, req.generate_missing, req.dry_run, say)?;
    let mongo = mongo::connect(&cfg.mongodb, Role::Admin, Access::ReadWrite).await?;
    let client = &mongo.client;
    refuse_roles_on_ferretdb(client, cfg).await?;
    let plan = plan_all(client, cfg, &passwords, req.update_passwords, false).await?;
    let verb =
        |a: Action| if req.dry_run { format!("would be {}", a.past()) } else { a.past().into() };
    for (spec, p) in cfg.roles.iter().zip(&plan.roles) {
        crate::signal::check(cancel)?;
        if !req.dry_run {
            server::apply_role(client, spec, p).await?;
        }
        say(format!("role {}@{}: {}{}", p.role, p.db, verb(p.action), describe(&p.changes)));
    }
    for ((spec, p), pw) in cfg.users.iter().zip(&plan.users).zip(&passwords) {
        crate::signal::check(cancel)?;
        if !req.dry_run {
            server::apply_user(client, spec, p, pw.as_ref()).await?;
        }
        let note = p.password.note().map(|n| format!("; {n}")).unwrap_or_default();
        say(format!("user {}@{}: {}{}{note}", p.user, p.db, verb(p.action), describe(&p.changes)));
        if let Some(u) = &p.unfixable {
            tracing::warn!("{u}");
        }
    }
    Ok(plan)
}

/// The configured roles and users against the server, passwords included, changing nothing.
pub async fn check(cfg: &Config) -> anyhow::Result<Planned> {
    if cfg.users.is_empty() && cfg.roles.is_empty() {
        return Err(CliError::usage("the config has no users: and no roles: to check")
            .with_hint("see config/daraa-ops.example.yaml")
            .into());
    }
    let passwords = load_passwords(cfg, false, true, &|_| {})?;
    let mongo = mongo::connect(&cfg.mongodb, Role::Admin, Access::ReadOnly).await?;
    plan_all(&mongo.client, cfg, &passwords, PasswordPolicy::OnCreate, true).await
}

/// What changed or would change, for a line: ` (a; b)`, or nothing.
pub fn describe(changes: &[String]) -> String {
    if changes.is_empty() { String::new() } else { format!(" ({})", changes.join("; ")) }
}

/// The secrets file of a user, or exit 2 naming what is missing.
fn password_file(i: usize, u: &UserSpec) -> Result<SecretFile, CliError> {
    crate::config::user_password_file(u, &ProcessEnv).ok_or_else(|| {
        let what = match &u.password_file_env {
            Some(var) => format!("environment variable {var} is not set"),
            None => "no password_file".to_owned(),
        };
        CliError::usage(format!("users[{i}] ({}): {what}", u.name)).with_hint(
            "set users[].password_file, or password_file_env naming a variable that holds the path",
        )
    })
}

fn key_of(i: usize, u: &UserSpec) -> String {
    format!("users[{i}] ({}) password_file", u.name)
}

/// Reads every user's password; with `generate`, missing files are created first (0600,
/// 32 random alphanumerics, ~190 bits) and never printed.
fn load_passwords(
    cfg: &Config,
    generate: bool,
    dry_run: bool,
    say: &(dyn Fn(String) + Sync),
) -> anyhow::Result<Vec<Option<SecretString>>> {
    let mut out = Vec::new();
    for (i, u) in cfg.users.iter().enumerate() {
        let file = password_file(i, u)?;
        if generate && !file.path().exists() {
            if dry_run {
                say(format!(
                    "would generate a password in {} for {}",
                    file.path().display(),
                    u.name
                ));
                out.push(None);
                continue;
            }
            generate_secret_file(file.path())?;
            tracing::info!(
                "generated a random password for {} in {} (mode 0600)",
                u.name,
                file.path().display()
            );
        }
        match file.read(&key_of(i, u)) {
            Ok(pw) => out.push(Some(pw)),
            Err(e @ ConfigError::SecretFile { .. }) if !generate => {
                let hint = e.hint().unwrap_or_default();
                return Err(CliError::usage(e.to_string())
                    .with_hint(format!("{hint}; or rerun with --generate-missing"))
                    .into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

fn generate_secret_file(path: &Path) -> anyhow::Result<()> {
    use rand::distr::{Alphanumeric, SampleString as _};
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            CliError::new(Outcome::Failed, format!("cannot create {}: {e}", parent.display()))
        })?;
        std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700))?;
    }
    let password = Alphanumeric.sample_string(&mut rand::rng(), 32);
    let mut f =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(
            |e| CliError::new(Outcome::Failed, format!("cannot create {}: {e}", path.display())),
        )?;
    f.write_all(format!("{password}\n").as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// Refuses, before any change, a config that asks FerretDB for roles.
async fn refuse_roles_on_ferretdb(client: &mongodb::Client, cfg: &Config) -> anyhow::Result<()> {
    let Some(version) = server::ferretdb_version(client).await else { return Ok(()) };
    let wanted: Vec<String> = cfg
        .users
        .iter()
        .filter(|u| !u.roles.is_empty())
        .map(|u| {
            let roles: Vec<String> = u.roles.iter().map(role_name).collect();
            format!("{} ({})", u.name, roles.join(", "))
        })
        .chain(cfg.roles.iter().map(|r| format!("custom role {}@{}", r.role, r.db)))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    Err(CliError::new(
        Outcome::Failed,
        format!(
            "the server is FerretDB {version}, which does not implement user roles; the config asks for {}",
            wanted.join("; ")
        ),
    )
    .with_hint(server::FERRETDB_ROLES_HINT)
    .into())
}

/// Every configured role and user against the server.
pub struct Planned {
    pub roles: Vec<RolePlan>,
    pub users: Vec<UserPlan>,
}

async fn plan_all(
    client: &mongodb::Client,
    cfg: &Config,
    passwords: &[Option<SecretString>],
    policy: PasswordPolicy,
    check_password: bool,
) -> anyhow::Result<Planned> {
    let mut role_plans = Vec::new();
    let mut dbs: Vec<&str> = cfg.roles.iter().map(|r| r.db.as_str()).collect();
    dbs.sort_unstable();
    dbs.dedup();
    for db in dbs {
        let live = server::fetch_roles(client, db).await?;
        for spec in cfg.roles.iter().filter(|r| r.db == db) {
            let found = live.iter().find(|l| l.role == spec.role && l.db == spec.db);
            role_plans.push(super::plan_role(spec, found));
        }
    }
    let mut user_plans = Vec::new();
    for (spec, pw) in cfg.users.iter().zip(passwords) {
        let live = server::fetch_user(client, spec).await?;
        user_plans.push(super::plan_user(spec, live.as_ref(), pw.as_ref(), policy, check_password));
    }
    Ok(Planned { roles: role_plans, users: user_plans })
}
