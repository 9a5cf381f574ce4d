//! users provision / check / list against the real server (FerretDB here: role-less users;
//! the role round trip runs when DARAA_TEST_MONGODB_URI is a real MongoDB).

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use bson::{Document, doc};

use crate::support::Edit as _;
use crate::support::{Job, JobOptions, Services, secret_file, services};

/// A job whose config has `mongodb.admin` (the test server's root account) and the given
/// `users:`/`roles:` YAML.
fn job(name: &str, s: &Services, users_yaml: &str) -> Job {
    let job = Job::new(name, s, &JobOptions::default());
    set_users(&job, users_yaml);
    job
}

fn set_users(job: &Job, users_yaml: &str) {
    let text = std::fs::read_to_string(&job.config).unwrap();
    let base = text.split("\n# users\n").next().unwrap().to_owned();
    let base = if base.contains("  admin:") {
        base
    } else {
        base.edit(
            &format!("  database: {}\n", job.database),
            &format!(
                "  database: {}\n  admin: {{username: {}, password_file: mongo_pw}}\n",
                job.database, job.services.mongo_user
            ),
        )
    };
    std::fs::write(&job.config, format!("{base}\n# users\n{users_yaml}")).unwrap();
}

/// Three users named after the job, role-less unless `roles` is given.
fn three_users(prefix: &str, roles: &str) -> String {
    ["app", "backup", "readonly"]
        .iter()
        .map(|u| {
            format!(
                "  - {{name: {prefix}_{u}, db: admin, roles: {roles}, password_file: {u}_pw}}\n"
            )
        })
        .fold("users:\n".to_owned(), |acc, l| acc + &l)
}

async fn admin(s: &Services) -> mongodb::Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    mongodb::Client::with_uri_str(&s.mongo_uri).await.unwrap()
}

async fn users_info(s: &Services, name: &str) -> Option<Document> {
    let reply = admin(s)
        .await
        .database("admin")
        .run_command(doc! {"usersInfo": {"user": name, "db": "admin"}})
        .await
        .unwrap();
    reply.get_array("users").unwrap().first().map(|u| u.as_document().unwrap().clone())
}

/// Whether `user` can log in with `password` (a `ping` forces authentication).
async fn authenticates(s: &Services, user: &str, password: &str) -> bool {
    let mut opts =
        mongodb::options::ClientOptions::parse(s.mongo_uri_no_auth().split('?').next().unwrap())
            .await
            .unwrap();
    opts.credential = Some(
        mongodb::options::Credential::builder()
            .username(user.to_owned())
            .password(password.to_owned())
            .source("admin".to_owned())
            .mechanism(mongodb::options::AuthMechanism::ScramSha256)
            .build(),
    );
    opts.server_selection_timeout = Some(std::time::Duration::from_secs(5));
    let client = mongodb::Client::with_options(opts).unwrap();
    client.database("admin").run_command(doc! {"ping": 1}).await.is_ok()
}

async fn drop_users(s: &Services, names: &[String]) {
    let c = admin(s).await;
    for n in names {
        let _ = c.database("admin").run_command(doc! {"dropUser": n}).await;
    }
}

fn actions(v: &serde_json::Value) -> Vec<(String, String)> {
    v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["user"].as_str().unwrap().to_owned(), u["action"].as_str().unwrap().to_owned()))
        .collect()
}

