//! SIGKILL at 20 seeded random points of backup, restore, drill and cleanup: after each kill,
//! nothing that looks complete is incomplete, live data is whole, and the next run recovers.

use std::process::Stdio;
use std::time::{Duration, Instant};

use bson::{Document, doc};

use crate::support::Edit as _;
use crate::support::{Job, JobOptions, contents, services, settled_contents};

type Docs = std::collections::BTreeMap<String, Vec<u8>>;
type Contents = std::collections::BTreeMap<String, Docs>;

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

/// Runs the command and SIGKILLs it the moment it has sent its `nth` command named `command`
/// (`*`: any command; counted in its command log), so the kill lands while that command is on its way. Returns
/// whether it was still running then, and the commands it had sent (name, database,
/// collection), for the failure message.
fn kill_at_command(job: &Job, args: &[&str], command: &str, nth: usize) -> (bool, Vec<String>) {
    kill_at_command_after(job, args, command, nth, Duration::ZERO)
}

/// [`kill_at_command`], `wait` after the command started (time for its bytes to leave).
fn kill_at_command_after(
    job: &Job,
    args: &[&str],
    command: &str,
    nth: usize,
    wait: Duration,
) -> (bool, Vec<String>) {
    let log = job.dir.path().join("kill-commands.log");
    let _ = std::fs::remove_file(&log);
    let mut child = job
        .command(args)
        .env("DARAA_OPS_COMMAND_LOG", &log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let sent = || std::fs::read_to_string(&log).unwrap_or_default();
    let landed = loop {
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        let counted = sent()
            .lines()
            .filter(|l| command == "*" || l.split('\t').next() == Some(command))
            .count();
        if counted >= nth {
            std::thread::sleep(wait);
            break true;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "{args:?} never sent {command} #{nth}");
        std::thread::sleep(Duration::from_micros(200));
    };
    let _ = child.kill();
    child.wait().unwrap();
    (landed, sent().lines().map(str::to_owned).collect())
}

/// How many MongoDB commands a complete run of `args` sends (it must exit 0).
fn commands_of(job: &Job, args: &[&str]) -> usize {
    let log = job.dir.path().join("full-commands.log");
    let _ = std::fs::remove_file(&log);
    let r = job.run(args, &[("DARAA_OPS_COMMAND_LOG", log.to_str().unwrap())]);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    std::fs::read_to_string(&log).unwrap().lines().count()
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
    // Half the rounds kill at a seeded command of the dump (they land whatever the machine's
    // load), half at a seeded time up to 1.2 times a run (they also reach the archive writing
    // after the last command, when they land).
    let total = commands_of(&job, &["backup", "--no-prune"]);
    std::thread::sleep(Duration::from_millis(1100));
    let full = timed(&job, &["backup", "--no-prune"]);
    let mut points = Points(0xB4C7_0001);
    let mut by_command = 0;
    let mut killed = 0;
    let mut verified = 0;
    let complete = || -> Vec<String> {
        let (code, v, _) = job.json(&["list", "--local"]);
        assert_eq!(code, 0);
        // (`status` names the storage, e.g. `local: complete`; `complete` is the flag.)
        v["backups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["complete"] == true)
            .map(|b| b["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // (Two warm-up runs in one second share an id.)
    let warm_up = complete();
    assert!(!warm_up.is_empty(), "{warm_up:?}");
    let mut seen = warm_up.clone();
    for round in 0..ROUNDS {
        let started = Instant::now();
        let landed = if round % 2 == 0 {
            let k = 1 + points.below(total as u64 * 9 / 10) as usize;
            let hit = kill_at_command(&job, &["backup", "--no-prune"], "*", k).0;
            by_command += usize::from(hit);
            hit
        } else {
            let delay = Duration::from_millis(points.below(full.as_millis() as u64 * 6 / 5));
            kill_after(&job, &["backup", "--no-prune"], delay)
        };
        killed += usize::from(landed);
        // Every backup the round left complete verifies.
        let new: Vec<String> = complete().into_iter().filter(|id| !seen.contains(id)).collect();
        for id in new {
            let (code, v, _) = job.json(&["verify", &id]);
            assert_eq!(code, 0, "round {round}: {id} looks complete but fails verify: {v}");
            verified += 1;
            seen.push(id);
        }
        // Ids are per second: the next round starts in another second, so a run that
        // finished always leaves a backup of its own.
        std::thread::sleep(Duration::from_secs(1).saturating_sub(started.elapsed()));
    }
    assert!(by_command >= ROUNDS / 2 - 1, "only {by_command} command kills landed");
    // The rounds whose run was not killed (it ended first) made complete backups, verified
    // above; the warm-up backups are not counted.
    assert!(verified + killed >= ROUNDS, "{verified} verified, {killed} killed of {ROUNDS}");
    assert!(verified >= 1 || killed == ROUNDS, "no backup of the rounds was verified");
    // The file lock went with the killed process: the next run works and cleans up.
    next_backup_cleans_up(&job);
    job.drop_database().await;
}

/// Each collection as the restore's recovery leaves it, read (settled) after a kill: the live
/// name's contents, except where the run's journal says the live name is being refilled from
/// a whole copy set aside (the copy is what counts), or that it is a collection loaded in
/// place that did not exist before (absent), or where a rename set the live collection aside
/// and the name is free (the aside copy, renamed back by the next run).
async fn as_recovered(db: &mongodb::Database) -> (Contents, Contents) {
    let now = settled_contents(db).await;
    let mut out: Contents = now
        .iter()
        .filter(|(n, _)| !n.starts_with("daraa_restore_"))
        .map(|(n, d)| (n.clone(), d.clone()))
        .collect();
    for (name, entries) in now.iter().filter(|(n, _)| n.ends_with("_journal")) {
        let token = name.trim_start_matches("daraa_restore_").trim_end_matches("_journal");
        for raw in entries.values() {
            let e = bson::Document::from_reader(&mut raw.as_slice()).unwrap();
            let (live, mode, phase) = (
                e.get_str("_id").unwrap(),
                e.get_str("mode").unwrap(),
                e.get_str("phase").unwrap(),
            );
            match (mode, phase) {
                ("copy", "replacing") => {
                    let aside = format!("daraa_restore_{token}_old_{live}");
                    let copy = now.get(&aside).unwrap_or_else(|| panic!("{aside} is gone"));
                    out.insert(live.to_owned(), copy.clone());
                }
                ("in-place", "loading") => {
                    out.remove(live);
                }
                _ => {}
            }
        }
    }
    for (name, docs) in &now {
        if let Some(live) = name.split_once("_old_").map(|(_, l)| l)
            && !now.contains_key(live)
            && !out.contains_key(live)
        {
            out.insert(live.to_owned(), docs.clone());
        }
    }
    (out, now)
}

/// Every collection of `before` is whole in `state`: either version, nothing third.
fn each_whole(state: &Contents, old: &Contents, new: &Contents, what: &str) {
    for (name, o) in old {
        let version = state.get(name).unwrap_or_else(|| panic!("{what}: {name} is gone"));
        assert!(
            version == o || Some(version) == new.get(name),
            "{what}: {name} is neither version ({} documents; old {}, new {})",
            version.len(),
            o.len(),
            new.get(name).map_or(0, std::collections::BTreeMap::len)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_killed_at_20_points_keeps_every_collection_whole() {
    let Some(s) = services() else { return };
    let job = Job::new("crashrs", &s, &JobOptions::default());
    job.seed(0.01, false).await;
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    let db = job.db().await;
    let a = contents(&db).await;
    // The seed has GridFS and other dotted names: FerretDB cannot rename them, so their
    // swap copies, journalled.
    assert!(a.keys().filter(|n| n.contains('.')).count() >= 4, "{:?}", a.keys());
    // The live data moves on after the backup: more orders, fewer users, another file.
    db.collection::<Document>("orders")
        .insert_many((0..50).map(|i| doc! {"late": i}))
        .await
        .unwrap();
    db.collection::<Document>("users").delete_many(doc! {}).await.unwrap();
    db.collection::<Document>("users").insert_one(doc! {"only": 1}).await.unwrap();
    db.collection::<Document>("fs.files")
        .insert_one(doc! {"filename": "late.pdf", "length": 0_i64})
        .await
        .unwrap();
    let l = contents(&db).await;
    let reset = || async {
        for (name, docs) in &l {
            let c = db.collection::<bson::RawDocumentBuf>(name);
            c.delete_many(doc! {}).await.unwrap();
            let raw: Vec<bson::RawDocumentBuf> = docs
                .values()
                .map(|b| bson::RawDocumentBuf::from_bytes(b.clone()).unwrap())
                .collect();
            if !raw.is_empty() {
                c.insert_many(raw).await.unwrap();
            }
        }
    };
    let args = ["--yes", "restore", "latest", "--drop"];
    // Kill points are commands, not times: a run of the moved-on state sends `total` commands,
    // and each round kills at a seeded one of them, so every kill lands mid-run however busy
    // the machine is. State carries from round to round (each run first recovers what the
    // last one left).
    let total = commands_of(&job, &args);
    reset().await;
    let mut points = Points(0x2E57_0002);
    let mut landed = 0;
    for round in 0..ROUNDS {
        let k = 1 + points.below(total as u64 * 9 / 10) as usize;
        let (hit, sent) = kill_at_command(&job, &args, "*", k);
        landed += usize::from(hit);
        let (state, _) = as_recovered(&db).await;
        let last = sent.last().cloned().unwrap_or_default();
        each_whole(&state, &l, &a, &format!("round {round} (killed at command {k}: {last})"));
    }
    assert!(landed >= ROUNDS - 1, "only {landed} of {ROUNDS} kills landed during the restore");
    // Kills at the swap's own steps, from the moved-on state each time: the moment a rename,
    // a journal step (the copies of dotted names), a drop or a copy's insert is on its way.
    let mut at_swap = 0;
    // (Counted from the start of a run with nothing to recover: renames 1 and 2 and drops 1
    // to 4 are the probes on scratch collections; each dotted collection's copy journals
    // three steps, `loading`, `replacing`, `done`, after the swap's first update.)
    assert_eq!(job.run(&args, &[]).code, 0);
    for (command, nth) in [
        ("renameCollection", 3),
        ("renameCollection", 4),
        ("renameCollection", 8),
        ("update", 1),
        ("update", 3),
        ("update", 6),
        ("drop", 10),
        ("drop", 13),
        ("delete", 1),
    ] {
        reset().await;
        let (hit, sent) = kill_at_command(&job, &args, command, nth);
        at_swap += usize::from(hit);
        let (state, raw) = as_recovered(&db).await;
        let tail: Vec<&String> = sent.iter().rev().take(6).collect();
        let what = format!(
            "killed at {command} #{nth} (last sent {tail:?}; server holds {:?})",
            raw.keys()
        );
        each_whole(&state, &l, &a, &what);
        // The next run recovers and completes.
        assert_eq!(job.run(&args, &[]).code, 0, "{what}");
        let (after, _) = as_recovered(&db).await;
        assert_eq!(after, a, "{what}: the restore after the kill gives the backup's data");
    }
    assert!(at_swap >= 6, "only {at_swap} of the swap's kills landed");
    reset().await;
    assert_eq!(job.run(&args, &[]).code, 0);
    let mut end = settled_contents(&db).await;
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

/// Why the reads above settle first: a command sent by a process that is killed right after
/// still runs on the server, later. Through a proxy that holds the restore's commands for
/// 100 ms, the kill lands while the swap's first rename is on its way: just after the kill the live
/// collection is still there, then the dead process's rename moves it aside. One naive read
/// straddling that moment lists the collection and reads it empty (what the crash test once
/// saw: "commissions is neither version"); the settled read sees the state the server has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_s_last_command_runs_after_it_died() {
    let Some(s) = services() else { return };
    let job = Job::new("crashlate", &s, &JobOptions::default());
    let db = job.db().await;
    db.collection::<Document>("orders").insert_many((0..20).map(|i| doc! {"i": i})).await.unwrap();
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    let target: u16 =
        s.mongo_uri.rsplit(':').next().unwrap().split(['/', '?']).next().unwrap().parse().unwrap();
    let proxy = crate::faults::Proxy::start_delayed(
        target,
        Duration::from_millis(100),
        b"renameCollection",
    );
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(&job.config, text.edit_all(&format!(":{target}"), &format!(":{}", proxy.port)))
        .unwrap();
    // Renames 1 and 2 are the probes on scratch collections; 3 moves `orders` aside. The kill
    // lands while the proxy holds that command.
    let mut child = job
        .command(&["--yes", "restore", "latest", "--drop"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while proxy.shared.watched.load(std::sync::atomic::Ordering::SeqCst) < 3 {
        assert!(child.try_wait().unwrap().is_none(), "the restore ended before its swap");
        assert!(t0.elapsed() < Duration::from_secs(60), "no swap within a minute");
        std::thread::sleep(Duration::from_micros(200));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let just_after = db.list_collection_names().await.unwrap();
    assert!(just_after.iter().any(|n| n == "orders"), "{just_after:?}");
    let settled = settled_contents(&db).await;
    assert!(
        !settled.contains_key("orders"),
        "the dead process's rename never ran: {:?}",
        settled.keys()
    );
    let aside = settled.iter().find(|(n, _)| n.ends_with("_old_orders")).expect("set aside");
    assert_eq!(aside.1.len(), 20, "set aside whole");
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_killed_at_20_points_leaves_no_scratch_database_after_the_next_run() {
    let Some(s) = services() else { return };
    let job = Job::new("crashdr", &s, &JobOptions::default());
    job.seed(0.005, false).await;
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    // Kill points are seeded commands of a complete drill (every kill lands mid-run).
    let total = commands_of(&job, &["drill"]);
    let client = job.client().await;
    let live = client.database(&job.database);
    let before = contents(&live).await;
    let scratch_name = format!("{}_drill", job.database);
    let mut points = Points(0xD811_0003);
    let mut landed = 0;
    let mut left_behind = 0;
    for round in 0..ROUNDS {
        let k = 1 + points.below(total as u64 * 9 / 10) as usize;
        landed += usize::from(kill_at_command(&job, &["drill"], "*", k).0);
        // A drill never writes the live database, killed or not.
        assert!(
            settled_contents(&live).await == before,
            "round {round}: the live database changed"
        );
        // What a killed drill may leave is its scratch database, nothing else by that prefix.
        let names = client.list_database_names().await.unwrap();
        let left: Vec<&String> =
            names.iter().filter(|n| n.starts_with(&scratch_name) && **n != scratch_name).collect();
        assert!(left.is_empty(), "round {round}: {left:?}");
        left_behind += usize::from(names.contains(&scratch_name));
    }
    assert!(landed >= ROUNDS - 1, "only {landed} of {ROUNDS} kills landed during the drill");
    assert!(left_behind >= 1, "no kill left a scratch database: the kills missed the restore");
    // The next drill drops what the last killed one left, passes, and drops its own.
    let (code, v, _) = job.json(&["drill"]);
    assert_eq!(code, 0, "{v}");
    assert!(!client.list_database_names().await.unwrap().contains(&scratch_name));
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
    std::fs::write(&job.config, text.edit_all("backup:\n", "backup:\n  format: archive\n"))
        .unwrap();
    job.seed(0.01, true).await;
    let mut points = Points(0xA2C4_0001);
    for keep_local in [true, false] {
        let text = std::fs::read_to_string(&job.config).unwrap();
        let text = text.replace("  keep_local: true\n", "").replace("  keep_local: false\n", "");
        std::fs::write(
            &job.config,
            text.edit_all("backup:\n", &format!("backup:\n  keep_local: {keep_local}\n")),
        )
        .unwrap();
        let full = timed(&job, &["backup", "--no-prune"]);
        std::thread::sleep(Duration::from_millis(1100));
        let total = commands_of(&job, &["backup", "--no-prune"]);
        let mut killed = 0;
        for round in 0..ROUNDS / 2 {
            // At a seeded command of the dump (lands whatever the load), or at a seeded time
            // within a run measured once per mode (reaches the end of the stream too).
            killed += usize::from(if round % 2 == 0 {
                let k = 1 + points.below(total as u64 * 9 / 10) as usize;
                kill_at_command(&job, &["backup", "--no-prune"], "*", k).0
            } else {
                let delay = Duration::from_millis(points.below(full.as_millis() as u64 * 9 / 10));
                kill_after(&job, &["backup", "--no-prune"], delay)
            });
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
