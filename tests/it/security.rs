//! Secrets never in output (also at trace level and in JSON logs), private file modes, and the
//! protected-database guard of restore.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use bson::{Document, doc};

use crate::support::Edit as _;
use crate::support::{Job, JobOptions, register_secret, secret_file, services};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_every_output_even_at_trace_level() {
    let Some(s) = services() else { return };
    // The password in the URI itself, the Redis and user passwords in files.
    let job = Job::new("secrets", &s, &JobOptions { redis: true, s3: true, ..Default::default() });
    let text = std::fs::read_to_string(&job.config).unwrap();
    let with_uri_password = text.edit(&s.mongo_uri_no_auth(), &s.mongo_uri).replacen(
        &format!("  username: {}\n  password_file: mongo_pw\n", s.mongo_user),
        "",
        1,
    );
    std::fs::write(&job.config, &with_uri_password).unwrap();
    secret_file(job.dir.path(), "app_pw", "app-secret-Zq81x");
    let user = crate::support::unique("secuser");
    std::fs::write(
        &job.config,
        with_uri_password + &format!("users:\n  - {{name: {user}, password_file: app_pw}}\n"),
    )
    .unwrap();
    job.client()
        .await
        .database(&job.database)
        .collection::<Document>("a")
        .insert_one(doc! {"x": 1})
        .await
        .unwrap();
    // support::run asserts that no registered secret appears in stdout or stderr of any run.
    let r = job.run(&["config", "show"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("127.0.0.1"), "{}", r.stdout);
    for args in [
        &["-vv", "--log-format", "json", "config", "check", "--connect"][..],
        &["-vv", "--log-format", "json", "backup"],
        &["-vv", "stats"],
        &["-vv", "--output", "json", "verify", "latest"],
        &["-vv", "--log-format", "json", "drill"],
        &["-vv", "--output", "json", "--yes", "restore", "latest", "--drop"],
    ] {
        let r = job.run(args, &[]);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    }
    // Failures too: a wrong password in the URI, a wrong admin password for users.
    let bad =
        std::fs::read_to_string(&job.config).unwrap().edit(&s.mongo_password, "wrong-pw-Kx93");
    register_secret("wrong-pw-Kx93");
    std::fs::write(&job.config, bad).unwrap();
    let r = job.run(&["-vv", "--log-format", "json", "backup"], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("authentication failed"), "{}", r.stderr);
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_private_and_protected_databases_need_confirmation() {
    let Some(s) = services() else { return };
    let job = Job::new(
        "perms",
        &s,
        &JobOptions {
            extra: "cleanup:\n  rules:\n    - {name: old, collection: events, age_field: at, older_than: 1d, action: archive, archive_to: local, archive_dir: archive}\n".into(),
            ..Default::default()
        },
    );
    let db = job.client().await.database(&job.database);
    let old =
        bson::DateTime::from_millis(bson::DateTime::now().timestamp_millis() - 10 * 86_400_000);
    db.collection::<Document>("events")
        .insert_many((0..10).map(|i| doc! {"i": i, "at": old}))
        .await
        .unwrap();
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    assert_eq!(mode(&job.backup_dir), 0o700);
    for f in job.local_files() {
        assert_eq!(mode(&job.backup_dir.join(&f)), 0o600, "{f}");
    }
    assert_eq!(job.run(&["cleanup"], &[]).code, 0);
    let run_dir = std::fs::read_dir(job.dir.path().join("archive").join(&job.database).join("old"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(mode(&run_dir), 0o700);
    for f in std::fs::read_dir(&run_dir).unwrap() {
        let p = f.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    let hist = job.dir.path().join("h.jsonl");
    assert_eq!(job.run(&["stats", "--history", hist.to_str().unwrap()], &[]).code, 0);
    assert_eq!(mode(&hist), 0o600);

    // restore.protected_databases: refused without --force-protected, even with --yes (the
    // flag scripts pass for --drop); done with it.
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(
        &job.config,
        format!("{text}restore:\n  protected_databases: [{}]\n", job.database),
    )
    .unwrap();
    let r = job.run(&["restore", "latest", "--drop"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("protected_databases") && r.stderr.contains("--force-protected"),
        "{}",
        r.stderr
    );
    let r = job.run(&["--yes", "restore", "latest", "--drop"], &[]);
    assert_eq!(r.code, 2, "--yes alone does not open a protected database: {}", r.stderr);
    assert_eq!(
        db.collection::<Document>("events").count_documents(doc! {}).await.unwrap(),
        0,
        "nothing restored"
    );
    let r = job.run(&["--yes", "restore", "latest", "--drop", "--force-protected"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(db.collection::<Document>("events").count_documents(doc! {}).await.unwrap(), 10);
    job.drop_database().await;
}
