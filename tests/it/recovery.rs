//! Every multi-object update is recoverable by a rerun: `rekey`, `delete`, `import` and
//! `prune` are stopped between each pair of their writes to the storages (local and S3,
//! `DARAA_OPS_STOP_AFTER_WRITES`: the process stops itself after its Nth write and is
//! SIGKILLed there), and after each kill nothing that looks complete fails verify, then the
//! same command run again exits 0 and leaves the end state it promises.

use std::process::Stdio;
use std::time::Duration;

use bson::{Document, doc};

use crate::support::Edit as _;
use crate::support::{Ended, Job, JobOptions, secret_file, services, stop_after_write};

/// Every backup `list` calls complete verifies (with the configured keys).
fn complete_ones_verify(job: &Job, what: &str) -> Vec<String> {
    let (code, v, _) = job.json(&["list"]);
    assert_eq!(code, 0, "{what}: {v}");
    let mut ids = Vec::new();
    for b in v["backups"].as_array().unwrap() {
        if b["complete"] == true {
            let id = b["id"].as_str().unwrap();
            let (code, r, stderr) = job.json(&["verify", id]);
            assert_eq!(code, 0, "{what}: {id} looks complete but fails verify: {r} {stderr}");
            ids.push(id.to_owned());
        }
    }
    ids
}

/// Files and objects of backups (ids with this job's prefix), both storages.
async fn stored(job: &Job) -> Vec<String> {
    let mut all: Vec<String> = job
        .local_files()
        .into_iter()
        .filter(|f| f.starts_with("daraa-"))
        .map(|f| format!("local:{f}"))
        .collect();
    all.extend(job.s3().await.list().await.unwrap().into_iter().map(|o| format!("s3:{}", o.name)));
    all.sort();
    all
}

fn new_backup(job: &Job) -> String {
    // Ids are per second.
    std::thread::sleep(Duration::from_millis(1100));
    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{stderr}");
    v["id"].as_str().unwrap().to_owned()
}

