//! Dependencies failing mid-run. MongoDB, Redis and S3 are reached through a TCP proxy that,
//! at a chosen point, resets every open connection and stops listening: what a client sees when
//! the server process dies (the shared test services keep running for the other tests). A full
//! disk is a small tmpfs mounted on the backup folder.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bson::{Document, doc};

use crate::support::{Job, JobOptions, Services, contents, services};

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) cut: AtomicBool,
    up: AtomicU64,
    down: AtomicU64,
    conns: Mutex<Vec<TcpStream>>,
    /// Client-to-server data waits this long before it is passed on (0: not at all).
    delay_up_ms: AtomicU64,
    /// Client-to-server chunks that held `watch`, counted as they arrive (before any delay).
    watch: Mutex<Vec<u8>>,
    pub(crate) watched: AtomicU64,
}

impl Shared {
    fn cut_now(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().iter() {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

/// Forwards 127.0.0.1:`port` to the target until cut (by hand or after N bytes either way).
pub(crate) struct Proxy {
    pub(crate) port: u16,
    pub(crate) shared: Arc<Shared>,
}

impl Proxy {
    pub(crate) fn start(target: u16, cut_up_after: u64, cut_down_after: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let shared = Arc::new(Shared::default());
        let sh = shared.clone();
        std::thread::spawn(move || {
            while !sh.cut.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                            continue;
                        };
                        {
                            let mut conns = sh.conns.lock().unwrap();
                            conns.push(client.try_clone().unwrap());
                            conns.push(server.try_clone().unwrap());
                        }
                        for (from, to, up) in [
                            (client.try_clone().unwrap(), server.try_clone().unwrap(), true),
                            (server, client, false),
                        ] {
                            let sh = sh.clone();
                            std::thread::spawn(move || {
                                pump(
                                    from,
                                    to,
                                    &sh,
                                    up,
                                    if up { cut_up_after } else { cut_down_after },
                                );
                            });
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            // The listener is dropped here: new connections are refused.
        });
        Proxy { port, shared }
    }

    /// A proxy that holds every client-to-server chunk for `delay` before passing it on, as a
    /// busy server's scheduler may: a command a process sent right before it was killed still
    /// reaches the server, later.
    /// Chunks holding `watch` are counted in `watched` when they reach the proxy.
    pub(crate) fn start_delayed(target: u16, delay: Duration, watch: &[u8]) -> Proxy {
        let p = Proxy::start(target, u64::MAX, u64::MAX);
        p.shared.delay_up_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
        *p.shared.watch.lock().unwrap() = watch.to_vec();
        p
    }

    pub(crate) fn cut(&self) {
        self.shared.cut_now();
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, sh: &Shared, up: bool, limit: u64) {
    let counter = if up { &sh.up } else { &sh.down };
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if sh.cut.load(Ordering::SeqCst) {
            break;
        }
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if counter.fetch_add(n as u64, Ordering::SeqCst) + n as u64 > limit {
            sh.cut_now();
            break;
        }
        let delay = sh.delay_up_ms.load(Ordering::SeqCst);
        if up && delay > 0 {
            let watch = sh.watch.lock().unwrap().clone();
            if !watch.is_empty() && buf[..n].windows(watch.len()).any(|w| w == watch.as_slice()) {
                sh.watched.fetch_add(1, Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(delay));
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

pub(crate) fn port_of(url: &str) -> u16 {
    let rest = url.split_once("://").unwrap().1;
    let host = rest.split(['/', '?']).next().unwrap();
    let host = host.rsplit('@').next().unwrap();
    host.rsplit(':').next().unwrap().parse().unwrap()
}

/// Points the job's MongoDB URI at a proxy (and shortens server selection).
fn mongo_through(job: &Job, s: &Services, proxy: &Proxy) -> String {
    let direct = format!("127.0.0.1:{}", port_of(&s.mongo_uri));
    job.edit_config(&direct, &format!("127.0.0.1:{}", proxy.port));
    job.edit_config(
        &format!("  database: {}\n", job.database),
        &format!("  database: {}\n  server_selection_timeout: 3s\n", job.database),
    );
    direct
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongodb_gone_during_a_dump_exits_3_and_leaves_no_complete_looking_archive() {
    let Some(s) = services() else { return };
    let job = Job::new("faultdump", &s, &JobOptions::default());
    job.seed(0.05, false).await;
    let proxy = Proxy::start(port_of(&s.mongo_uri), u64::MAX, 300_000);
    let direct = mongo_through(&job, &s, &proxy);
    let r = job.run(&["backup"], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("MongoDB"), "{}", r.stderr);
    assert!(!r.stderr.contains("labels: {}"), "driver dump in the message: {}", r.stderr);
    assert!(proxy.shared.cut.load(Ordering::SeqCst), "the proxy never cut");
    // Nothing complete-looking: no backup `list` calls complete, no sidecar at all.
    let (_, v, _) = job.json(&["list", "--local"]);
    assert!(v["backups"].as_array().unwrap().iter().all(|b| b["complete"] == false), "{v}");
    let sidecars: Vec<String> =
        job.local_files().into_iter().filter(|f| f.ends_with(".manifest.json")).collect();
    assert!(sidecars.is_empty(), "{sidecars:?}");
    // Back online: the next backup works and removes what the failed one left.
    job.edit_config(&format!("127.0.0.1:{}", proxy.port), &direct);
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    assert!(job.local_files().iter().all(|f| !f.ends_with(".staging") && !f.ends_with(".partial")));
    assert_eq!(job.json(&["verify", "latest"]).0, 0);
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongodb_gone_during_a_restore_leaves_the_live_collections_as_they_were() {
    let Some(s) = services() else { return };
    let job = Job::new("faultrestore", &s, &JobOptions::default());
    job.seed(0.05, false).await;
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    let db = job.db().await;
    db.collection::<Document>("orders")
        .insert_many((0..20).map(|i| doc! {"late": i}))
        .await
        .unwrap();
    let live = contents(&db).await;
    let proxy = Proxy::start(port_of(&s.mongo_uri), 400_000, u64::MAX);
    let direct = mongo_through(&job, &s, &proxy);
    let r = job.run(&["--yes", "restore", "latest", "--drop"], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("connection to MongoDB lost")
            || r.stderr.contains("cannot reach MongoDB"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("labels: {}"), "driver dump in the message: {}", r.stderr);
    let now: std::collections::BTreeMap<_, _> =
        contents(&db).await.into_iter().filter(|(n, _)| !n.starts_with("daraa_restore_")).collect();
    assert_eq!(now, live, "live collections changed");
    job.edit_config(&format!("127.0.0.1:{}", proxy.port), &direct);
    assert_eq!(job.run(&["--yes", "restore", "latest", "--drop"], &[]).code, 0);
    let names = db.list_collection_names().await.unwrap();
    assert!(names.iter().all(|n| !n.starts_with("daraa_restore_")), "{names:?}");
    assert_eq!(
        db.collection::<Document>("orders")
            .count_documents(doc! {"late": {"$exists": true}})
            .await
            .unwrap(),
        0
    );
    job.drop_database().await;
}

/// Documents of random bytes: 10 MiB that gzip cannot shrink.
pub(crate) async fn incompressible(db: &mongodb::Database, mib: usize) {
    let mut state: u64 = 0x1234_5678_9abc_def1;
    for chunk in 0..mib {
        let docs: Vec<Document> = (0..4)
            .map(|i| {
                let bytes: Vec<u8> = (0..256 * 1024)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    })
                    .collect();
                doc! {"n": (chunk * 4 + i) as i64, "blob": bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes }}
            })
            .collect();
        db.collection::<Document>("blobs").insert_many(docs).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_gone_during_a_multipart_upload_exits_5_with_the_local_archive_intact() {
    let Some(s) = services() else { return };
    let job = Job::new("faults3", &s, &JobOptions { s3: true, ..Default::default() });
    job.edit_config("  max_attempts: 2\n", "  max_attempts: 2\n  part_size_mib: 5\n");
    let db = job.client().await.database(&job.database);
    incompressible(&db, 16).await;
    let proxy = Proxy::start(port_of(&s.s3_endpoint), 8 * 1024 * 1024, u64::MAX);
    let direct = format!("127.0.0.1:{}", port_of(&s.s3_endpoint));
    job.edit_config(&direct, &format!("127.0.0.1:{}", proxy.port));
    let (code, out, err) = job.json(&["backup"]);
    assert_eq!(code, 5, "{err}\n{out}");
    assert!(err.contains("upload") || err.contains("S3"), "{err}");
    assert!(proxy.shared.cut.load(Ordering::SeqCst), "the proxy never cut");
    // Exit 5 for the upload itself: retention did not run after it (it would judge S3 by a
    // half-written state), so no retention error stands in for the upload's.
    assert!(out["upload_error"].is_string(), "{out}");
    assert!(out["prune_error"].is_null(), "retention ran after a failed upload: {out}");
    // The local archive is complete and verifies; S3 has no complete backup.
    let archive = job.local_files().into_iter().find(|f| f.ends_with(".tar.gz")).unwrap();
    let path = job.backup_dir.join(&archive);
    assert_eq!(job.json(&["verify", path.to_str().unwrap()]).0, 0);
    job.edit_config(&format!("127.0.0.1:{}", proxy.port), &direct);
    // One backup, complete locally only: S3 holds nothing that looks complete (no sidecar).
    let (code, v, _) = job.json(&["list"]);
    assert_eq!(code, 0, "{v}");
    let backups = v["backups"].as_array().unwrap();
    assert_eq!(backups.len(), 1, "{v}");
    assert_eq!(backups[0]["complete"], true, "{v}");
    assert_eq!(backups[0]["locations"], serde_json::json!(["local"]), "{v}");
    let objects = job.s3().await.list().await.unwrap();
    assert!(!objects.iter().any(|o| o.name.ends_with(".manifest.json")), "{objects:?}");
    job.drop_database().await;
}

/// A tmpfs on a folder, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_backup_disk_exits_1_naming_it_and_keeps_the_previous_backup() {
    let Some(s) = services() else { return };
    let job = Job::new("faultdisk", &s, &JobOptions::default());
    std::fs::create_dir_all(&job.backup_dir).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs"])
        .arg(&job.backup_dir)
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "cannot mount a tmpfs on {} (the full-disk test needs root, as CI has)",
        job.backup_dir.display()
    );
    let _mount = Tmpfs(job.backup_dir.clone());
    let db = job.client().await.database(&job.database);
    db.collection::<Document>("small").insert_many((0..100).map(|i| doc! {"i": i})).await.unwrap();
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    let before = job.local_files();
    incompressible(&db, 12).await;
    let r = job.run(&["backup"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("No space left on device"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&job.backup_dir.display().to_string()),
        "names the path: {}",
        r.stderr
    );
    assert_eq!(job.local_files(), before, "the failed run left files behind");
    assert_eq!(job.json(&["verify", "latest"]).0, 0, "the previous backup is intact");
    job.drop_database().await;
}
