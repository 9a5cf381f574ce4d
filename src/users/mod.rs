//! User and role provisioning: what the config wants, what the server has, and the plan that
//! turns one into the other.
//!
//! The plan is pure (unit-tested on MongoDB 7 `usersInfo`/`rolesInfo` replies written as fixtures from its documentation);
//! `server.rs` reads the live state and carries the plan out; `scram.rs` checks a password
//! against stored SCRAM-SHA-256 credentials without sending it anywhere.

pub mod job;
pub mod scram;
pub mod server;

use std::collections::BTreeSet;

use bson::{Bson, Document};
use secrecy::SecretString;
use serde::Serialize;

use crate::config::{Privilege, RoleRef, RoleSpec, UserSpec};

/// When `users provision` sets passwords of users that exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PasswordPolicy {
    /// Only when the user is created.
    OnCreate,
    /// On every run.
    Always,
    /// When the stored SCRAM-SHA-256 credentials do not match the secrets file.
    IfDrift,
}

/// A user as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveUser {
    pub name: String,
    pub db: String,
    pub roles: BTreeSet<RoleRef>,
    pub mechanisms: BTreeSet<String>,
    pub scram_sha256: Option<scram::StoredCredentials>,
}

/// A custom role as the server reports it, normalised for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRole {
    pub role: String,
    pub db: String,
    pub privileges: BTreeSet<NormalPrivilege>,
    pub roles: BTreeSet<RoleRef>,
}

/// A privilege with its actions sorted, so two spellings of the same grant compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NormalPrivilege {
    pub db: Option<String>,
    pub collection: Option<String>,
    pub cluster: bool,
    pub actions: BTreeSet<String>,
}

impl NormalPrivilege {
    pub fn from_spec(p: &Privilege) -> Self {
        Self::new(
            p.resource.db.clone(),
            p.resource.collection.clone(),
            p.resource.cluster,
            p.actions.iter().cloned().collect(),
        )
    }

    /// A cluster resource has no db or collection; any other resource has both, `""` meaning
    /// "all" (the server's own spelling), so `{db: daraa}` equals `{db: daraa, collection: ""}`.
    pub fn new(
        db: Option<String>,
        collection: Option<String>,
        cluster: bool,
        actions: BTreeSet<String>,
    ) -> Self {
        if cluster {
            NormalPrivilege { db: None, collection: None, cluster, actions }
        } else {
            NormalPrivilege {
                db: Some(db.unwrap_or_default()),
                collection: Some(collection.unwrap_or_default()),
                cluster,
                actions,
            }
        }
    }

    fn describe(&self) -> String {
        let resource = if self.cluster {
            "cluster".to_owned()
        } else {
            format!(
                "{}.{}",
                self.db.as_deref().filter(|d| !d.is_empty()).unwrap_or("*"),
                self.collection.as_deref().filter(|c| !c.is_empty()).unwrap_or("*")
            )
        };
        let actions: Vec<&str> = self.actions.iter().map(String::as_str).collect();
        format!("{resource}:[{}]", actions.join(","))
    }
}

/// What happens (or, for `users check`, what differs) for one user or role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Unchanged,
}

impl Action {
    pub fn past(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Unchanged => "unchanged",
        }
    }
}

/// The result of comparing a secrets file with stored credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PasswordCheck {
    /// Not compared (policy `on-create`, or a user about to be created).
    NotChecked,
    Matches,
    Differs,
    /// The server did not return SCRAM-SHA-256 credentials (or the password needs SASLprep
    /// rules this tool does not implement); the reason is given.
    Unknown(String),
}

impl PasswordCheck {
    /// What a report line says about the password, when there is something to say.
    pub fn note(&self) -> Option<String> {
        match self {
            PasswordCheck::Unknown(why) => Some(format!("password: unknown ({why})")),
            _ => None,
        }
    }
}

/// The plan for one user.
#[derive(Debug, Clone, Serialize)]
pub struct UserPlan {
    pub user: String,
    pub db: String,
    pub action: Action,
    /// One entry per difference, e.g. `roles: +read@daraa -readWrite@daraa`.
    pub changes: Vec<String>,
    pub password: PasswordCheck,
    /// Set the password from the secrets file in this step.
    #[serde(skip)]
    pub set_password: bool,
    /// Send `mechanisms` (the config's) in this step.
    #[serde(skip)]
    pub set_mechanisms: bool,
    #[serde(skip)]
    pub set_roles: bool,
    /// A difference this run cannot fix, with the way to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unfixable: Option<String>,
}

