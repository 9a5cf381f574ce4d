//! One conformance suite for both storages (local directory and S3), and the Redis lock's
//! heartbeat and ownership rules.

use daraa_ops::storage::{Storage, local::LocalStore};

use crate::support::Edit as _;
use crate::support::{Job, JobOptions, services};

async fn conformance(storage: &Storage) {
    assert!(storage.list().await.unwrap().is_empty(), "{} starts empty", storage.describe());
    storage.put_bytes("a.manifest.json", b"{\"x\":1}").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Larger than one S3 part (16 MiB) so the multipart path runs, with a non-uniform tail.
    let big: Vec<u8> = (0..(17 * 1024 * 1024 + 12_345u32))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let path = dir.path().join("big.tar.gz");
    std::fs::write(&path, &big).unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    storage.put_file("big.tar.gz", &path, &cancel).await.unwrap();

    let names: Vec<(String, u64)> =
        storage.list().await.unwrap().into_iter().map(|o| (o.name, o.size)).collect();
    assert_eq!(
        names,
        [("a.manifest.json".to_owned(), 7), ("big.tar.gz".to_owned(), big.len() as u64)]
    );
    assert_eq!(storage.get_bytes("a.manifest.json").await.unwrap().unwrap(), b"{\"x\":1}");
    assert_eq!(storage.get_bytes("missing").await.unwrap(), None);

    let reader = storage.reader("big.tar.gz").await.unwrap();
    let back = tokio::task::spawn_blocking(move || {
        let mut r = reader;
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut r, &mut v).unwrap();
        v
    })
    .await
    .unwrap();
    assert!(back == big, "streamed read returns the same bytes");

    storage.delete(&["a.manifest.json".into(), "never-existed".into()]).await.unwrap();
    let names: Vec<String> = storage.list().await.unwrap().into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["big.tar.gz"]);
    storage.delete(&["big.tar.gz".into()]).await.unwrap();
    assert!(storage.list().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_and_s3_storages_behave_alike() {
    let Some(s) = services() else { return };
    let dir = tempfile::tempdir().unwrap();
    conformance(&Storage::Local(LocalStore::new(dir.path().to_path_buf()))).await;
    let job = Job::new("conf", &s, &JobOptions::default());
    conformance(&Storage::S3(Box::new(job.s3().await))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_writes_job_metrics_for_node_exporter() {
    let Some(s) = services() else { return };
    let job = Job::new(
        "prom",
        &s,
        &JobOptions { extra: "metrics: {textfile_dir: metrics}\n".into(), ..Default::default() },
    );
    job.seed(0.005, false).await;
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    let text = std::fs::read_to_string(
        job.dir.path().join(format!("metrics/daraa_ops_backup.{}.prom", job.database)),
    )
    .unwrap();
    let db = &job.database;
    for metric in
        ["last_success_timestamp_seconds", "last_duration_seconds", "last_bytes", "last_exit_code"]
    {
        assert!(
            text.contains(&format!("daraa_ops_backup_{metric}{{database=\"{db}\"}} ")),
            "{metric}:\n{text}"
        );
    }
    assert!(text.contains(&format!("daraa_ops_backup_last_exit_code{{database=\"{db}\"}} 0\n")));
    // A failed run keeps the last success time and records its exit code.
    let r = job.run(
        &["backup"],
        &[("DARAA_OPS_MONGODB_URI", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300")],
    );
    assert_eq!(r.code, 3);
    let after = std::fs::read_to_string(
        job.dir.path().join(format!("metrics/daraa_ops_backup.{}.prom", job.database)),
    )
    .unwrap();
    assert!(
        after.contains(&format!("daraa_ops_backup_last_exit_code{{database=\"{db}\"}} 3\n")),
        "{after}"
    );
    let success = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("daraa_ops_backup_last_success_timestamp_seconds"))
            .map(str::to_owned)
    };
    assert_eq!(success(&after), success(&text), "the last success time survives a failed run");
    job.drop_database().await;
}

/// `s3.storage_class` applies to archives only: with GLACIER the sidecars stay readable, so
/// `list --remote` works, and reading the archive fails with what S3 said (not a word about
/// credentials).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glacier_archives_keep_readable_sidecars_and_errors_say_what_s3_said() {
    let Some(s) = services() else { return };
    let job = Job::new("glacier", &s, &JobOptions { s3: true, ..Default::default() });
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(
        &job.config,
        text.edit(
            "  force_path_style: true\n",
            "  force_path_style: true\n  storage_class: GLACIER\n",
        ),
    )
    .unwrap();
    job.seed(0.005, false).await;
    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{stderr}");
    let id = v["id"].as_str().unwrap().to_owned();
    let (code, listed, stderr) = job.json(&["list", "--remote"]);
    assert_eq!(code, 0, "sidecars are not in GLACIER: {stderr}");
    assert_eq!(listed["backups"][0]["id"], id.as_str());
    assert_eq!(listed["backups"][0]["complete"], true);
    // Only in S3 now: the archive read hits GLACIER.
    for f in job.local_files() {
        std::fs::remove_file(job.backup_dir.join(f)).unwrap();
    }
    let r = job.run(&["verify", &id], &[]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("InvalidObjectState"), "{}", r.stderr);
    assert!(!r.stderr.contains("credentials"), "{}", r.stderr);
    job.drop_database().await;
}

/// Without AWS credentials anywhere, an S3 command names the cause (exit 2) instead of "cannot
/// reach S3", and the SDK's provider warnings stay out of stderr (unless -v).
#[test]
fn missing_aws_credentials_are_named_as_such() {
    let Some(s) = services() else { return };
    let job = Job::new("nocreds", &s, &JobOptions { s3: true, ..JobOptions::default() });
    let home = tempfile::tempdir().unwrap();
    let o = job
        .command(&["list", "--remote"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("HOME", home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no AWS credentials for s3://"), "{stderr}");
    assert!(stderr.contains("hint: set AWS_ACCESS_KEY_ID"), "{stderr}");
    assert!(!stderr.contains("WARN"), "SDK warnings on stderr: {stderr}");
    assert!(!stderr.contains("cannot reach S3"), "{stderr}");
}
