//! The provisioning plan on MongoDB 7-shaped `usersInfo`/`rolesInfo` replies
//! (tests/fixtures/mongodb7), where roles and custom roles exist: FerretDB has neither.

use super::*;
use crate::config::{Privilege, Resource};

fn fixture(name: &str) -> Document {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mongodb7").join(name);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    match Bson::try_from(v).unwrap() {
        Bson::Document(d) => d,
        other => panic!("{other:?}"),
    }
}

fn live_users() -> Vec<LiveUser> {
    parse_users_info(&fixture("usersInfo.showCredentials.json")).unwrap()
}

fn live(name: &str) -> LiveUser {
    live_users().into_iter().find(|u| u.name == name).unwrap()
}

fn rr(role: &str, db: &str) -> RoleRef {
    RoleRef { role: role.into(), db: db.into() }
}

fn user(name: &str, roles: &[RoleRef], mechs: &[&str]) -> UserSpec {
    UserSpec {
        name: name.into(),
        db: "admin".into(),
        roles: roles.to_vec(),
        password_file: None,
        password_file_env: None,
        mechanisms: mechs.iter().map(|m| (*m).to_owned()).collect(),
    }
}

const BOTH: &[&str] = &["SCRAM-SHA-1", "SCRAM-SHA-256"];

fn pw(s: &str) -> SecretString {
    SecretString::from(s)
}

#[test]
fn parses_users_roles_mechanisms_and_credentials() {
    let users = live_users();
    assert_eq!(users.len(), 3);
    let app = live("daraa_app");
    assert_eq!(app.db, "admin");
    assert_eq!(app.roles.iter().cloned().collect::<Vec<_>>(), vec![rr("readWrite", "daraa")]);
    assert_eq!(app.mechanisms.len(), 2);
    let c = app.scram_sha256.unwrap();
    assert_eq!((c.iteration_count, c.salt.len()), (15000, 28));
}

#[test]
fn matching_user_is_unchanged() {
    let spec = user("daraa_app", &[rr("readWrite", "daraa")], BOTH);
    let p = plan_user(&spec, Some(&live("daraa_app")), None, PasswordPolicy::OnCreate, false);
    assert_eq!(p.action, Action::Unchanged);
    assert!(p.changes.is_empty(), "{:?}", p.changes);
    assert_eq!(p.password, PasswordCheck::NotChecked);
}

#[test]
fn missing_user_is_created_with_roles_password_and_mechanisms() {
    let spec = user("daraa_new", &[rr("read", "daraa")], &["SCRAM-SHA-256"]);
    let p = plan_user(&spec, None, Some(&pw("x")), PasswordPolicy::OnCreate, false);
    assert_eq!(p.action, Action::Create);
    assert!(p.set_password && p.set_roles && p.set_mechanisms);
}

#[test]
fn role_drift_names_added_and_removed_roles() {
    // The config gives daraa_backup `restore` too, and daraa_readonly `read` on another db.
    let spec = user("daraa_backup", &[rr("backup", "admin"), rr("restore", "admin")], BOTH);
    let p = plan_user(&spec, Some(&live("daraa_backup")), None, PasswordPolicy::OnCreate, false);
    assert_eq!(p.action, Action::Update);
    assert_eq!(p.changes, vec!["roles: +restore@admin".to_owned()]);
    assert!(p.set_roles && !p.set_password);

    let spec = user("daraa_readonly", &[rr("read", "daraa_archive")], BOTH);
    let p = plan_user(&spec, Some(&live("daraa_readonly")), None, PasswordPolicy::OnCreate, false);
    assert_eq!(p.changes, vec!["roles: +read@daraa_archive -read@daraa".to_owned()]);
}

#[test]
fn if_drift_compares_with_stored_scram_sha256() {
    let spec = user("daraa_app", &[rr("readWrite", "daraa")], BOTH);
    let l = live("daraa_app");
    let same = plan_user(
        &spec,
        Some(&l),
        Some(&pw("fixture-app-password")),
        PasswordPolicy::IfDrift,
        false,
    );
    assert_eq!(same.password, PasswordCheck::Matches);
    assert_eq!(same.action, Action::Unchanged);
    let rotated = plan_user(&spec, Some(&l), Some(&pw("rotated")), PasswordPolicy::IfDrift, false);
    assert_eq!(rotated.password, PasswordCheck::Differs);
    assert_eq!(rotated.action, Action::Update);
    assert!(rotated.set_password && rotated.set_mechanisms && !rotated.set_roles);
}

