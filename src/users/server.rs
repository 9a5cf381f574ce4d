//! Reading users and roles from the server and carrying a plan out.
//!
//! Every command here runs on the admin connection. Passwords go into `createUser`/`updateUser`
//! only; error texts are built from the server's error code and message, which never echo them.

use bson::{Bson, Document, doc};
use mongodb::Client;
use mongodb::error::ErrorKind as DriverErrorKind;
use secrecy::{ExposeSecret as _, SecretString};

use super::{LiveRole, LiveUser, RolePlan, UserPlan, parse_roles_info, parse_users_info};
use crate::config::{RoleSpec, UserSpec};
use crate::error::{CliError, Outcome};

/// MongoDB's `NotImplemented` and `CommandNotFound` codes: what FerretDB answers for roles.
const NOT_IMPLEMENTED: i32 = 238;
const COMMAND_NOT_FOUND: i32 = 59;

/// The one limitation this module knows servers by: FerretDB 1.x has no roles.
pub const FERRETDB_ROLES_HINT: &str = "FerretDB (v1.24) implements createUser, updateUser and usersInfo but refuses any non-empty `roles` and has no createRole/rolesInfo; provision role-less users there (remove `roles` from users and the `roles:` section), or run against MongoDB";

/// The server's FerretDB version, when it is FerretDB.
pub async fn ferretdb_version(client: &Client) -> Option<String> {
    let info = crate::mongo::build_info(client).await.ok()?;
    info.get_str("ferretdbVersion").ok().map(str::to_owned)
}

fn server_error(e: &mongodb::error::Error, what: &str) -> anyhow::Error {
    match e.kind.as_ref() {
        DriverErrorKind::Command(c) if c.code == NOT_IMPLEMENTED || c.code == COMMAND_NOT_FOUND => {
            CliError::new(
                Outcome::Failed,
                format!("{what}: the server does not implement it ({})", c.message),
            )
            .with_hint(FERRETDB_ROLES_HINT)
            .into()
        }
        DriverErrorKind::Command(c) => CliError::new(
            Outcome::Failed,
            format!("{what}: the server refused ({} {}: {})", c.code, c.code_name, c.message),
        )
        .into(),
        _ => anyhow::Error::new(e.clone()).context(what.to_owned()),
    }
}

/// The user with its credentials, or `None` when it does not exist.
pub async fn fetch_user(client: &Client, spec: &UserSpec) -> anyhow::Result<Option<LiveUser>> {
    let reply = client
        .database(&spec.db)
        .run_command(doc! {
            "usersInfo": {"user": &spec.name, "db": &spec.db},
            "showCredentials": true,
        })
        .await
        .map_err(|e| server_error(&e, &format!("usersInfo for {}@{}", spec.name, spec.db)))?;
    Ok(parse_users_info(&reply)?.into_iter().find(|u| u.name == spec.name && u.db == spec.db))
}

/// Every user of every database (`usersInfo: {forAllDBs: true}`).
pub async fn list_all(client: &Client) -> anyhow::Result<Vec<LiveUser>> {
    let reply = client
        .database("admin")
        .run_command(doc! {"usersInfo": {"forAllDBs": true}})
        .await
        .map_err(|e| server_error(&e, "usersInfo (forAllDBs)"))?;
    parse_users_info(&reply)
}

/// The custom roles of one database.
pub async fn fetch_roles(client: &Client, db: &str) -> anyhow::Result<Vec<LiveRole>> {
    let reply = client
        .database(db)
        .run_command(doc! {"rolesInfo": 1, "showPrivileges": true, "showBuiltinRoles": false})
        .await
        .map_err(|e| server_error(&e, &format!("rolesInfo on database {db}")))?;
    Ok(parse_roles_info(&reply))
}

pub async fn apply_role(client: &Client, spec: &RoleSpec, plan: &RolePlan) -> anyhow::Result<()> {
    let privileges: Vec<Bson> = super::privileges_bson(spec);
    let roles: Vec<Bson> = super::roles_bson(&spec.roles);
    let (command, what) = match plan.action {
        super::Action::Unchanged => return Ok(()),
        super::Action::Create => (
            doc! {"createRole": &spec.role, "privileges": privileges, "roles": roles},
            format!("createRole {}@{}", spec.role, spec.db),
        ),
        super::Action::Update => (
            doc! {"updateRole": &spec.role, "privileges": privileges, "roles": roles},
            format!("updateRole {}@{}", spec.role, spec.db),
        ),
    };
    client.database(&spec.db).run_command(command).await.map_err(|e| server_error(&e, &what))?;
    Ok(())
}

pub async fn apply_user(
    client: &Client,
    spec: &UserSpec,
    plan: &UserPlan,
    password: Option<&SecretString>,
) -> anyhow::Result<()> {
    let mut command = Document::new();
    let what = match plan.action {
        super::Action::Unchanged => return Ok(()),
        super::Action::Create => {
            command.insert("createUser", &spec.name);
            format!("createUser {}@{}", spec.name, spec.db)
        }
        super::Action::Update => {
            command.insert("updateUser", &spec.name);
            format!("updateUser {}@{}", spec.name, spec.db)
        }
    };
    if plan.set_password {
        let pw = password.ok_or_else(|| anyhow::anyhow!("{what}: no password loaded"))?;
        command.insert("pwd", pw.expose_secret());
    }
    if plan.set_roles {
        command.insert("roles", super::roles_bson(&spec.roles));
    }
    if plan.set_mechanisms {
        let mechs: Vec<Bson> = spec.mechanisms.iter().map(|m| Bson::String(m.clone())).collect();
        command.insert("mechanisms", mechs);
    }
    client.database(&spec.db).run_command(command).await.map_err(|e| server_error(&e, &what))?;
    Ok(())
}