/// The plan for one custom role.
#[derive(Debug, Clone, Serialize)]
pub struct RolePlan {
    pub role: String,
    pub db: String,
    pub action: Action,
    pub changes: Vec<String>,
}

pub fn role_name(r: &RoleRef) -> String {
    format!("{}@{}", r.role, r.db)
}

fn role_diff(want: &BTreeSet<RoleRef>, have: &BTreeSet<RoleRef>) -> Option<String> {
    if want == have {
        return None;
    }
    let mut parts: Vec<String> =
        want.difference(have).map(|r| format!("+{}", role_name(r))).collect();
    parts.extend(have.difference(want).map(|r| format!("-{}", role_name(r))));
    Some(format!("roles: {}", parts.join(" ")))
}

fn set_text(s: &BTreeSet<String>) -> String {
    s.iter().map(String::as_str).collect::<Vec<_>>().join(",")
}

/// Compares one configured user with the server's view of it.
///
/// `password` is the secrets file's content when it is needed: for creation, for `always`,
/// and for comparisons (`if-drift`, `users check`). `check_password` asks for the comparison
/// even when the policy would not set anything (`users check`).
pub fn plan_user(
    spec: &UserSpec,
    live: Option<&LiveUser>,
    password: Option<&SecretString>,
    policy: PasswordPolicy,
    check_password: bool,
) -> UserPlan {
    let want_roles: BTreeSet<RoleRef> = spec.roles.iter().cloned().collect();
    let want_mechs: BTreeSet<String> = spec.mechanisms.iter().cloned().collect();
    let mut plan = UserPlan {
        user: spec.name.clone(),
        db: spec.db.clone(),
        action: Action::Unchanged,
        changes: Vec::new(),
        password: PasswordCheck::NotChecked,
        set_password: false,
        set_mechanisms: false,
        set_roles: false,
        unfixable: None,
    };
    let Some(live) = live else {
        plan.action = Action::Create;
        plan.changes.push("missing".into());
        plan.set_password = true;
        plan.set_mechanisms = true;
        plan.set_roles = true;
        return plan;
    };
    if let Some(d) = role_diff(&want_roles, &live.roles) {
        plan.changes.push(d);
        plan.set_roles = true;
    }
    if policy == PasswordPolicy::IfDrift || check_password {
        plan.password = match (password, &live.scram_sha256) {
            (Some(pw), Some(stored)) => scram::check(pw, stored),
            (None, _) => PasswordCheck::Unknown("no password to compare".into()),
            (_, None) => PasswordCheck::Unknown(
                "the server returned no SCRAM-SHA-256 credentials (usersInfo showCredentials)"
                    .into(),
            ),
        };
    }
    match policy {
        PasswordPolicy::Always => {
            plan.set_password = true;
            plan.changes.push("password: set from secrets file".into());
        }
        PasswordPolicy::IfDrift if plan.password == PasswordCheck::Differs => {
            plan.set_password = true;
            plan.changes.push("password: differs from secrets file".into());
        }
        _ if plan.password == PasswordCheck::Differs => {
            plan.changes.push("password: differs from secrets file".into());
        }
        _ => {}
    }
    if want_mechs != live.mechanisms {
        plan.changes.push(format!(
            "mechanisms: {} -> {}",
            set_text(&live.mechanisms),
            set_text(&want_mechs)
        ));
        // Dropping mechanisms needs no password; adding one makes the server derive new
        // credentials, which needs it.
        if want_mechs.is_subset(&live.mechanisms) || plan.set_password {
            plan.set_mechanisms = true;
        } else {
            plan.unfixable = Some(format!(
                "user {}: adding mechanism(s) {} needs the password; rerun with --update-passwords always",
                spec.name,
                set_text(&want_mechs.difference(&live.mechanisms).cloned().collect())
            ));
        }
    }
    // Whenever the password is set, the mechanisms go with it: without them FerretDB derives
    // SCRAM-SHA-1 credentials too.
    if plan.set_password {
        plan.set_mechanisms = true;
    }
    if plan.set_password || plan.set_roles || plan.set_mechanisms {
        plan.action = Action::Update;
    } else if !plan.changes.is_empty() {
        // Differences this run leaves (password under on-create, unfixable mechanisms).
        plan.action = Action::Unchanged;
    }
    plan
}