#[test]
fn if_drift_without_credentials_is_unknown_and_changes_nothing() {
    let spec = user("daraa_app", &[rr("readWrite", "daraa")], BOTH);
    let mut l = live("daraa_app");
    l.scram_sha256 = None;
    let p = plan_user(&spec, Some(&l), Some(&pw("whatever")), PasswordPolicy::IfDrift, false);
    assert!(matches!(p.password, PasswordCheck::Unknown(_)));
    assert_eq!(p.action, Action::Unchanged);
}

#[test]
fn check_reports_password_drift_even_under_on_create() {
    let spec = user("daraa_app", &[rr("readWrite", "daraa")], BOTH);
    let p = plan_user(
        &spec,
        Some(&live("daraa_app")),
        Some(&pw("rotated")),
        PasswordPolicy::OnCreate,
        true,
    );
    assert_eq!(p.password, PasswordCheck::Differs);
    assert_eq!(p.changes, vec!["password: differs from secrets file".to_owned()]);
    assert!(!p.set_password);
}

#[test]
fn always_sets_the_password_with_the_mechanisms() {
    let spec = user("daraa_app", &[rr("readWrite", "daraa")], BOTH);
    let p =
        plan_user(&spec, Some(&live("daraa_app")), Some(&pw("x")), PasswordPolicy::Always, false);
    assert_eq!(p.action, Action::Update);
    assert!(p.set_password && p.set_mechanisms);
}

#[test]
fn dropping_a_mechanism_needs_no_password_adding_one_does() {
    let spec = user("daraa_app", &[rr("readWrite", "daraa")], &["SCRAM-SHA-256"]);
    let p = plan_user(&spec, Some(&live("daraa_app")), None, PasswordPolicy::OnCreate, false);
    assert_eq!(p.action, Action::Update);
    assert!(p.set_mechanisms && !p.set_password);
    assert!(p.unfixable.is_none());

    let mut l = live("daraa_app");
    l.mechanisms = ["SCRAM-SHA-256".to_owned()].into();
    let spec = user("daraa_app", &[rr("readWrite", "daraa")], BOTH);
    let p = plan_user(&spec, Some(&l), None, PasswordPolicy::OnCreate, false);
    assert_eq!(p.action, Action::Unchanged);
    assert!(p.unfixable.as_deref().unwrap().contains("--update-passwords always"));
}

fn reporting(privileges: Vec<Privilege>, roles: Vec<RoleRef>) -> RoleSpec {
    RoleSpec { role: "reporting".into(), db: "daraa".into(), privileges, roles }
}

fn privilege(db: Option<&str>, coll: Option<&str>, actions: &[&str]) -> Privilege {
    Privilege {
        resource: Resource {
            db: db.map(str::to_owned),
            collection: coll.map(str::to_owned),
            cluster: false,
        },
        actions: actions.iter().map(|a| (*a).to_owned()).collect(),
    }
}

#[test]
fn custom_roles_compare_privileges_as_sets() {
    let live_roles = parse_roles_info(&fixture("rolesInfo.showPrivileges.json"));
    assert_eq!(live_roles.len(), 2);
    let reporting_live = live_roles.iter().find(|r| r.role == "reporting").unwrap();
    // Same grants, other order, and `{db: daraa}` for the server's `collection: ""`.
    let same = reporting(
        vec![
            privilege(Some("daraa"), None, &["dbStats", "collStats"]),
            privilege(Some("daraa"), Some("orders"), &["listIndexes", "find"]),
        ],
        vec![rr("read", "daraa")],
    );
    let p = plan_role(&same, Some(reporting_live));
    assert_eq!(p.action, Action::Unchanged, "{:?}", p.changes);

    let drifted = reporting(
        vec![privilege(Some("daraa"), Some("orders"), &["find"])],
        vec![rr("read", "daraa")],
    );
    let p = plan_role(&drifted, Some(reporting_live));
    assert_eq!(p.action, Action::Update);
    assert_eq!(p.changes.len(), 1);
    assert!(p.changes[0].starts_with("privileges: +daraa.orders:[find] -"), "{}", p.changes[0]);

    let p = plan_role(&drifted, None);
    assert_eq!(p.action, Action::Create);

    let cache_ops = live_roles.iter().find(|r| r.role == "cacheOps").unwrap();
    assert!(cache_ops.privileges.iter().all(|p| p.cluster && p.db.is_none()));
}

#[test]
fn privileges_bson_spells_all_collections_as_empty_string() {
    let spec = reporting(vec![privilege(Some("daraa"), None, &["find"])], vec![]);
    let b = privileges_bson(&spec);
    let d = b[0].as_document().unwrap().get_document("resource").unwrap();
    assert_eq!(d.get_str("collection").unwrap(), "");
}