async fn job_with_data(name: &str, extra: &str) -> Job {
    let s = services().unwrap();
    let job =
        Job::new(name, &s, &JobOptions { s3: true, extra: extra.into(), ..Default::default() });
    let db = job.client().await.database(&job.database);
    db.collection::<Document>("orders").insert_many((0..50).map(|i| doc! {"i": i})).await.unwrap();
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekey_killed_between_any_two_writes_is_finished_by_a_rerun() {
    if services().is_none() {
        return;
    }
    let job = job_with_data("recrekey", "").await;
    let keys: Vec<age::x25519::Identity> =
        (0..2).map(|_| age::x25519::Identity::generate()).collect();
    for (i, k) in keys.iter().enumerate() {
        secret_file(
            job.dir.path(),
            &format!("key{i}"),
            age::secrecy::ExposeSecret::expose_secret(&k.to_string()),
        );
    }
    let plain = std::fs::read_to_string(&job.config).unwrap();
    let encrypt_for = |key: Option<usize>| {
        let config = match key {
            None => plain.clone(),
            Some(k) => plain.edit_all(
                "  name_prefix: daraa\n",
                &format!(
                    "  name_prefix: daraa\n  encryption: {{recipients: [{}], identity_files: [key0, key1]}}\n",
                    keys[k].to_public()
                ),
            ),
        };
        std::fs::write(&job.config, config).unwrap();
    };
    let mut kills = 0;
    // A plaintext backup encrypted (4 writes per storage: the old file is deleted), and an
    // encrypted one rekeyed (3 writes per storage): each stopped after every write, on a new
    // backup each time.
    for (from, to) in [(None, 0), (Some(0), 1)] {
        let mut n = 1;
        loop {
            encrypt_for(from);
            let id = new_backup(&job);
            encrypt_for(Some(to));
            let ended = stop_after_write(&job, &["rekey", &id], n);
            let what = format!("rekey {from:?} -> {to} killed after write {n}");
            // (Both keys are configured: every complete backup opens.)
            let complete = complete_ones_verify(&job, &what);
            assert!(complete.contains(&id), "{what}: {complete:?}");
            let (code, v, stderr) = job.json(&["rekey", &id]);
            assert_eq!(code, 0, "{what}: rerun {v} {stderr}");
            assert_done(&job, &id, &keys[to].to_public().to_string(), &what).await;
            if let Ended::Exited(code) = ended {
                assert_eq!(code, 0, "{what}");
                break;
            }
            kills += 1;
            n += 1;
        }
    }
    assert!(kills >= 8 + 6, "only {kills} kills");
    job.drop_database().await;
}

/// The backup is encrypted for `recipient` in both storages, one archive file each, its
/// sidecar naming it with nothing pending, and it verifies.
async fn assert_done(job: &Job, id: &str, recipient: &str, what: &str) {
    let files = stored(job).await;
    for place in ["local", "s3"] {
        let archives: Vec<&String> = files
            .iter()
            .filter(|f| f.starts_with(&format!("{place}:{id}")) && !f.ends_with(".json"))
            .collect();
        assert_eq!(archives.len(), 1, "{what}: {place} holds {archives:?}");
        assert!(archives[0].ends_with(".age"), "{what}: {archives:?}");
    }
    let (code, v, _) = job.json(&["describe", id]);
    assert_eq!(code, 0, "{what}: {v}");
    let enc = &v["archive"]["encryption"]["recipients"];
    assert_eq!(enc, &serde_json::json!([recipient]), "{what}: {v}");
    assert!(v["archive"].get("replacing").is_none(), "{what}: {v}");
    let (code, v, _) = job.json(&["verify", id]);
    assert_eq!(code, 0, "{what}: {v}");
    assert_eq!(v["encryption"]["contents_checked"], true, "{what}: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_and_prune_killed_between_any_two_writes_are_finished_by_a_rerun() {
    if services().is_none() {
        return;
    }
    let job = job_with_data("recdel", "retention: {keep_days: null, keep_last: 1}\n").await;
    let mut kills = 0;
    // delete: checks, archive, sidecar in each storage; stopped after each.
    let mut n = 1;
    loop {
        let doomed = new_backup(&job);
        assert_eq!(job.json(&["verify", &doomed]).0, 0); // a checks file to delete too
        let ended = stop_after_write(&job, &["--yes", "delete", &doomed, "--force"], n);
        let what = format!("delete killed after write {n}");
        complete_ones_verify(&job, &what);
        let left = |files: Vec<String>| -> Vec<String> {
            files.into_iter().filter(|f| f.contains(&doomed)).collect()
        };
        let before = left(stored(&job).await);
        let (code, v, stderr) = job.json(&["--yes", "delete", &doomed, "--force"]);
        if before.is_empty() {
            // The killed run had deleted everything: the rerun says there is no such backup.
            assert_eq!(code, 2, "{what}: {v}");
            assert!(stderr.contains("no backup with id"), "{what}: {stderr}");
        } else {
            assert_eq!(code, 0, "{what}: rerun over {before:?}: {v} {stderr}");
        }
        let after = left(stored(&job).await);
        assert!(after.is_empty(), "{what}: {after:?}");
        if let Ended::Exited(code) = ended {
            assert_eq!(code, 0, "{what}");
            break;
        }
        kills += 1;
        n += 1;
    }
    assert!(kills >= 6, "delete: only {kills} kills (3 writes in each of 2 storages)");
    // prune: keep_last 1 deletes the older of two backups, in both storages.
    let mut kills = 0;
    let mut n = 1;
    let mut newest = new_backup(&job);
    loop {
        let older = newest.clone();
        newest = new_backup(&job);
        let ended = stop_after_write(&job, &["prune"], n);
        let what = format!("prune killed after write {n}");
        complete_ones_verify(&job, &what);
        let (code, v, stderr) = job.json(&["prune"]);
        assert_eq!(code, 0, "{what}: rerun {v} {stderr}");
        let files = stored(&job).await;
        assert!(!files.iter().any(|f| f.contains(&older)), "{what}: {files:?}");
        assert!(
            files.iter().any(|f| f == &format!("s3:{newest}.manifest.json")),
            "{what}: {files:?}"
        );
        match ended {
            Ended::Exited(code) => {
                assert_eq!(code, 0, "{what}");
                break;
            }
            Ended::Killed => kills += 1,
        }
        n += 1;
    }
    assert!(kills >= 6, "prune: only {kills} kills");
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_killed_between_any_two_writes_is_finished_by_a_rerun() {
    if services().is_none() {
        return;
    }
    let job = job_with_data("recimp", "").await;
    // A backup from elsewhere: mongodump's archive format, written by `backup --stdout`.
    let source = job.dir.path().join("elsewhere.archive.gz");
    let out = job.command(&["backup", "--stdout"]).stderr(Stdio::null()).output().unwrap();
    assert!(out.status.success());
    std::fs::write(&source, &out.stdout).unwrap();
    let mut kills = 0;
    for n in 1.. {
        let time = format!("2026-01-{n:02}T00:00:00Z");
        let args = ["import", source.to_str().unwrap(), "--time", &time, "--no-prune"];
        let ended = stop_after_write(&job, &args, n);
        let what = format!("import killed after write {n}");
        complete_ones_verify(&job, &what);
        let (code, v, stderr) = job.json(&args);
        assert_eq!(code, 0, "{what}: rerun {v} {stderr}");
        let id = v["id"].as_str().unwrap();
        let files = stored(&job).await;
        for place in ["local", "s3"] {
            assert!(files.contains(&format!("{place}:{id}.manifest.json")), "{what}: {files:?}");
            assert!(files.contains(&format!("{place}:{id}.tar.gz")), "{what}: {files:?}");
        }
        if let Ended::Exited(code) = ended {
            assert_eq!(code, 0, "{what}");
            break;
        }
        kills += 1;
    }
    assert!(kills >= 3, "import: only {kills} kills (archive and sidecar in 2 storages)");
    job.drop_database().await;
}
