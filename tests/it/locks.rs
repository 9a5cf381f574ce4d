//! The job lock's view of its holder: a holder in another PID namespace (a container with the
//! same host name, its own volume, the same Redis) is never declared dead and robbed of its
//! lock; a killed holder that is still a zombie, or whose pid now belongs to another process,
//! is not the holder (docs/operations.md, "The job lock").

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bson::{Document, doc};

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
    std::fs::write(&other, text.replace("  dir: backups\n", "  dir: other-volume\n")).unwrap();
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
