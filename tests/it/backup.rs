//! backup, list, verify, prune and lock against the real services.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bson::{RawDocumentBuf, doc};

use crate::support::Edit as _;
use crate::support::{Job, JobOptions, docs_by_id, id_key, services, split_bson};

fn opts(redis: bool, s3: bool) -> JobOptions {
    JobOptions { redis, s3, extra: String::new() }
}

/// Extracts an archive with the system `tar` into a new folder.
fn extract(archive: &std::path::Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("tar")
        .arg("xzf")
        .arg(archive)
        .arg("-C")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success(), "system tar could not extract {}", archive.display());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_is_mongodump_layout_with_exact_bytes_and_is_in_s3() {
    let Some(s) = services() else { return };
    let job = Job::new("bk", &s, &opts(true, true));
    let report = job.seed(0.02, true).await;
    let db = job.db().await;
    db.collection::<bson::Document>("orders")
        .create_index(
            mongodb::IndexModel::builder().keys(doc! {"userId": 1, "createdAt": -1}).build(),
        )
        .await
        .unwrap();
    db.collection::<bson::Document>("users")
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! {"email": 1})
                .options(mongodb::options::IndexOptions::builder().unique(true).build())
                .build(),
        )
        .await
        .unwrap();

    let (code, v, stderr) = job.json(&["backup", "--no-prune", "--label", "acceptance"]);
    assert_eq!(code, 0, "{v}\n{stderr}");
    assert_eq!(v["status"], "ok");
    let id = v["id"].as_str().unwrap().to_owned();
    let archive = job.backup_dir.join(format!("{id}.tar.gz"));
    assert!(archive.is_file());
    assert_eq!(v["archive"]["file"], format!("{id}.tar.gz"));
    assert_eq!(v["locations"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["totals"]["documents"].as_u64().unwrap(), report.documents);

    let sidecar: serde_json::Value = serde_json::from_slice(
        &std::fs::read(job.backup_dir.join(format!("{id}.manifest.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(sidecar["label"], "acceptance");
    let out = extract(&archive);
    let dbdir = out.path().join(&job.database);
    assert!(
        out.path().join("prelude.json").is_file() && out.path().join("manifest.json").is_file()
    );

    // Every collection: the .bson holds exactly the server's documents, raw bytes, as sets by _id.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    let mut names_seen = Vec::new();
    for c in manifest["collections"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        names_seen.push(name.to_owned());
        let escaped = daraa_ops::archive::names::escape_collection(name);
        let file = std::fs::read(dbdir.join(format!("{escaped}.bson"))).unwrap();
        let mut from_archive: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for d in split_bson(&file) {
            let raw = RawDocumentBuf::from_bytes(d.clone()).unwrap();
            from_archive.insert(id_key(&raw), d);
        }
        let from_server = docs_by_id(&db, name).await;
        assert_eq!(from_archive, from_server, "collection {name}");
        assert_eq!(c["documents"].as_u64().unwrap(), from_server.len() as u64, "{name}");

        // metadata.json: canonical Extended JSON with index keys in order.
        let meta_text =
            std::fs::read_to_string(dbdir.join(format!("{escaped}.metadata.json"))).unwrap();
        let meta: serde_json::Value = serde_json::from_str(&meta_text).unwrap();
        assert_eq!(meta["collectionName"], name);
        let id_index =
            meta["indexes"].as_array().unwrap().iter().find(|i| i["name"] == "_id_").unwrap();
        assert_eq!(id_index["key"]["_id"], serde_json::json!({"$numberInt": "1"}), "{meta_text}");
        if name == "orders" {
            let idx = meta["indexes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["name"] == "userId_1_createdAt_-1")
                .unwrap();
            let keys: Vec<&String> = idx["key"].as_object().unwrap().keys().collect();
            assert_eq!(keys, ["userId", "createdAt"], "{meta_text}");
            assert_eq!(idx["key"]["createdAt"], serde_json::json!({"$numberInt": "-1"}));
        }
        if name == "users" {
            assert!(
                meta["indexes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|i| i["unique"] == serde_json::json!(true)),
                "{meta_text}"
            );
        }
    }
    assert!(names_seen.contains(&daraa_devdata::ESCAPED_COLLECTION.to_owned()));
    // Python's tarfile reads the same members with the same bytes as GNU tar extracted (the
    // archive is a series of gzip members, docs/archive-format.md).
    let listed = std::process::Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys,tarfile\n\
             with tarfile.open(sys.argv[1], 'r:gz') as t:\n\
             \x20for m in t.getmembers():\n\
             \x20 print(m.name, hashlib.sha256(t.extractfile(m).read()).hexdigest())",
        ])
        .arg(&archive)
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listed = String::from_utf8(listed.stdout).unwrap();
    let mut members = 0;
    for line in listed.lines() {
        let (name, sha) = line.rsplit_once(' ').unwrap();
        let on_disk = std::fs::read(out.path().join(name)).unwrap();
        assert_eq!(sha, daraa_ops::files::hex(&<sha2::Sha256 as sha2::Digest>::digest(&on_disk)));
        members += 1;
    }
    // prelude, manifest, the oplog when there is one, metadata and data of each collection.
    let oplog = usize::from(manifest["oplog"].is_object());
    // (No views in this seed: the loop above read a data file for every collection.)
    assert_eq!(members, 2 + oplog + 2 * names_seen.len(), "{listed}");
    // Named as the real mongodump 100.18.0 names it (a space is `+`).
    assert!(dbdir.join("order+events%2F2024+50%25%3F.bson").is_file());
    assert!(names_seen.iter().any(|n| n == "bsonzoo"));
    // Manifest counts match the server's counts.
    for (name, n) in &report.collections {
        let c = manifest["collections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name.as_str())
            .unwrap();
        assert_eq!(c["documents"].as_u64().unwrap(), *n, "{name}");
    }

    // The archive and its sidecar are in S3, byte-identical.
    let s3 = job.s3().await;
    let remote = s3.get_bytes(&format!("{id}.tar.gz")).await.unwrap().unwrap();
    assert_eq!(remote, std::fs::read(&archive).unwrap());
    assert!(s3.get_bytes(&format!("{id}.manifest.json")).await.unwrap().is_some());

    // list shows it complete in both places; verify passes for the id, latest and the path.
    let (code, v, _) = job.json(&["list"]);
    assert_eq!(code, 0);
    let b = &v["backups"][0];
    assert_eq!(b["id"], id);
    assert_eq!(b["complete"], true);
    assert_eq!(b["locations"], serde_json::json!(["local", "s3"]));
    assert_eq!(b["documents"].as_u64().unwrap(), report.documents);
    for target in [id.as_str(), "latest", archive.to_str().unwrap()] {
        let (code, v, stderr) = job.json(&["verify", target]);
        assert_eq!(code, 0, "{target}: {v} {stderr}");
        assert_eq!(v["totals"]["documents"].as_u64().unwrap(), report.documents);
    }

    // Last-run record in Redis.
    let mut conn = job.redis().await;
    let last: BTreeMap<String, String> = redis::cmd("HGETALL")
        .arg(format!("{0}:last:backup:{0}", job.database))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(last.get("exit_code").map(String::as_str), Some("0"), "{last:?}");
    assert!(last.contains_key("last_success_timestamp"));
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_a_flipped_byte_and_a_truncation() {
    let Some(s) = services() else { return };
    let job = Job::new("vf", &s, &opts(false, false));
    job.seed(0.01, false).await;
    let (code, v, stderr) = job.json(&["backup"]);
    assert_eq!(code, 0, "{stderr}");
    let id = v["id"].as_str().unwrap();
    let archive = job.backup_dir.join(format!("{id}.tar.gz"));
    let good = std::fs::read(&archive).unwrap();

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    std::fs::write(&archive, &flipped).unwrap();
    let (code, v, _) = job.json(&["verify", id]);
    assert_eq!(code, 6, "{v}");
    assert_eq!(v["status"], "drift");
    assert!(v["error"]["message"].as_str().unwrap().contains(&format!("{id}.tar.gz")), "{v}");

    std::fs::write(&archive, &good[..good.len() * 2 / 3]).unwrap();
    let r = job.run(&["verify", archive.to_str().unwrap()], &[]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("error: ") && r.stderr.contains("damaged")
            || r.stderr.contains("truncated"),
        "{}",
        r.stderr
    );

    std::fs::write(&archive, &good).unwrap();
    assert_eq!(job.run(&["verify", "latest"], &[]).code, 0);
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_unreachable_exits_5_and_keeps_a_verifiable_local_archive() {
    let Some(s) = services() else { return };
    let job = Job::new("s3down", &s, &opts(false, true));
    job.seed(0.01, false).await;
    let r = job
        .run(&["--output", "json", "backup"], &[("DARAA_OPS_S3_ENDPOINT", "http://127.0.0.1:1")]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["status"], "partial");
    assert!(v["upload_error"].as_str().unwrap().contains("cannot reach S3"), "{v}");
    let id = v["id"].as_str().unwrap();
    assert!(job.backup_dir.join(format!("{id}.manifest.json")).is_file());
    let r = job.run(&["verify", id], &[("DARAA_OPS_S3_ENDPOINT", "http://127.0.0.1:1")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // list still shows the local backup, and says S3 could not be read.
    let r =
        job.run(&["--output", "json", "list"], &[("DARAA_OPS_S3_ENDPOINT", "http://127.0.0.1:1")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["backups"][0]["id"], id);
    assert!(v["remote_error"].as_str().unwrap().contains("cannot reach S3"), "{v}");
    let r = job.run(&["list", "--remote"], &[("DARAA_OPS_S3_ENDPOINT", "http://127.0.0.1:1")]);
    assert_eq!(r.code, 3, "--remote alone fails honestly");
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_keep_local_false_and_verify_from_s3() {
    let Some(s) = services() else { return };
    let job = Job::new("sse", &s, &opts(false, true));
    // SSE and no local copy: the env layer sets SSE, the file keep_local.
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(
        &job.config,
        text.edit_all("  name_prefix: daraa\n", "  name_prefix: daraa\n  keep_local: false\n"),
    )
    .unwrap();
    job.seed(0.01, false).await;
    let r = job.run(&["--output", "json", "backup"], &[("DARAA_OPS_S3_SSE", "AES256")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    assert!(job.local_files().iter().all(|f| !f.contains(&id)), "{:?}", job.local_files());
    let s3 = job.s3().await;
    assert_eq!(s3.encryption_of(&format!("{id}.tar.gz")).await.unwrap().as_deref(), Some("AES256"));
    let (code, v, stderr) = job.json(&["verify", "latest"]);
    assert_eq!(code, 0, "{v} {stderr}");
    assert!(v["source"].as_str().unwrap().starts_with("s3://"), "{v}");
    job.drop_database().await;
}

/// Writes a synthetic complete backup (tiny archive + sidecar) with a given time.
fn fake_backup(dir: &std::path::Path, db: &str, time: &str) -> String {
    let t: jiff::Timestamp = time.parse().unwrap();
    let id = daraa_ops::archive::names::backup_id("daraa", db, t);
    std::fs::write(dir.join(format!("{id}.tar.gz")), b"not really an archive").unwrap();
    let sidecar = serde_json::json!({
        "format": "daraa-ops-backup", "format_version": 1, "tool_version": "t", "id": id,
        "created_at": time, "completed_at": time, "server_version": "7.0.0", "database": db,
        "collections": [], "totals": {"collections": 1, "views": 0, "documents": 5, "bytes": 100},
        "archive": {"file": format!("{id}.tar.gz"), "size": 21, "sha256": "00"}
    });
    std::fs::write(dir.join(format!("{id}.manifest.json")), sidecar.to_string()).unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_exactly_what_the_rules_say_locally_and_in_s3() {
    let Some(s) = services() else { return };
    let mut o = opts(false, true);
    o.extra = "retention: {keep_days: 30, keep_last: 2, keep_weekly: 0, keep_monthly: 2}\n".into();
    let job = Job::new("ret", &s, &o);
    std::fs::create_dir_all(&job.backup_dir).unwrap();
    let now = jiff::Timestamp::now();
    let ago = |days: i64| {
        (now - jiff::SignedDuration::from_hours(24 * days))
            .round(jiff::Unit::Second)
            .unwrap()
            .to_string()
    };
    let all: Vec<String> = [1, 20, 45, 46, 400]
        .iter()
        .map(|d| fake_backup(&job.backup_dir, &job.database, &ago(*d)))
        .collect();
    // Foreign files: never touched.
    std::fs::write(job.backup_dir.join("notes.txt"), "keep me").unwrap();
    std::fs::write(job.backup_dir.join("other-daraa-20200101T000000Z.tar.gz"), "not ours").unwrap();
    std::fs::write(
        job.backup_dir.join(format!("daraa-{}-garbage.tar.gz", job.database)),
        "not ours",
    )
    .unwrap();
    let s3 = job.s3().await;
    for f in job.local_files() {
        s3.put_bytes(&f, &std::fs::read(job.backup_dir.join(&f)).unwrap()).await.unwrap();
    }
    let before_local = job.local_files();
    let before_s3 = s3.list().await.unwrap();

    // Expected, computed independently: keep_days 30 and keep_last 2 keep the 1- and 20-day-old
    // backups; keep_monthly 2 keeps the newest backup of each of the two newest months that
    // have backups (ids sort by time; the month is the first 6 digits of the time tag).
    let month = |id: &str| id.rsplit('-').next().unwrap()[..6].to_owned();
    let mut expected: std::collections::BTreeSet<String> = all[..2].iter().cloned().collect();
    let mut months: Vec<String> = all.iter().map(|i| month(i)).collect();
    months.sort_unstable();
    months.dedup();
    for m in months.iter().rev().take(2) {
        expected.insert(all.iter().filter(|i| month(i) == *m).max().unwrap().clone());
    }

    let (code, v, stderr) = job.json(&["prune", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(job.local_files(), before_local, "dry run deleted something");
    assert_eq!(s3.list().await.unwrap(), before_s3);
    let would = v["deleted"].as_array().unwrap();
    assert_eq!(would.len(), 2 * (all.len() - expected.len()), "{would:?}");

    let (code, _, stderr) = job.json(&["prune"]);
    assert_eq!(code, 0, "{stderr}");
    let kept_ids: std::collections::BTreeSet<String> = job
        .local_files()
        .into_iter()
        .filter_map(|f| f.strip_suffix(".manifest.json").map(str::to_owned))
        .collect();
    assert_eq!(kept_ids, expected);
    assert!(
        !kept_ids.contains(&all[4]),
        "the 400-day-old backup is in neither of the two newest months"
    );
    for id in &kept_ids {
        assert!(job.local_files().contains(&format!("{id}.tar.gz")));
    }
    for f in ["notes.txt", "other-daraa-20200101T000000Z.tar.gz"] {
        assert!(job.local_files().contains(&f.to_owned()), "{f} was touched");
    }
    let remote: Vec<String> = s3.list().await.unwrap().into_iter().map(|o| o.name).collect();
    assert!(remote.contains(&"notes.txt".to_owned()));
    let remote_ids: std::collections::BTreeSet<String> =
        remote.iter().filter_map(|f| f.strip_suffix(".manifest.json").map(str::to_owned)).collect();
    assert_eq!(remote_ids, kept_ids, "S3 and local follow the same rules");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_backups_started_together_exactly_one_exits_4() {
    let Some(s) = services() else { return };
    let job = Job::new("race", &s, &opts(true, false));
    job.seed(0.3, false).await;
    let spawn = || {
        job.command(&["-q", "backup", "--no-prune"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut codes = [a.status.code().unwrap(), b.status.code().unwrap()];
    codes.sort_unstable();
    assert_eq!(
        codes,
        [0, 4],
        "{}\n{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    job.drop_database().await;
}

/// Starts a backup and waits until its staging folder exists (it is mid-dump).
#[allow(clippy::zombie_processes)] // the child is returned; callers wait on it
fn start_and_wait_mid_run(job: &Job) -> std::process::Child {
    let mut child = job
        .command(&["-q", "backup", "--no-prune"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mid = job.local_files().iter().any(|f| f.ends_with(".partial"))
            || std::fs::read_dir(&job.backup_dir).is_ok_and(|rd| {
                rd.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".staging"))
            });
        if mid {
            return child;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("backup never started writing");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_leaves_nothing_complete_and_the_next_backup_succeeds() {
    let Some(s) = services() else { return };
    for redis in [false, true] {
        let job = Job::new(if redis { "killr" } else { "killf" }, &s, &opts(redis, false));
        job.seed(0.3, false).await;
        let mut child = start_and_wait_mid_run(&job);
        child.kill().unwrap();
        child.wait().unwrap();
        let (code, v, _) = job.json(&["list"]);
        assert_eq!(code, 0);
        assert!(v["backups"].as_array().unwrap().iter().all(|b| b["complete"] == false), "{v}");
        if redis {
            // The dead run's Redis key is still there; releasing it needs --force, and the
            // next backup on this host takes it over (its pid is gone) instead of waiting.
            let (_, st, _) = job.json(&["lock", "status"]);
            assert_eq!(st["held"], true, "{st}");
            assert_eq!(
                job.run(&["lock", "release"], &[]).code,
                2,
                "release without --force is refused"
            );
        }
        // Another database's backup in the same folder may be running: its files are not ours.
        let other_partial = job.backup_dir.join("daraa-otherdb-20260101T000000Z.tar.gz.partial");
        let other_staging = job.backup_dir.join(".daraa-otherdb-20260101T000000Z.staging");
        std::fs::write(&other_partial, b"in progress").unwrap();
        std::fs::create_dir_all(&other_staging).unwrap();
        let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(redis, stderr.contains("took over the lock"), "{stderr}");
        assert!(
            other_partial.is_file() && other_staging.is_dir(),
            "another database's backup files were removed"
        );
        std::fs::remove_file(&other_partial).unwrap();
        std::fs::remove_dir(&other_staging).unwrap();
        let files = job.local_files();
        assert!(
            files.iter().all(|f| !f.ends_with(".partial") && !f.ends_with(".staging")),
            "leftovers: {files:?}"
        );
        assert_eq!(job.run(&["verify", v["id"].as_str().unwrap()], &[]).code, 0);
        job.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_cleans_up_and_exits_130() {
    let Some(s) = services() else { return };
    let job = Job::new("int", &s, &opts(true, false));
    job.seed(0.3, false).await;
    let child = start_and_wait_mid_run(&job);
    let status = std::process::Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let files = job.local_files();
    assert!(files.iter().all(|f| !f.ends_with(".partial") && !f.ends_with(".tar.gz")), "{files:?}");
    assert!(
        !std::fs::read_dir(&job.backup_dir)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".staging"))
    );
    let (code, v, _) = job.json(&["lock", "status"]);
    assert_eq!((code, v["held"].clone()), (0, serde_json::json!(false)), "lock released");
    job.drop_database().await;
}

/// `list` for people shows labels and fits an 80-column terminal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shows_labels_and_fits_80_columns() {
    let Some(s) = services() else { return };
    let job = Job::new("listw", &s, &JobOptions::default());
    job.seed(0.01, false).await;
    // (A test database's id is 11 characters longer than a typical `daraa-daraa-…` one.)
    assert_eq!(job.run(&["backup", "--no-prune", "--label", "v42"], &[]).code, 0);
    let r = job.run(&["list"], &[("COLUMNS", "80")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].contains("LABEL") && lines[0].contains("ID"), "{}", r.stdout);
    let id_line =
        lines.iter().find(|l| l.contains("v42")).unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(id_line.contains("complete") && id_line.contains(&job.database), "{}", r.stdout);
    for l in &lines {
        assert!(l.trim_end().chars().count() <= 80, "{} columns: {l:?}", l.chars().count());
    }
    job.drop_database().await;
}

/// Large documents travel in batches of about 512 KiB, small ones in `backup.batch_size`: the
/// server caps a batch at 16 MiB, not at a document count, so 1,000 GridFS-sized documents
/// per batch would hold 16 MiB per collection in flight. Read from the commands the backup
/// sends (their `batchSize`), for both containers, and the data comes back whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_documents_are_read_in_batches_of_about_half_a_mib() {
    const BIG: usize = 100 * 1024;
    let Some(s) = services() else { return };
    let job = Job::new("bkbatch", &s, &opts(false, false));
    let db = job.db().await;
    let chunks: Vec<bson::Document> = (0..24_i32)
        .map(|i| {
            let bytes: Vec<u8> = (0..BIG).map(|_| rand::random::<u8>()).collect();
            doc! {"_id": i, "n": i, "files_id": "ملف-١", "data": bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes }}
        })
        .collect();
    db.collection("attachments.chunks").insert_many(chunks).await.unwrap();
    db.collection("orders")
        .insert_many((0..3000).map(|i| doc! {"n": i, "note": "call +963 912 345 678"}))
        .await
        .unwrap();
    let sizes: Vec<usize> =
        docs_by_id(&db, "attachments.chunks").await.values().map(Vec::len).collect();
    assert!(sizes.windows(2).all(|w| w[0] == w[1]), "{sizes:?}");
    let per_batch = (512 * 1024 / sizes[0]).to_string();
    assert_eq!(per_batch, "5");
    let source = crate::support::contents(&db).await;

    for (format, target) in [("tar", "batch_tar"), ("archive", "batch_archive")] {
        let text = std::fs::read_to_string(&job.config).unwrap();
        let text = text.replace("  format: archive\n", "");
        let text = if format == "archive" {
            text.edit_all("backup:\n", "backup:\n  format: archive\n")
        } else {
            text
        };
        std::fs::write(&job.config, text).unwrap();
        let log = job.dir.path().join(format!("batches-{format}.log"));
        let r =
            job.run(&["backup", "--no-prune"], &[("DARAA_OPS_COMMAND_LOG", log.to_str().unwrap())]);
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        let sent = std::fs::read_to_string(&log).unwrap();
        // (command, batchSize) of every read of a collection.
        let reads = |collection: &str| -> Vec<(String, String)> {
            sent.lines()
                .map(|l| l.split('\t').collect::<Vec<_>>())
                .filter(|f| {
                    f.len() == 5 && f[2] == collection && matches!(f[0], "find" | "getMore")
                })
                .map(|f| (f[0].to_owned(), f[4].to_owned()))
                .collect()
        };
        // The sample of the first 16 documents (a find and getMores of two each), then the
        // dump: a find and getMores of `per_batch` each.
        let big = reads("attachments.chunks");
        let dump_at = big.iter().rposition(|(c, _)| c == "find").unwrap();
        let (sample, dump) = big.split_at(dump_at);
        // 16 documents two at a time: 8 replies (FerretDB closes the cursor one getMore late).
        assert!((8..=9).contains(&sample.len()), "{format}: {big:?}");
        assert!(sample.iter().all(|(_, b)| b == "2"), "{format}: {big:?}");
        assert_eq!(sample[0].0, "find", "{format}: {big:?}");
        assert_eq!(dump[0], ("find".into(), per_batch.clone()), "{format}: {big:?}");
        assert!(dump.len() >= 4, "{format}: {big:?}");
        assert!(
            dump[1..].iter().all(|(c, b)| c == "getMore" && *b == per_batch),
            "{format}: {big:?}"
        );
        let small = reads("orders");
        let finds: Vec<&str> =
            small.iter().filter(|(c, _)| c == "find").map(|(_, b)| b.as_str()).collect();
        assert_eq!(finds, ["2", "1000"], "{format}: {small:?}");

        let target = format!("{}_{target}", job.database);
        let r = job.run(&["restore", "latest", "--target-db", &target], &[]);
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        let client = job.client().await;
        assert_eq!(crate::support::contents(&client.database(&target)).await, source, "{format}");
        client.database(&target).drop().await.unwrap();
    }
}
