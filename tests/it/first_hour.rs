//! An operator's first hour (issue "two runs that destroy each other, empty backups that count
//! as good"): each test here failed on the code before it.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use bson::{Document, doc};

use crate::support::Edit as _;
use crate::support::{
    Job, JobOptions, TestCollection, run, secret_file, services, write_test_archive_with,
};

pub(crate) fn signal(child: &Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

/// Waits until `dir` holds a staging folder (the dump is under way) or the child ended.
pub(crate) fn wait_for_staging(dir: &Path, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let staging = std::fs::read_dir(dir).is_ok_and(|rd| {
            rd.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".staging"))
        });
        if staging {
            return;
        }
        assert!(child.try_wait().unwrap().is_none(), "the backup ended before its dump was seen");
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no staging folder appeared in {}", dir.display());
}

pub(crate) fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".staging") || n.ends_with(".partial"))
                .collect()
        })
        .unwrap_or_default()
}

/// A second config for the same database whose Redis password is wrong and not required: the
/// run that, before, fell back to a file lock nobody else took.
fn bad_redis_config(job: &Job) -> std::path::PathBuf {
    secret_file(job.dir.path(), "wrong_redis_pw", "not-the-password");
    let text = std::fs::read_to_string(&job.config)
        .unwrap()
        .edit_all("password_file: redis_pw", "password_file: wrong_redis_pw")
        .edit_all("required: true", "required: false");
    let path = job.dir.path().join("bad-redis.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_backups_at_once_never_destroy_each_other() {
    let Some(s) = services() else { return };
    let job = Job::new("ab", &s, &JobOptions { redis: true, ..Default::default() });
    // One collection at a time in small batches: the dump lasts long enough to be seen.
    let text = std::fs::read_to_string(&job.config).unwrap().edit(
        "  name_prefix: daraa\n",
        "  name_prefix: daraa\n  parallel_collections: 1\n  batch_size: 50\n",
    );
    std::fs::write(&job.config, text).unwrap();
    job.seed(0.05, false).await;
    let bad = bad_redis_config(&job);
    for first_is_good in [true, false] {
        let (first_cfg, second_cfg) =
            if first_is_good { (&job.config, &bad) } else { (&bad, &job.config) };
        let mut a = std::process::Command::new(assert_cmd::cargo::cargo_bin("daraa-ops"))
            .args(["--config", first_cfg.to_str().unwrap(), "backup", "--no-prune"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_staging(&job.backup_dir, &mut a);
        signal(&a, "-STOP");
        let b = run(&["--config", second_cfg.to_str().unwrap(), "backup", "--no-prune"], &[]);
        signal(&a, "-CONT");
        let a_status = a.wait().unwrap();
        assert_eq!(
            b.code, 4,
            "the second run is refused while the first holds the lock: {}",
            b.stderr
        );
        // The holder runs on this host: the hint says to wait, not to force the lock away.
        assert!(b.stderr.contains("running on this host as pid"), "{}", b.stderr);
        assert!(!b.stderr.contains("lock release --force"), "{}", b.stderr);
        assert_eq!(a_status.code(), Some(0), "the first run completes");
        let v = job.run(&["--output", "json", "verify", "latest"], &[]).json();
        assert_eq!(v["status"], "ok", "{v}");
        assert!(leftovers(&job.backup_dir).is_empty());
    }
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_and_shrunk_backups_never_count() {
    let Some(s) = services() else { return };
    let job = Job::new("empty", &s, &JobOptions::default());
    job.seed(0.01, false).await;
    // A misspelt collection in include_collections: a configuration error, nothing written.
    let text = std::fs::read_to_string(&job.config).unwrap();
    let typo = job.dir.path().join("typo.yaml");
    std::fs::write(
        &typo,
        text.edit_all(
            "  name_prefix: daraa\n",
            "  name_prefix: daraa\n  include_collections: [ordres]\n",
        ),
    )
    .unwrap();
    let r = run(&["--config", typo.to_str().unwrap(), "backup"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("ordres") && r.stderr.contains("orders"), "{}", r.stderr);
    // A misspelt database reads as an empty one: a failure naming it, nothing written.
    let empty_db = job.dir.path().join("empty.yaml");
    std::fs::write(
        &empty_db,
        text.edit_all(
            &format!("database: {}", job.database),
            &format!("database: {}x", job.database),
        ),
    )
    .unwrap();
    let r = run(&["--config", empty_db.to_str().unwrap(), "backup"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{}x has no collections", job.database)), "{}", r.stderr);
    assert!(r.stderr.contains("typo"), "{}", r.stderr);
    assert!(job.local_files().is_empty(), "no backup written: {:?}", job.local_files());

    // A good backup, then a mass delete: the next backup is kept, marked, exit 6.
    let (code, first, _) = job.json(&["backup"]);
    assert_eq!(code, 0, "{first}");
    let db = job.db().await;
    for name in db.list_collection_names().await.unwrap() {
        db.collection::<Document>(&name).delete_many(doc! {}).await.unwrap();
    }
    db.collection::<Document>("orders").insert_one(doc! {"x": 1}).await.unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let (code, shrunk, _) = job.json(&["backup"]);
    assert_eq!(code, 6, "{shrunk}");
    assert_eq!(shrunk["shrunk"]["previous_id"], first["id"], "{shrunk}");
    assert_eq!(shrunk["status"], "drift");
    // latest (drill, restore) still means the good backup; retention keeps it.
    let (code, drill, _) = job.json(&["drill"]);
    assert_eq!((code, &drill["id"]), (0, &first["id"]), "{drill}");
    let (code, pruned, _) = job.json(&["prune"]);
    assert_eq!(code, 0, "{pruned}");
    let files = job.local_files();
    let id = |v: &serde_json::Value| v["id"].as_str().unwrap().to_owned();
    assert!(files.iter().any(|f| f.starts_with(&id(&first))), "{files:?}");
    assert!(files.iter().any(|f| f.starts_with(&id(&shrunk))), "kept: {files:?}");

    // A drill of an empty backup fails.
    let path = job.dir.path().join("daraa-empty-20260101T000000Z.tar.gz");
    write_test_archive_with(
        &path,
        &job.database,
        &[TestCollection {
            name: "orders",
            metadata: r#"{"options":{},"indexes":[]}"#.into(),
            data: Some(Vec::new()),
        }],
        |_| {},
    );
    let (code, v, _) = job.json(&["drill", path.to_str().unwrap()]);
    assert_eq!(code, 6, "{v}");
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_and_records_follow_the_docs() {
    let Some(s) = services() else { return };
    let dir = "metrics";
    let job = Job::new(
        "codes",
        &s,
        &JobOptions {
            redis: true,
            extra: format!("metrics:\n  textfile_dir: {dir}\n"),
            ..Default::default()
        },
    );
    job.seed(0.01, false).await;
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    // A wrong Redis password: config check --connect exits 3 even when Redis is optional, and
    // a live restore whose cache invalidation fails is a partial success.
    let bad = bad_redis_config(&job);
    let r = run(&["--config", bad.to_str().unwrap(), "config", "check", "--connect"], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("Redis authentication failed"), "{}", r.stderr);
    let r = run(&["--config", bad.to_str().unwrap(), "--yes", "restore", "latest", "--drop"], &[]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    // backup.dir that is a file: exit 2.
    let file_dir = job.dir.path().join("file-dir.yaml");
    std::fs::write(job.dir.path().join("afile"), "x").unwrap();
    let text = std::fs::read_to_string(&job.config)
        .unwrap()
        .edit_all("  dir: backups\n", "  dir: afile\n");
    std::fs::write(&file_dir, text).unwrap();
    let r = run(&["--config", file_dir.to_str().unwrap(), "config", "check", "--connect"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("backup.dir"), "{}", r.stderr);

    // Last-run records per database: a restore into another database is that database's.
    let other = format!("{}_other", job.database);
    assert_eq!(job.run(&["restore", "latest", "--target-db", &other], &[]).code, 0);
    let metrics = job.dir.path().join(dir);
    let own =
        std::fs::read_to_string(metrics.join(format!("daraa_ops_backup.{}.prom", job.database)))
            .unwrap();
    assert!(own.contains(&format!("database=\"{}\"", job.database)), "{own}");
    let restored =
        std::fs::read_to_string(metrics.join(format!("daraa_ops_restore.{other}.prom"))).unwrap();
    assert!(restored.contains(&format!("database=\"{other}\"")), "{restored}");
    let mut redis = job.redis().await;
    let key = format!("{0}:last:restore:{other}", job.database);
    let n: usize = redis::cmd("HLEN").arg(&key).query_async(&mut redis).await.unwrap();
    assert!(n > 0, "{key}");

    // A drill that fails only on a sample query names it.
    let queries = job.dir.path().join("queries.yaml");
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(
        &queries,
        format!("{text}drill:\n  queries:\n    - {{name: many-orders, collection: orders, min_documents: 1000000}}\n"),
    )
    .unwrap();
    let r = run(&["--config", queries.to_str().unwrap(), "drill"], &[]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stdout.contains("query many-orders on orders found"), "{}", r.stdout);

    // A group-readable secret file is warned about once, even when --connect reads it again.
    let pw = job.dir.path().join("mongo_pw");
    std::fs::set_permissions(&pw, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let r = job.run(&["config", "check", "--connect"], &[]);
    std::fs::set_permissions(&pw, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    assert_eq!(r.stderr.matches("readable by group or others").count(), 1, "{}", r.stderr);

    // No run ends in a panic of the driver's pool (it was about one in forty).
    for _ in 0..40 {
        let r = job.run(&["restore", "latest", "--target-db", &other, "--dry-run"], &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }

    // Names are checked before any connection: exit 2, never a server error.
    for bad_name in ["", "bad/db", "a.b"] {
        let r = job.run(&["restore", "latest", "--target-db", bad_name], &[]);
        assert_eq!(r.code, 2, "{bad_name:?}: {}", r.stderr);
    }
    job.client().await.database(&other).drop().await.unwrap();
    job.drop_database().await;
}

#[test]
fn messages_name_the_key_once_and_in_the_log_format() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!("mongodb:\n  uri: mongodb://127.0.0.1:1/\n  database: d\n{body}"),
        )
        .unwrap();
        p
    };
    let check = |p: &Path, extra: &[&str]| {
        let mut args = vec!["--config", p.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["config", "check"]);
        run(&args, &[])
    };
    let r = check(&write("u32.yaml", "retention:\n  keep_last: abc\n"), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("retention.keep_last: invalid u32"), "{}", r.stderr);
    let r = check(&write("bool.yaml", "backup:\n  keep_local: maybe\n"), &[]);
    assert!(r.stderr.contains("backup.keep_local: invalid boolean"), "{}", r.stderr);
    let r = check(&write("dup.yaml", "  database: e\n"), &[]);
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("DuplicateKeyPolicy"), "{}", r.stderr);
    let r = check(&write("secret.yaml", "  username: u\n  password_file: /nonexistent/pw\n"), &[]);
    assert_eq!(r.stderr.matches("os error 2").count(), 1, "{}", r.stderr);
    let r = check(
        &write(
            "blank.yaml",
            "redis:\n  url: redis://127.0.0.1:1\n  cache_prefixes: ['product:', ' ']\n",
        ),
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("redis.cache_prefixes[1]"), "{}", r.stderr);
    let rule = "cleanup:\n  rules:\n    - {name: r, collection: carts, age_field: t, older_than: 1d, action: delete, invalidate_prefixes: ['']}\n";
    let r = check(&write("rule.yaml", rule), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("invalidate_prefixes[0]"), "{}", r.stderr);
    // --log-format json: the final error is a JSON line too.
    let r = check(&write("json.yaml", "retention:\n  keep_last: abc\n"), &["--log-format", "json"]);
    let last = r.stderr.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert_eq!((v["level"].as_str(), v["exit_code"].as_u64()), (Some("ERROR"), Some(2)), "{v}");
    assert!(v["hint"].is_string(), "{v}");
    // s3.prefix is a folder.
    let p = write("s3.yaml", "s3:\n  bucket: b\n  prefix: backups\n");
    let mut args = vec!["--config", p.to_str().unwrap()];
    args.extend_from_slice(&["--output", "json", "config", "show"]);
    let v = run(&args, &[]).json();
    assert_eq!(v["config"]["s3"]["prefix"], "backups/", "{v}");
}

#[test]
fn a_newer_archive_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("daraa-d-20260101T000000Z.tar.gz");
    let doc = bson::RawDocumentBuf::try_from(&doc! {"_id": 1}).unwrap().into_bytes();
    write_test_archive_with(
        &path,
        "d",
        &[TestCollection { name: "c", metadata: "{}".into(), data: Some(doc) }],
        |m| m.format_version = 99,
    );
    let r = run(
        &["verify", path.to_str().unwrap()],
        &[("DARAA_OPS_MONGODB_URI", "mongodb://127.0.0.1:1/")],
    );
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("version 99 is newer"), "{}", r.stderr);
}
