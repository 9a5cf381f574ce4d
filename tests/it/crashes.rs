//! SIGKILL at 20 seeded random points of backup, restore, drill and cleanup: after each kill,
//! nothing that looks complete is incomplete, live data is whole, and the next run recovers.

use std::process::Stdio;
use std::time::{Duration, Instant};

use bson::{Document, doc};

use crate::support::{Job, JobOptions, contents, services};

const ROUNDS: usize = 20;

/// xorshift64: the kill points are the same on every run.
struct Points(u64);

impl Points {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Runs the command and SIGKILLs it after `delay` (if it is still running then).
fn kill_after(job: &Job, args: &[&str], delay: Duration) -> bool {
    let mut child = job.command(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let t0 = Instant::now();
    while t0.elapsed() < delay {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    running
}

/// After killed backups, the next one succeeds, removes their staging folders and partial
/// files, and verifies.
fn next_backup_cleans_up(job: &Job) {
    assert_eq!(job.run(&["backup", "--no-prune"], &[]).code, 0);
    let leftovers: Vec<String> = job
        .local_files()
        .into_iter()
        .filter(|f| f.ends_with(".staging") || f.ends_with(".partial") || f.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(job.json(&["verify", "latest"]).0, 0);
}

fn timed(job: &Job, args: &[&str]) -> Duration {
    let t0 = Instant::now();
    let r = job.run(args, &[]);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    t0.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_killed_at_20_points_never_leaves_a_complete_looking_bad_archive() {
    let Some(s) = services() else { return };
    let job = Job::new("crashbk", &s, &JobOptions::default());
    job.seed(0.01, false).await;
    // The shorter of two runs (the first one warms caches), and kills within 0.9 of it: a kill
    // after the run ended tests nothing.
    let full = timed(&job, &["backup", "--no-prune"]).min(timed(&job, &["backup", "--no-prune"]));
    let mut points = Points(0xB4C7_0001);
    let mut killed = 0;
    let mut verified = 0;
    for round in 0..ROUNDS {
        let delay = Duration::from_millis(points.below(full.as_millis() as u64 * 9 / 10));
        killed += usize::from(kill_after(&job, &["backup", "--no-prune"], delay));
        // Every backup `list` calls complete verifies. (`status` names the storage, e.g.
        // `local: complete`; `complete` is the flag.)
        let (code, v, _) = job.json(&["list", "--local"]);
        assert_eq!(code, 0);
        for b in v["backups"].as_array().unwrap() {
            if b["complete"] == true {
                verified += 1;
                let id = b["id"].as_str().unwrap();
                let (code, v, _) = job.json(&["verify", id]);
                assert_eq!(code, 0, "round {round}: {id} looks complete but fails verify: {v}");
            }
        }
    }
    assert!(killed >= ROUNDS / 2, "only {killed} kills landed while the backup ran");
    assert!(verified >= ROUNDS, "complete backups were not verified ({verified})");
    // The file lock went with the killed process: the next run works and cleans up.
    next_backup_cleans_up(&job);
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_lock_of_a_killed_backup_is_recoverable() {
    let Some(s) = services() else { return };
    let job = Job::new("crashlock", &s, &JobOptions { redis: true, ..Default::default() });
    job.seed(0.05, false).await;
    let mut child =
        job.command(&["backup"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Kill as soon as the lock is taken (the dump takes seconds after that).
    let t0 = Instant::now();
    loop {
        let (_, v, _) = job.json(&["lock", "status"]);
        if v["held"] == true {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "the backup never took the lock");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The killed run's Redis key stays (nobody released it), but its holder's process is gone
    // from this host: the next run takes the lock over at once, saying so, instead of
    // exiting 4 until the TTL runs out.
    let (_, v, _) = job.json(&["lock", "status"]);
    assert_eq!(v["held"], true, "{v}");
    let r = job.run(&["backup"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("took over the lock"), "{}", r.stderr);
    let (_, v, _) = job.json(&["lock", "status"]);
    assert_eq!(v["held"], false, "{v}");
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_killed_at_20_points_keeps_every_collection_whole() {
    let Some(s) = services() else { return };
    let job = Job::new("crashrs", &s, &JobOptions::default());
    job.seed(0.01, false).await;
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    let client = job.client().await;
    let db = client.database(&job.database);
    let a = contents(&db).await;
    // The live data moves on after the backup: more orders, fewer users.
    db.collection::<Document>("orders")
        .insert_many((0..50).map(|i| doc! {"late": i}))
        .await
        .unwrap();
    db.collection::<Document>("users").delete_many(doc! {}).await.unwrap();
    db.collection::<Document>("users").insert_one(doc! {"only": 1}).await.unwrap();
    let l = contents(&db).await;
    let full = timed(&job, &["--yes", "restore", "latest", "--drop"]);
    // Back to the moved-on state for the kill rounds.
    for (name, docs) in &l {
        let c = db.collection::<bson::RawDocumentBuf>(name);
        c.delete_many(doc! {}).await.unwrap();
        let raw: Vec<bson::RawDocumentBuf> =
            docs.values().map(|b| bson::RawDocumentBuf::from_bytes(b.clone()).unwrap()).collect();
        if !raw.is_empty() {
            c.insert_many(raw).await.unwrap();
        }
    }
    let mut points = Points(0x2E57_0002);
    for round in 0..ROUNDS {
        let delay = Duration::from_millis(points.below(full.as_millis() as u64 * 6 / 5));
        kill_after(&job, &["--yes", "restore", "latest", "--drop"], delay);
        // Each collection is the old or the new version, or (killed between the two renames
        // of its swap) set aside whole under a temporary name the next run renames back.
        let now = contents(&db).await;
        for (name, old) in &l {
            let version = now.get(name).or_else(|| {
                now.iter()
                    .find(|(n, _)| {
                        n.starts_with("daraa_restore_") && n.ends_with(&format!("_old_{name}"))
                    })
                    .map(|(_, d)| d)
            });
            let version = version.unwrap_or_else(|| panic!("round {round}: {name} is gone"));
            assert!(
                version == old || Some(version) == a.get(name),
                "round {round}: {name} is neither version"
            );
        }
    }
    assert_eq!(job.run(&["--yes", "restore", "latest", "--drop"], &[]).code, 0);
    let mut end = contents(&db).await;
    // A run killed between its swap's second rename and the drop leaves what it replaced set
    // aside while the name holds the restored data: recovery keeps it (it may be the only
    // copy, if a writer had recreated the name) and says so. It must be whole: the version
    // before the kill rounds, or one an earlier killed round had restored.
    let kept: Vec<String> = end
        .keys()
        .filter(|n| n.starts_with("daraa_restore_") && n.contains("_old_"))
        .cloned()
        .collect();
    for name in kept {
        let data = end.remove(&name).unwrap();
        let orig = name.split("_old_").nth(1).unwrap();
        assert!(
            Some(&data) == l.get(orig) || Some(&data) == a.get(orig),
            "{name} is neither version of {orig}"
        );
    }
    assert_eq!(end, a, "a completed restore after the kills gives the backup's data");
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_killed_at_20_points_leaves_no_scratch_database_after_the_next_run() {
    let Some(s) = services() else { return };
    let job = Job::new("crashdr", &s, &JobOptions::default());
    job.seed(0.005, false).await;
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    let full = timed(&job, &["drill"]);
    let client = job.client().await;
    let scratch = |names: Vec<String>| -> Vec<String> {
        names.into_iter().filter(|n| n.starts_with(&format!("{}_drill", job.database))).collect()
    };
    let mut points = Points(0xD811_0003);
    for _ in 0..ROUNDS {
        let delay = Duration::from_millis(points.below(full.as_millis() as u64 * 6 / 5));
        kill_after(&job, &["drill"], delay);
        // At most the killed run's own scratch database is left.
        let left = scratch(client.list_database_names().await.unwrap());
        assert!(left.len() <= 1, "{left:?}");
    }
    let (code, v, _) = job.json(&["drill"]);
    assert_eq!(code, 0, "{v}");
    assert!(scratch(client.list_database_names().await.unwrap()).is_empty());
    job.drop_database().await;
}

/// `backup.format: archive`, to a local file and streamed straight to S3: a SIGKILL at 10
/// seeded points each never leaves a complete-looking backup that fails verify, locally or in
/// S3; the streaming one never leaves a local file; the next run works and cleans up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_format_backups_killed_at_seeded_points_never_look_complete() {
    let Some(s) = services() else { return };
    let job = Job::new("crashstream", &s, &JobOptions { s3: true, ..Default::default() });
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(&job.config, text.replace("backup:\n", "backup:\n  format: archive\n")).unwrap();
    job.seed(0.01, true).await;
    let mut points = Points(0xA2C4_0001);
    for keep_local in [true, false] {
        let text = std::fs::read_to_string(&job.config).unwrap();
        let text = text.replace("  keep_local: true\n", "").replace("  keep_local: false\n", "");
        std::fs::write(
            &job.config,
            text.replace("backup:\n", &format!("backup:\n  keep_local: {keep_local}\n")),
        )
        .unwrap();
        let full = timed(&job, &["backup", "--no-prune"]);
        let mut killed = 0;
        for round in 0..ROUNDS / 2 {
            // Within the run (a kill after it ended tests nothing), measured once per mode.
            let delay = Duration::from_millis(points.below(full.as_millis() as u64 * 9 / 10));
            killed += usize::from(kill_after(&job, &["backup", "--no-prune"], delay));
            let (code, v, _) = job.json(&["list"]);
            assert_eq!(code, 0);
            for b in v["backups"].as_array().unwrap() {
                if b["complete"] == true {
                    let id = b["id"].as_str().unwrap();
                    let (code, v, _) = job.json(&["verify", id]);
                    assert_eq!(code, 0, "round {round}: {id} looks complete but fails verify: {v}");
                }
            }
            if !keep_local {
                let local: Vec<String> = job
                    .local_files()
                    .into_iter()
                    .filter(|f| {
                        !f.ends_with(".lock")
                            && !f.contains(".archive.gz")
                            && !f.ends_with(".manifest.json")
                            // verify's results beside the earlier (local) backups
                            && !f.ends_with(".checks.json")
                    })
                    .collect();
                assert!(local.is_empty(), "round {round}: a streaming backup left {local:?}");
            }
        }
        assert!(killed >= 3, "only {killed} kills landed while the backup ran");
        next_backup_cleans_up(&job);
    }
    job.drop_database().await;
}
