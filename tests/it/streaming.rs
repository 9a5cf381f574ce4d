//! `backup.format: archive` (mongodump's archive format, docs/archive-format.md): a backup of
//! the seed data and the bsonzoo round-trips byte for byte through daraa-ops and through the
//! real `mongorestore --archive --gzip`, is listed, verified against its sidecar, drilled, and
//! a damaged copy is refused.

use std::process::Command;

use crate::support::Edit as _;
use crate::support::{Job, JobOptions, contents, peer, services};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_format_backups_round_trip_and_mongorestore_reads_them() {
    let Some(s) = services() else { return };
    let Some(mongorestore) = peer("mongorestore") else { return };
    let job = Job::new("stream", &s, &JobOptions { s3: true, ..JobOptions::default() });
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(&job.config, text.edit_all("backup:\n", "backup:\n  format: archive\n"))
        .unwrap();
    job.seed(0.01, true).await;
    let client = job.client().await;
    let source = contents(&client.database(&job.database)).await;

    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{stderr}");
    let file = v["archive"]["file"].as_str().unwrap().to_owned();
    assert!(file.ends_with(".archive.gz"), "{file}");
    let kinds: Vec<&str> =
        v["locations"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["local", "s3"]);
    // Nothing but the archive and its sidecar is left in the backup folder.
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(
        job.local_files(),
        [format!(".daraa-ops-{}.lock", job.database), file.clone(), format!("{id}.manifest.json")]
    );
    let sidecar: serde_json::Value = serde_json::from_slice(
        &std::fs::read(job.backup_dir.join(format!("{id}.manifest.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(sidecar["container"], "archive");

    let (_, list, _) = job.json(&["list"]);
    let listed = &list["backups"].as_array().unwrap()[0];
    assert_eq!(
        (listed["id"].as_str(), listed["complete"].as_bool()),
        (Some(id.as_str()), Some(true))
    );
    let (code, v, stderr) = job.json(&["verify", "latest"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        (v["format"].as_str(), v["checksums"].as_str()),
        (Some("daraa-archive"), Some("sha256"))
    );
    assert_eq!(v["sidecar_checked"], true);

    // daraa-ops restores it byte for byte.
    let target = format!("{}_a", job.database);
    let (code, _, stderr) = job.json(&["restore", "latest", "--target-db", &target]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        contents(&client.database(&target)).await == source,
        "restore of the archive format differs"
    );
    client.database(&target).drop().await.unwrap();
    let (code, v, stderr) = job.json(&["drill"]);
    assert_eq!(code, 0, "{v} {stderr}");

    // The real mongorestore reads it without extraction.
    let target = format!("{}_mr", job.database);
    crate::support::mongorestore_archive(&job, &mongorestore, &file, &target);
    assert!(
        contents(&client.database(&target)).await == source,
        "mongorestore restored other bytes"
    );
    client.database(&target).drop().await.unwrap();

    // A damaged copy: verify names it (exit 6); a restore changes nothing.
    let damaged = job.dir.path().join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    let mut bytes = std::fs::read(job.backup_dir.join(&file)).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x55;
    std::fs::write(damaged.join(&file), &bytes).unwrap();
    std::fs::copy(
        job.backup_dir.join(format!("{id}.manifest.json")),
        damaged.join(format!("{id}.manifest.json")),
    )
    .unwrap();
    let (code, _, stderr) = job.json(&["verify", damaged.join(&file).to_str().unwrap()]);
    assert_eq!(code, 6, "{stderr}");

    // Retention deletes archive-format backups like any other, locally and in S3.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{stderr}");
    let newest = v["id"].as_str().unwrap().to_owned();
    // (The first backup was drilled above: without `keep_drilled: false` retention keeps it.)
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(&job.config, format!("{text}retention:\n  keep_drilled: false\n")).unwrap();
    let keep_one =
        [("DARAA_OPS_RETENTION_KEEP_LAST", "1"), ("DARAA_OPS_RETENTION_KEEP_DAYS", "none")];
    let r = job.run(&["prune"], &keep_one);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !job.backup_dir.join(&file).exists(),
        "the older archive stayed: {:?}",
        job.local_files()
    );
    let (_, list, _) = job.json(&["list"]);
    let ids: Vec<&str> =
        list["backups"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [newest.as_str()], "{list}");
    job.drop_database().await;
}

/// `backup --stdout` streams mongodump's archive format through a pipe with nothing written
/// locally; `restore -` and `mongorestore --archive` read such a stream from their stdin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_backups_pipe_into_restore_and_mongorestore() {
    use std::process::Stdio;
    let Some(s) = services() else { return };
    let Some(mongorestore) = peer("mongorestore") else { return };
    let job = Job::new("pipe", &s, &JobOptions::default());
    job.seed(0.01, true).await;
    let client = job.client().await;
    let source = contents(&client.database(&job.database)).await;
    std::fs::create_dir_all(&job.backup_dir).unwrap();
    let before = job.local_files();

    let pipe = |target: &str| {
        let mut backup = job.command(&["backup", "--stdout"]);
        let mut producer = backup.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut restore = job.command(&["--output", "json", "restore", "-", "--target-db", target]);
        let consumer = restore.stdin(producer.stdout.take().unwrap()).output().unwrap();
        let output = producer.wait_with_output().unwrap();
        (output, consumer)
    };
    let target = format!("{}_p", job.database);
    let (backup_run, consumer) = pipe(&target);
    assert!(backup_run.status.success(), "{}", String::from_utf8_lossy(&backup_run.stderr));
    // The report went to stderr: stdout carried only the archive.
    assert!(String::from_utf8_lossy(&backup_run.stderr).contains("written to standard output"));
    assert!(consumer.status.success(), "{}", String::from_utf8_lossy(&consumer.stderr));
    let v: serde_json::Value = serde_json::from_slice(&consumer.stdout).unwrap();
    assert_eq!(v["source"], "standard input");
    assert!(contents(&client.database(&target)).await == source, "piped restore differs");
    // Nothing was written locally by the streaming backup.
    assert_eq!(
        job.local_files().iter().filter(|f| !f.ends_with(".lock")).count(),
        before.iter().filter(|f| !f.ends_with(".lock")).count()
    );
    client.database(&target).drop().await.unwrap();

    // mongorestore reads the same stream from its stdin.
    let tools = crate::support::secret_file(
        job.dir.path(),
        "tools.yaml",
        &format!("uri: '{}'\n", s.mongo_uri),
    );
    let target = format!("{}_pm", job.database);
    let mut streaming = job
        .command(&["backup", "--stdout"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let o = Command::new(&mongorestore)
        .arg(format!("--config={}", tools.display()))
        .args(["--archive", "--gzip", "--noIndexRestore"])
        .arg(format!("--nsFrom={}.*", job.database))
        .arg(format!("--nsTo={target}.*"))
        .stdin(streaming.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(streaming.wait().unwrap().success());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        contents(&client.database(&target)).await == source,
        "mongorestore from a pipe differs"
    );
    client.database(&target).drop().await.unwrap();

    // --dry-run cannot read a stream twice; a terminal is no place for an archive.
    let (code, _, stderr) = job.json(&["restore", "-", "--target-db", &target, "--dry-run"]);
    assert_eq!(code, 2, "{stderr}");
    job.drop_database().await;
}

/// `backup.format: archive` with `keep_local: false` streams to S3 with nothing on the local
/// disk (watched while it runs); S3 cut mid-stream exits 5 with the upload aborted and nothing
/// complete in S3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_to_s3_uses_no_local_disk_and_a_cut_leaves_nothing_complete() {
    use crate::faults::{Proxy, incompressible, port_of};
    use std::sync::atomic::Ordering;
    let Some(s) = services() else { return };
    let job = Job::new("s3stream", &s, &JobOptions { s3: true, ..JobOptions::default() });
    job.edit_config("backup:\n", "backup:\n  format: archive\n  keep_local: false\n");
    job.edit_config("  max_attempts: 2\n", "  max_attempts: 2\n  part_size_mib: 5\n");
    let client = job.client().await;
    let db = client.database(&job.database);
    incompressible(&db, 16).await;
    let source = contents(&db).await;
    std::fs::create_dir_all(&job.backup_dir).unwrap();

    // Watch the backup folder while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (dir, flag) = (job.backup_dir.clone(), stop.clone());
    let watcher = std::thread::spawn(move || {
        let mut seen = std::collections::BTreeSet::new();
        while !flag.load(Ordering::SeqCst) {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                seen.insert(e.file_name().to_string_lossy().into_owned());
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        seen
    });
    let (code, v, stderr) = job.json(&["backup"]);
    stop.store(true, Ordering::SeqCst);
    let seen = watcher.join().unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        seen.iter().all(|f| f.ends_with(".lock")),
        "files on the local disk during a streaming backup: {seen:?}"
    );
    let kinds: Vec<&str> =
        v["locations"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["s3"], "{v}");
    assert!(v["archive"]["size"].as_u64().unwrap() > 10 * 1024 * 1024, "several parts: {v}");
    let (code, v, stderr) = job.json(&["verify", "latest"]);
    assert_eq!(code, 0, "{v} {stderr}");
    let target = format!("{}_s3", job.database);
    let (code, _, stderr) = job.json(&["restore", "latest", "--target-db", &target]);
    assert_eq!(code, 0, "{stderr}");
    assert!(contents(&client.database(&target)).await == source, "restore from S3 differs");
    client.database(&target).drop().await.unwrap();

    // S3 goes away after 8 MiB: with no local copy the backup failed on an unreachable
    // dependency (exit 3, naming the upload); nothing new is complete in S3.
    let proxy = Proxy::start(port_of(&s.s3_endpoint), 8 * 1024 * 1024, u64::MAX);
    let direct = format!("127.0.0.1:{}", port_of(&s.s3_endpoint));
    job.edit_config(&direct, &format!("127.0.0.1:{}", proxy.port));
    let r = job.run(&["backup"], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("upload of") && r.stderr.contains("cannot reach S3"), "{}", r.stderr);
    assert!(proxy.shared.cut.load(Ordering::SeqCst), "the proxy never cut");
    job.edit_config(&format!("127.0.0.1:{}", proxy.port), &direct);
    let (_, v, _) = job.json(&["list", "--remote"]);
    let complete =
        v["backups"].as_array().unwrap().iter().filter(|b| b["complete"] == true).count();
    assert_eq!(complete, 1, "only the first backup is complete: {v}");
    assert!(job.local_files().iter().all(|f| f.ends_with(".lock")));
    job.drop_database().await;
}