pub fn plan_role(spec: &RoleSpec, live: Option<&LiveRole>) -> RolePlan {
    let want_privs: BTreeSet<NormalPrivilege> =
        spec.privileges.iter().map(NormalPrivilege::from_spec).collect();
    let want_roles: BTreeSet<RoleRef> = spec.roles.iter().cloned().collect();
    let mut plan = RolePlan {
        role: spec.role.clone(),
        db: spec.db.clone(),
        action: Action::Unchanged,
        changes: Vec::new(),
    };
    let Some(live) = live else {
        plan.action = Action::Create;
        plan.changes.push("missing".into());
        return plan;
    };
    if want_privs != live.privileges {
        let mut parts: Vec<String> =
            want_privs.difference(&live.privileges).map(|p| format!("+{}", p.describe())).collect();
        parts.extend(live.privileges.difference(&want_privs).map(|p| format!("-{}", p.describe())));
        plan.changes.push(format!("privileges: {}", parts.join(" ")));
    }
    if let Some(d) = role_diff(&want_roles, &live.roles) {
        plan.changes.push(d);
    }
    if !plan.changes.is_empty() {
        plan.action = Action::Update;
    }
    plan
}

/// Parses the `users` array of a `usersInfo` reply.
pub fn parse_users_info(reply: &Document) -> anyhow::Result<Vec<LiveUser>> {
    let mut out = Vec::new();
    let Ok(users) = reply.get_array("users") else { return Ok(out) };
    for u in users {
        let Some(u) = u.as_document() else { continue };
        let name =
            u.get_str("user").map_err(|_| anyhow::anyhow!("usersInfo: user without name"))?;
        let db = u.get_str("db").unwrap_or("admin");
        let roles = parse_role_refs(u.get_array("roles").ok());
        let mechanisms = u
            .get_array("mechanisms")
            .map(|a| a.iter().filter_map(|m| m.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let scram_sha256 = u
            .get_document("credentials")
            .ok()
            .and_then(|c| c.get_document("SCRAM-SHA-256").ok())
            .and_then(scram::StoredCredentials::from_doc);
        out.push(LiveUser { name: name.into(), db: db.into(), roles, mechanisms, scram_sha256 });
    }
    Ok(out)
}

fn parse_role_refs(roles: Option<&Vec<Bson>>) -> BTreeSet<RoleRef> {
    roles
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let r = r.as_document()?;
            Some(RoleRef { role: r.get_str("role").ok()?.into(), db: r.get_str("db").ok()?.into() })
        })
        .collect()
}

/// Parses the `roles` array of a `rolesInfo` reply (with `showPrivileges`).
pub fn parse_roles_info(reply: &Document) -> Vec<LiveRole> {
    let Ok(roles) = reply.get_array("roles") else { return Vec::new() };
    roles
        .iter()
        .filter_map(Bson::as_document)
        .filter(|r| !r.get_bool("isBuiltin").unwrap_or(false))
        .filter_map(|r| {
            let privileges = r
                .get_array("privileges")
                .into_iter()
                .flatten()
                .filter_map(Bson::as_document)
                .map(|p| {
                    let res = p.get_document("resource").ok();
                    NormalPrivilege::new(
                        res.and_then(|r| r.get_str("db").ok()).map(str::to_owned),
                        res.and_then(|r| r.get_str("collection").ok()).map(str::to_owned),
                        res.and_then(|r| r.get_bool("cluster").ok()).unwrap_or(false),
                        p.get_array("actions")
                            .into_iter()
                            .flatten()
                            .filter_map(|a| a.as_str().map(str::to_owned))
                            .collect(),
                    )
                })
                .collect();
            Some(LiveRole {
                role: r.get_str("role").ok()?.into(),
                db: r.get_str("db").ok()?.into(),
                privileges,
                roles: parse_role_refs(r.get_array("roles").ok()),
            })
        })
        .collect()
}

/// The BSON a `createRole`/`updateRole` sends for a role's privileges.
pub fn privileges_bson(spec: &RoleSpec) -> Vec<Bson> {
    spec.privileges
        .iter()
        .map(|p| {
            let mut resource = Document::new();
            if p.resource.cluster {
                resource.insert("cluster", true);
            } else {
                resource.insert("db", p.resource.db.clone().unwrap_or_default());
                resource.insert("collection", p.resource.collection.clone().unwrap_or_default());
            }
            let actions: Vec<Bson> = p.actions.iter().map(|a| Bson::String(a.clone())).collect();
            Bson::Document(bson::doc! {"resource": resource, "actions": actions})
        })
        .collect()
}

pub fn roles_bson(roles: &[RoleRef]) -> Vec<Bson> {
    roles.iter().map(|r| Bson::Document(bson::doc! {"role": &r.role, "db": &r.db})).collect()
}

#[cfg(test)]
mod tests;
