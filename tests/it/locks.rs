//! The job lock, every test of it in one place: a held lock gives exit 4 naming its holder;
//! the Redis lock is renewed while held and released only by its owner; a Redis that goes
//! away while the lock is held stops the job; a killed backup's lock is recoverable and an
//! interrupted one leaves none; a holder in another PID namespace (a container with the same
//! host name, its own volume, the same Redis) is never declared dead and robbed of its lock;
//! a killed holder that is still a zombie, or whose pid now belongs to another process, is
//! not the holder (docs/operations.md, "The job lock").

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bson::{Document, doc};

use crate::faults::{Proxy, port_of};
use crate::first_hour::{leftovers, signal, wait_for_staging};
use crate::support::Edit as _;
use crate::support::{Job, JobOptions, services};

/// Waits until `lock status` says the lock is held; returns the holder's JSON.
fn wait_held(job: &Job) -> serde_json::Value {
    let t0 = Instant::now();
    loop {
        let (_, v, _) = job.json(&["lock", "status"]);
        if v["held"] == true {
            return v;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "the lock was never taken: {v}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn slow_job(name: &str) -> Job {
    let s = services().unwrap();
    let job = Job::new(name, &s, &JobOptions { redis: true, ..Default::default() });
    let db = job.client().await.database(&job.database);
    // Enough to keep a backup busy for a few seconds.
    for chunk in 0..8 {
        db.collection::<Document>("orders")
            .insert_many((0..5000).map(|i| doc! {"i": chunk * 5000 + i, "pad": "x".repeat(400)}))
            .await
            .unwrap();
    }
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_in_another_pid_namespace_keeps_its_lock() {
    if services().is_none() {
        return;
    }
    let job = slow_job("lockns").await;
    // The other "container": same host name, same Redis key, another backup volume (so the
    // file lock does not meet), its own PID namespace. Its daraa-ops runs as a pid this host
    // has no process for: the old rule (host name + /proc/<pid>) would call it dead.
    let other = job.dir.path().join("other.yaml");
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(&other, text.edit_all("  dir: backups\n", "  dir: other-volume\n")).unwrap();
    let absent = |p: u32| !std::path::Path::new(&format!("/proc/{p}")).exists();
    let pid = (3000..20_000).find(|p| (*p..p + 3).all(absent)).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("daraa-ops");
    // pid 1 is the shell; pids up to about `pid` go to `true`, then daraa-ops.
    let script = format!(
        "for ((i = 2; i < {pid}; i++)); do /bin/true; done; '{}' --config '{}' backup --no-prune; exit $?",
        bin.display(),
        other.display()
    );
    let inner = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "bash", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_held(&job);
    let holder = status["locks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["held"] == true)
        .map(|l| l["holder"].clone())
        .unwrap();
    let held_by = u32::try_from(holder["pid"].as_u64().unwrap()).unwrap();
    assert!((pid..pid + 3).contains(&held_by), "{holder}");
    assert!(absent(held_by), "host pid {held_by} exists: {holder}");
    let ours = std::fs::read_link("/proc/self/ns/pid").unwrap();
    assert_ne!(holder["pid_ns"].as_str(), ours.to_str(), "{holder}");
    // From this namespace, the lock is someone else's: exit 4, never taken over.
    let r = job.run(&["backup", "--no-prune"], &[]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(!r.stderr.contains("took over"), "{}", r.stderr);
    let inner = inner.wait_with_output().unwrap();
    assert!(inner.status.success(), "{}", String::from_utf8_lossy(&inner.stderr));
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_holder_that_is_still_a_zombie_is_not_the_holder() {
    if services().is_none() {
        return;
    }
    let job = slow_job("lockzombie").await;
    let mut child = job
        .command(&["backup", "--no-prune"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_held(&job);
    // SIGKILL without reaping: the process stays a zombie (state Z) while this test, its
    // parent, does not wait for it.
    Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
    let t0 = Instant::now();
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap();
        if stat.rsplit(')').next().unwrap().trim_start().starts_with('Z') {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "never a zombie: {stat}");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (_, v, _) = job.json(&["lock", "status"]);
    assert_eq!(v["held"], true, "the killed run's Redis key is still there: {v}");
    // The next run takes the lock over at once: the zombie holds nothing.
    let r = job.run(&["backup", "--no-prune"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("took over the lock"), "{}", r.stderr);
    child.wait().unwrap();
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_gives_exit_4_naming_the_holder() {
    let Some(s) = services() else { return };
    for redis in [false, true] {
        let job = Job::new(
            if redis { "lockr" } else { "lockf" },
            &s,
            &JobOptions { redis, ..JobOptions::default() },
        );
        job.seed(0.005, false).await;
        // Hold the lock from this test, as another run would.
        let cfg = daraa_ops::config::load(
            Some(&job.config),
            &std::collections::HashMap::<String, String>::new(),
        )
        .unwrap()
        .config;
        let backend =
            daraa_ops::lock::backends(&cfg, &cfg.mongodb.database).await.unwrap().pop().unwrap();
        let cancel = tokio_util::sync::CancellationToken::new();
        let guard = daraa_ops::lock::acquire(backend, "backup", Duration::from_secs(30), &cancel)
            .await
            .unwrap();
        let (code, v, _) = job.json(&["backup"]);
        assert_eq!(code, 4, "{v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())) && msg.contains("backup on"),
            "{msg}"
        );
        let (code, v, _) = job.json(&["lock", "status"]);
        assert_eq!(code, 0);
        assert_eq!(v["held"], true);
        guard.release().await;
        let (code, v, _) = job.json(&["lock", "status"]);
        assert_eq!((code, v["held"].clone()), (0, serde_json::json!(false)));
        assert_eq!(job.run(&["backup"], &[]).code, 0);
        job.drop_database().await;
    }
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
async fn redis_gone_while_the_lock_is_held_stops_the_job() {
    let Some(s) = services() else { return };
    let job = Job::new(
        "faultredis",
        &s,
        &JobOptions {
            redis: true,
            extra: "lock: {ttl: 10s}\ncleanup:\n  batch_size: 2\n  sleep_between_batches: 50ms\n  rules:\n    - {name: old, collection: events, age_field: at, older_than: 1d, action: delete}\n".into(),
            ..Default::default()
        },
    );
    let db = job.client().await.database(&job.database);
    let old =
        bson::DateTime::from_millis(bson::DateTime::now().timestamp_millis() - 10 * 86_400_000);
    db.collection::<Document>("events")
        .insert_many((0..1000).map(|i| doc! {"i": i, "at": old}))
        .await
        .unwrap();
    let proxy = Proxy::start(port_of(&s.redis_url_no_auth), u64::MAX, u64::MAX);
    let direct = format!("127.0.0.1:{}", port_of(&s.redis_url_no_auth));
    job.edit_config(&direct, &format!("127.0.0.1:{}", proxy.port));
    let t0 = Instant::now();
    let child = job
        .command(&["cleanup"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Cut once the job holds the lock (through the proxy) and has started deleting.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, v, _) = job.json(&["lock", "status"]);
        if v["held"] == true {
            break;
        }
        assert!(Instant::now() < deadline, "the cleanup never took the lock: {v}");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    proxy.cut();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A lost dependency, not an interruption: exit 3 naming the lock and Redis.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let error = stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_default();
    assert!(
        error.contains(&format!("lost the lock {}", job.database)) && error.contains("Redis"),
        "{stderr}"
    );
    assert!(!stderr.contains("interrupted"), "{stderr}");
    assert!(t0.elapsed() < Duration::from_secs(40), "stopped only after {:?}", t0.elapsed());
    let left = db.collection::<Document>("events").count_documents(doc! {}).await.unwrap();
    assert!(left > 0, "the job ran to the end without its lock");
    // Redis back: the lock has expired, the next run finishes the work.
    job.edit_config(&format!("127.0.0.1:{}", proxy.port), &direct);
    let r = job.run(&["cleanup"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(db.collection::<Document>("events").count_documents(doc! {}).await.unwrap(), 0);
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_backups_leave_no_lock_and_no_files() {
    let Some(s) = services() else { return };
    let job = Job::new(
        "sig",
        &s,
        &JobOptions { redis: true, extra: String::new(), ..Default::default() },
    );
    job.seed(0.05, false).await;
    // GNU timeout delivers its signal twice at seeded points of the run: one request.
    for ms in [150, 400, 700, 1000, 1500] {
        let mut cmd = std::process::Command::new("timeout");
        cmd.args(["--preserve-status", "-s", "INT", &format!("{}s", f64::from(ms) / 1000.0)])
            .arg(assert_cmd::cargo::cargo_bin("daraa-ops"))
            .args(["--config", job.config.to_str().unwrap(), "backup", "--no-prune"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let out = cmd.output().unwrap();
        let code = out.status.code();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(matches!(code, Some(0 | 130)), "{ms} ms: {code:?} {stderr}");
        assert!(!stderr.contains("interrupted: interrupted"), "{stderr}");
        assert!(leftovers(&job.backup_dir).is_empty(), "{ms} ms: {:?}", leftovers(&job.backup_dir));
        let (_, status, _) = job.json(&["lock", "status"]);
        assert_eq!(status["held"], false, "{ms} ms: {status}");
    }
    // A real second Ctrl-C (more than a second later) exits at once, and still releases the
    // Redis lock and removes the run's own files.
    let mut child = job
        .command(&["backup", "--no-prune"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_staging(&job.backup_dir, &mut child);
    signal(&child, "-STOP");
    signal(&child, "-INT");
    signal(&child, "-CONT");
    std::thread::sleep(Duration::from_millis(1200));
    if child.try_wait().unwrap().is_none() {
        signal(&child, "-INT");
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(leftovers(&job.backup_dir).is_empty(), "{:?}", leftovers(&job.backup_dir));
    let (_, status, _) = job.json(&["lock", "status"]);
    assert_eq!(status["held"], false, "{status}");
    assert_eq!(job.run(&["backup", "--no-prune"], &[]).code, 0, "the next backup runs");
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_lock_is_renewed_while_held_and_only_its_owner_releases_it() {
    let Some(s) = services() else { return };
    let job = Job::new("hb", &s, &JobOptions { redis: true, ..Default::default() });
    let cfg = daraa_ops::config::load(
        Some(&job.config),
        &std::collections::HashMap::<String, String>::new(),
    )
    .unwrap()
    .config;
    let backend =
        daraa_ops::lock::backends(&cfg, &cfg.mongodb.database).await.unwrap().pop().unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    // A TTL far shorter than the test: without renewal the key would be gone.
    let ttl = Duration::from_millis(600);
    let guard = daraa_ops::lock::acquire(backend.clone(), "backup", ttl, &cancel).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (holder, left) =
        daraa_ops::lock::status(&backend).await.unwrap().expect("still held after 3 TTLs");
    assert_eq!(&holder, guard.holder());
    assert!(left.unwrap() <= ttl);
    // A second acquire is refused with the holder named.
    let other =
        daraa_ops::lock::acquire(backend.clone(), "cleanup", ttl, &cancel).await.unwrap_err();
    // Its holder is this (live) process: the refusal says so, and offers no forced release.
    assert!(matches!(other.fault, daraa_ops::lock::LockFault::AliveHere { .. }), "{other}");
    assert!(other.message.contains(&format!("pid {}", std::process::id())));
    // The holder is alive on this host: one --force is refused, two release it.
    let refused = daraa_ops::lock::force_release(&backend, false).await.unwrap_err();
    assert!(matches!(refused.fault, daraa_ops::lock::LockFault::AliveHere { .. }), "{refused}");
    // Forced release by someone else makes the owner's heartbeat notice and cancel its job.
    daraa_ops::lock::force_release(&backend, true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(cancel.is_cancelled(), "the job is stopped when its lock is taken away");
    guard.release().await;
    assert!(daraa_ops::lock::status(&backend).await.unwrap().is_none());
}
