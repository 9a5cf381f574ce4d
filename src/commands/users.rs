//! `users provision|check|list`: the config's `users:` and `roles:` made real on the server,
//! idempotently, over the admin connection (`mongodb.admin`).
//!
//! Every secrets file is read before anything changes, so a missing one stops the run with
//! nothing half-done. Custom roles are provisioned before users, which may name them. Users
//! and roles the config does not list are left alone (and not reported as drift): the server
//! has its own admin accounts.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use secrecy::SecretString;
use serde::Serialize;

use crate::cli::{UsersCommand, UsersProvisionArgs};
use crate::config::{Config, ConfigError, SecretFile, UserSpec, env_vars::ProcessEnv};
use crate::context::Context;
use crate::mongo::{self, Access, Role};
use crate::outcome::CliError;
use crate::outcome::Outcome;
use crate::users::{
    self, Action, PasswordCheck, PasswordPolicy, RolePlan, UserPlan, role_name, server,
};

pub async fn run(ctx: &Context, cmd: &UsersCommand) -> anyhow::Result<Outcome> {
    match cmd {
        UsersCommand::Provision(args) => provision(ctx, args).await,
        UsersCommand::Check => check(ctx).await,
        UsersCommand::List => list(ctx).await,
    }
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
    ctx: &Context,
) -> anyhow::Result<Vec<Option<SecretString>>> {
    let mut out = Vec::new();
    for (i, u) in cfg.users.iter().enumerate() {
        let file = password_file(i, u)?;
        if generate && !file.path().exists() {
            if dry_run {
                ctx.out.line(format!(
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

#[derive(Serialize)]
/// One user or role that differs from the config (`users check`).
struct Difference<'a> {
    kind: &'static str,
    name: String,
    differences: &'a [String],
}

#[derive(Serialize)]
/// A line of `users list`.
struct Row {
    user: String,
    db: String,
    roles: Vec<String>,
    mechanisms: Vec<String>,
    in_config: bool,
}

/// The JSON summary of `users provision` and `users check` (docs/cli.md).
#[derive(Debug, Serialize)]
struct PlanSummary<'a> {
    /// provision only.
    #[serde(skip_serializing_if = "Option::is_none")]
    dry_run: Option<bool>,
    /// provision only.
    #[serde(skip_serializing_if = "Option::is_none")]
    update_passwords: Option<PasswordPolicy>,
    roles: &'a [crate::users::RolePlan],
    users: &'a [crate::users::UserPlan],
    /// check only: how many users and roles differ from the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    drift: Option<usize>,
}

/// The JSON summary of `users list` (docs/cli.md).
#[derive(Serialize)]
struct ListSummary {
    users: Vec<Row>,
}

struct Planned {
    roles: Vec<RolePlan>,
    users: Vec<UserPlan>,
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
            role_plans.push(users::plan_role(spec, found));
        }
    }
    let mut user_plans = Vec::new();
    for (spec, pw) in cfg.users.iter().zip(passwords) {
        let live = server::fetch_user(client, spec).await?;
        user_plans.push(users::plan_user(spec, live.as_ref(), pw.as_ref(), policy, check_password));
    }
    Ok(Planned { roles: role_plans, users: user_plans })
}

fn describe(changes: &[String]) -> String {
    if changes.is_empty() { String::new() } else { format!(" ({})", changes.join("; ")) }
}

fn password_note(p: &PasswordCheck) -> Option<String> {
    match p {
        PasswordCheck::Unknown(why) => Some(format!("password: unknown ({why})")),
        _ => None,
    }
}

async fn provision(ctx: &Context, args: &UsersProvisionArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    if cfg.users.is_empty() && cfg.roles.is_empty() {
        return Err(CliError::usage("the config has no users: and no roles: to provision")
            .with_hint("see config/daraa-ops.example.yaml")
            .into());
    }
    let passwords = load_passwords(cfg, args.generate_missing, args.dry_run, ctx)?;
    let mongo = mongo::connect(&cfg.mongodb, Role::Admin, Access::ReadWrite).await?;
    let client = &mongo.client;
    refuse_roles_on_ferretdb(client, cfg).await?;
    let plan = plan_all(client, cfg, &passwords, args.update_passwords.into(), false).await?;

    let verb =
        |a: Action| if args.dry_run { format!("would be {}", a.past()) } else { a.past().into() };
    for (spec, p) in cfg.roles.iter().zip(&plan.roles) {
        crate::signal::check(&ctx.cancel)?;
        if !args.dry_run {
            server::apply_role(client, spec, p).await?;
        }
        ctx.out.line(format!(
            "role {}@{}: {}{}",
            p.role,
            p.db,
            verb(p.action),
            describe(&p.changes)
        ));
    }
    let mut unfixable = Vec::new();
    for ((spec, p), pw) in cfg.users.iter().zip(&plan.users).zip(&passwords) {
        crate::signal::check(&ctx.cancel)?;
        if !args.dry_run {
            server::apply_user(client, spec, p, pw.as_ref()).await?;
        }
        let note = password_note(&p.password).map(|n| format!("; {n}")).unwrap_or_default();
        ctx.out.line(format!(
            "user {}@{}: {}{}{note}",
            p.user,
            p.db,
            verb(p.action),
            describe(&p.changes)
        ));
        if let Some(u) = &p.unfixable {
            tracing::warn!("{u}");
            unfixable.push(u.clone());
        }
    }
    let count = |a: Action| plan.users.iter().filter(|p| p.action == a).count();
    ctx.out.summary(&PlanSummary {
        dry_run: Some(args.dry_run),
        update_passwords: Some(args.update_passwords.into()),
        roles: &plan.roles,
        users: &plan.users,
        drift: None,
    });
    ctx.out.line(format!(
        "{} {} created, {} updated, {} unchanged",
        if args.dry_run { "plan:" } else { "users:" },
        count(Action::Create),
        count(Action::Update),
        count(Action::Unchanged)
    ));
    if unfixable.is_empty() { Ok(Outcome::Ok) } else { Ok(Outcome::Partial) }
}

async fn check(ctx: &Context) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    if cfg.users.is_empty() && cfg.roles.is_empty() {
        return Err(CliError::usage("the config has no users: and no roles: to check")
            .with_hint("see config/daraa-ops.example.yaml")
            .into());
    }
    let passwords = load_passwords(cfg, false, true, ctx)?;
    let mongo = mongo::connect(&cfg.mongodb, Role::Admin, Access::ReadOnly).await?;
    let plan = plan_all(&mongo.client, cfg, &passwords, PasswordPolicy::OnCreate, true).await?;

    let mut diffs = Vec::new();
    for p in &plan.roles {
        if !p.changes.is_empty() {
            diffs.push(Difference {
                kind: "role",
                name: format!("{}@{}", p.role, p.db),
                differences: &p.changes,
            });
        }
    }
    for p in &plan.users {
        if !p.changes.is_empty() {
            diffs.push(Difference {
                kind: "user",
                name: format!("{}@{}", p.user, p.db),
                differences: &p.changes,
            });
        }
        if let Some(n) = password_note(&p.password) {
            ctx.out.line(format!("user {}@{}: {n}", p.user, p.db));
        }
    }
    for d in &diffs {
        ctx.out.line(format!("{} {}: {}", d.kind, d.name, d.differences.join("; ")));
    }
    ctx.out.summary(&PlanSummary {
        dry_run: None,
        update_passwords: None,
        roles: &plan.roles,
        users: &plan.users,
        drift: Some(diffs.len()),
    });
    if diffs.is_empty() {
        ctx.out.line(format!(
            "{} user(s) and {} role(s) match the config",
            plan.users.len(),
            plan.roles.len()
        ));
        Ok(Outcome::Ok)
    } else {
        ctx.out.line(format!("{} difference(s) from the config", diffs.len()));
        Ok(Outcome::Drift)
    }
}

async fn list(ctx: &Context) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let mongo = mongo::connect(&cfg.mongodb, Role::Admin, Access::ReadOnly).await?;
    let mut live = server::list_all(&mongo.client).await?;
    live.sort_by(|a, b| (&a.db, &a.name).cmp(&(&b.db, &b.name)));

    let rows: Vec<Row> = live
        .into_iter()
        .map(|u| Row {
            in_config: cfg.users.iter().any(|c| c.name == u.name && c.db == u.db),
            roles: u.roles.iter().map(role_name).collect(),
            mechanisms: u.mechanisms.into_iter().collect(),
            user: u.name,
            db: u.db,
        })
        .collect();
    if !ctx.out.is_json() {
        let mut t = Table::new();
        t.load_preset(UTF8_BORDERS_ONLY);
        t.set_header(["USER", "AUTH DB", "ROLES", "MECHANISMS", "IN CONFIG"]);
        for r in &rows {
            t.add_row([
                r.user.clone(),
                r.db.clone(),
                if r.roles.is_empty() { "-".into() } else { r.roles.join(", ") },
                r.mechanisms.join(", "),
                if r.in_config { "yes".into() } else { "no".into() },
            ]);
        }
        ctx.out.line(t);
    }
    ctx.out.summary(&ListSummary { users: rows });
    Ok(Outcome::Ok)
}
