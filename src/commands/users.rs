//! `users provision|check|list`: the users engine (src/users/job.rs) and its report.

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use serde::Serialize;

use crate::cli::{UsersCommand, UsersProvisionArgs};
use crate::context::Context;
use crate::error::Outcome;
use crate::mongo::{self, Access, Role};
use crate::users::{Action, PasswordPolicy, job, role_name, server};

pub async fn run(ctx: &Context, cmd: &UsersCommand) -> anyhow::Result<Outcome> {
    match cmd {
        UsersCommand::Provision(args) => provision(ctx, args).await,
        UsersCommand::Check => check(ctx).await,
        UsersCommand::List => list(ctx).await,
    }
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

async fn provision(ctx: &Context, args: &UsersProvisionArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let req = job::Provision {
        generate_missing: args.generate_missing,
        dry_run: args.dry_run,
        update_passwords: args.update_passwords.into(),
    };
    let say = |line: String| ctx.out.line(line);
    let plan = job::provision(cfg, req, &ctx.cancel, &say).await?;
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
    let unfixable = plan.users.iter().any(|p| p.unfixable.is_some());
    Ok(if unfixable { Outcome::Partial } else { Outcome::Ok })
}

async fn check(ctx: &Context) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let plan = job::check(cfg).await?;
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
        if let Some(n) = p.password.note() {
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