fn write_pw(dir: &Path, name: &str, value: &str) -> PathBuf {
    secret_file(dir, name, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_is_idempotent_and_passwords_follow_the_secrets_files() {
    let Some(s) = services() else { return };
    let prefix = crate::support::unique("usr");
    let job = job("users", &s, &three_users(&prefix, "[]"));
    let dir = job.dir.path();
    let names: Vec<String> =
        ["app", "backup", "readonly"].iter().map(|u| format!("{prefix}_{u}")).collect();
    for (u, pw) in
        [("app", "app-pw-one-1234"), ("backup", "backup-pw-1234"), ("readonly", "ro-pw-1234")]
    {
        write_pw(dir, &format!("{u}_pw"), pw);
    }

    // Dry run: the plan, nothing created.
    let (code, v, _) = job.json(&["users", "provision", "--dry-run"]);
    assert_eq!(code, 0, "{v}");
    assert!(actions(&v).iter().all(|(_, a)| a == "create"), "{v}");
    assert!(users_info(&s, &names[0]).await.is_none(), "dry run created a user");

    let (code, v, err) = job.json(&["users", "provision"]);
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(actions(&v).iter().filter(|(_, a)| a == "create").count(), 3, "{v}");
    for n in &names {
        let u = users_info(&s, n).await.unwrap_or_else(|| panic!("{n} not created"));
        assert_eq!(u.get_array("roles").unwrap().len(), 0);
        let mechs: Vec<&str> =
            u.get_array("mechanisms").unwrap().iter().map(|m| m.as_str().unwrap()).collect();
        assert_eq!(mechs, ["SCRAM-SHA-256"], "{n}");
    }
    assert!(authenticates(&s, &names[0], "app-pw-one-1234").await);
    assert!(authenticates(&s, &names[1], "backup-pw-1234").await);
    assert!(authenticates(&s, &names[2], "ro-pw-1234").await);
    assert!(!authenticates(&s, &names[0], "not-the-password").await);

    // Second run: all unchanged; check agrees.
    let (code, v, _) = job.json(&["users", "provision"]);
    assert_eq!(code, 0);
    assert!(actions(&v).iter().all(|(_, a)| a == "unchanged"), "{v}");
    let (code, v, _) = job.json(&["users", "check"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["drift"], 0);

    // A changed secrets file: check names it (exit 6); if-drift sets it, only for that user.
    write_pw(dir, "app_pw", "app-pw-two-5678");
    let r = job.run(&["users", "check"], &[]);
    assert_eq!(r.code, 6, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("user {}@admin: password: differs", names[0])),
        "{}",
        r.stdout
    );
    let (code, v, _) = job.json(&["users", "provision", "--update-passwords", "if-drift"]);
    assert_eq!(code, 0, "{v}");
    let acts = actions(&v);
    assert_eq!(acts[0], (names[0].clone(), "update".to_owned()), "{v}");
    assert_eq!(v["users"][0]["password"], "differs");
    assert!(acts[1..].iter().all(|(_, a)| a == "unchanged"), "{v}");
    assert_eq!(v["users"][1]["password"], "matches");
    assert!(authenticates(&s, &names[0], "app-pw-two-5678").await);
    assert!(!authenticates(&s, &names[0], "app-pw-one-1234").await);
    let (code, _, _) = job.json(&["users", "check"]);
    assert_eq!(code, 0);

    // Rotation with `always`: the new password works, the old one is refused.
    write_pw(dir, "readonly_pw", "ro-pw-rotated-9999");
    let (code, v, _) = job.json(&["users", "provision", "--update-passwords", "always"]);
    assert_eq!(code, 0, "{v}");
    assert!(actions(&v).iter().all(|(_, a)| a == "update"), "{v}");
    assert!(authenticates(&s, &names[2], "ro-pw-rotated-9999").await);
    assert!(!authenticates(&s, &names[2], "ro-pw-1234").await);
    // Setting passwords kept the configured mechanisms (FerretDB adds SCRAM-SHA-1 otherwise).
    let u = users_info(&s, &names[2]).await.unwrap();
    assert_eq!(u.get_array("mechanisms").unwrap().len(), 1, "{u}");

    // list: the three users, marked as configured.
    let (code, v, _) = job.json(&["users", "list"]);
    assert_eq!(code, 0);
    for n in &names {
        let row = v["users"].as_array().unwrap().iter().find(|r| r["user"] == n.as_str());
        assert_eq!(row.unwrap()["in_config"], true, "{n}: {v}");
    }
    let text = job.run(&["users", "list"], &[]);
    assert!(text.stdout.contains(&names[1]), "{}", text.stdout);

    drop_users(&s, &names).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_on_ferretdb_fail_naming_the_limitation_and_change_nothing() {
    let Some(s) = services() else { return };
    let client = admin(&s).await;
    let info = client.database("admin").run_command(doc! {"buildInfo": 1}).await.unwrap();
    if info.get_str("ferretdbVersion").is_err() {
        return role_round_trip_on_mongodb(&s).await;
    }
    let prefix = crate::support::unique("usrroles");
    let job = job("usersroles", &s, &three_users(&prefix, "[{role: readWrite, db: daraa}]"));
    for u in ["app", "backup", "readonly"] {
        write_pw(job.dir.path(), &format!("{u}_pw"), &format!("{u}-pw-5555"));
    }
    let r = job.run(&["users", "provision"], &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("FerretDB") && r.stderr.contains("roles"), "{}", r.stderr);
    assert!(r.stderr.contains("readWrite@daraa"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{}", r.stderr);
    assert!(users_info(&s, &format!("{prefix}_app")).await.is_none());
}

/// On a real MongoDB: role drift is seen by `check`, fixed by `provision`.
async fn role_round_trip_on_mongodb(s: &Services) {
    let prefix = crate::support::unique("usrmongo");
    let job = job("usersmongo", s, &three_users(&prefix, "[{role: read, db: daraa}]"));
    for u in ["app", "backup", "readonly"] {
        write_pw(job.dir.path(), &format!("{u}_pw"), &format!("{u}-pw-5555"));
    }
    let names: Vec<String> =
        ["app", "backup", "readonly"].iter().map(|u| format!("{prefix}_{u}")).collect();
    assert_eq!(job.run(&["users", "provision"], &[]).code, 0);
    assert_eq!(job.run(&["users", "check"], &[]).code, 0);
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(
        &job.config,
        text.edit("roles: [{role: read, db: daraa}]", "roles: [{role: readWrite, db: daraa}]"),
    )
    .unwrap();
    let r = job.run(&["users", "check"], &[]);
    assert_eq!(r.code, 6);
    assert!(r.stdout.contains("+readWrite@daraa -read@daraa"), "{}", r.stdout);
    assert_eq!(job.run(&["users", "provision"], &[]).code, 0);
    assert_eq!(job.run(&["users", "check"], &[]).code, 0);
    drop_users(s, &names).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_secrets_wrong_admin_password_and_generated_passwords() {
    let Some(s) = services() else { return };
    let prefix = crate::support::unique("usrgen");
    let name = format!("{prefix}_app");
    let job = job(
        "usersgen",
        &s,
        &format!("users:\n  - {{name: {name}, password_file_env: DARAA_TEST_APP_PW_FILE}}\n"),
    );
    let dir = job.dir.path();
    let pw_path = dir.join("secrets/app_pw");
    let env = [("DARAA_TEST_APP_PW_FILE", pw_path.to_str().unwrap())];

    // The variable unset: exit 2 naming it.
    let r = job.run(&["users", "provision"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("DARAA_TEST_APP_PW_FILE"), "{}", r.stderr);

    // A missing secrets file: exit 2 naming the path; nothing created.
    let r = job.run(&["users", "provision"], &env);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(pw_path.to_str().unwrap()), "{}", r.stderr);
    assert!(r.stderr.contains("--generate-missing"), "{}", r.stderr);
    assert!(users_info(&s, &name).await.is_none());

    // --generate-missing: a 0600 file in a 0700 folder, the user logs in with it, never printed.
    let r = job.run(&["users", "provision", "--generate-missing"], &env);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let meta = std::fs::metadata(&pw_path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let dir_mode = std::fs::metadata(pw_path.parent().unwrap()).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    let generated = std::fs::read_to_string(&pw_path).unwrap().trim_end().to_owned();
    assert!(generated.len() >= 32 && generated.chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(!r.stdout.contains(&generated) && !r.stderr.contains(&generated));
    crate::support::register_secret(&generated);
    assert!(authenticates(&s, &name, &generated).await);

    // The admin's secrets file missing: exit 2 naming it; wrong admin password: exit 3.
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(&job.config, text.edit("password_file: mongo_pw}", "password_file: nope_pw}"))
        .unwrap();
    let r = job.run(&["users", "check"], &env);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nope_pw"), "{}", r.stderr);
    write_pw(dir, "nope_pw", "wrong-admin-password");
    let r = job.run(&["users", "check"], &env);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("authentication failed"), "{}", r.stderr);

    drop_users(&s, &[name]).await;
}
