//! Point-in-time recovery (docs/pitr.md), against the second FerretDB, whose oplog is on
//! (`oplog_services`): consistent backups under concurrent writes, and backups that say they
//! are not point-in-time.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bson::{Document, doc};
use futures_util::TryStreamExt as _;

use crate::support::{Job, JobOptions, oplog_services, peer, services, split_bson};

/// The pairs the writer keeps in step: `orders` then `z.ledger` (a dotted name, which FerretDB
/// cannot rename: the restore loads it in place) for the same id, each step done on one and
/// then on the other. At any instant the two differ by at most the step in flight: an insert
/// (1), an update (the document in two states: 2) and a delete (1), so [`IN_FLIGHT`].
const FIRST: &str = "a_orders";
const SECOND: &str = "z.ledger";
/// Dumped between the two (one collection at a time, in name order): the time the writer
/// has to make the first collection's dump older than the second's. Few documents read in
/// small batches: the time comes from round trips, not from rows, because every row written
/// here (and by the restore and the drill) stays in the shared oplog server's oplog, which
/// FerretDB scans whole for every oplog query of every later test (20,000 rows made each
/// such query take 4 s).
const PAD: &str = "m_pad";
const PAD_DOCS: i32 = 3_000;

/// How far apart ([`apart`]) the two collections may be at one instant.
const IN_FLIGHT: usize = 4;

/// Applies one step of the writer's history to `coll`.
async fn step(db: &mongodb::Database, coll: &str, k: i64) {
    let c = db.collection::<Document>(coll);
    c.insert_one(doc! {"_id": k, "seq": k, "paid": false, "note": "pedido ñ 注文"}).await.unwrap();
    if k % 5 == 4 {
        c.update_one(doc! {"_id": k - 2}, doc! {"$set": {"paid": true}}).await.unwrap();
    }
    if k % 7 == 6 {
        c.delete_one(doc! {"_id": k - 4}).await.unwrap();
    }
}

/// `_id` → `paid` of every document.
async fn state(db: &mongodb::Database, coll: &str) -> BTreeMap<i64, bool> {
    let docs: Vec<Document> =
        db.collection::<Document>(coll).find(doc! {}).await.unwrap().try_collect().await.unwrap();
    docs.iter().map(|d| (d.get_i64("_id").unwrap(), d.get_bool("paid").unwrap())).collect()
}

/// The same from raw BSON (an archive member).
fn state_of(bson: &[u8]) -> BTreeMap<i64, bool> {
    split_bson(bson)
        .iter()
        .map(|d| {
            let d = Document::from_reader(&d[..]).unwrap();
            (d.get_i64("_id").unwrap(), d.get_bool("paid").unwrap())
        })
        .collect()
}

/// How far apart the two collections are: documents (id, paid) in one and not the other.
fn apart(a: &BTreeMap<i64, bool>, b: &BTreeMap<i64, bool>) -> usize {
    let a: BTreeSet<_> = a.iter().collect();
    let b: BTreeSet<_> = b.iter().collect();
    a.symmetric_difference(&b).count()
}

/// Every member of a `.tar.gz`, by name.
fn members(path: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let file = std::fs::File::open(path).unwrap();
    let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(file));
    let mut out = BTreeMap::new();
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.insert(name, data);
    }
    out
}

/// The members of mongodump's archive format (`backup.format: archive`), named as the tar's:
/// `<db>/<collection>.bson` with each collection's documents, `oplog.bson` with the oplog
/// namespace's (database `""`, collection `oplog`). Written here from the format's
/// specification, apart from the product's reader.
fn archive_members(path: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let mut bytes = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    assert_eq!(bytes[..4], [0x6d, 0xe2, 0x99, 0x81], "no magic number");
    let mut at = 4;
    let next = |at: &mut usize| -> Option<&[u8]> {
        let len = i32::from_le_bytes(bytes[*at..*at + 4].try_into().unwrap());
        if len == -1 {
            *at += 4;
            return None;
        }
        let d = &bytes[*at..*at + len as usize];
        *at += len as usize;
        Some(d)
    };
    next(&mut at).expect("the header");
    let mut out = BTreeMap::new();
    while let Some(ns) = next(&mut at) {
        out.insert(member_name(ns), Vec::new());
    }
    while at < bytes.len() {
        let raw = next(&mut at).expect("a namespace header");
        let (header, name) = (Document::from_reader(raw).unwrap(), member_name(raw));
        let data = out.get_mut(&name).unwrap_or_else(|| panic!("{name} is not in the prelude"));
        if header.get_bool("EOF").unwrap() {
            assert!(next(&mut at).is_none());
            continue;
        }
        while let Some(d) = next(&mut at) {
            data.extend_from_slice(d);
        }
    }
    out
}

fn member_name(ns: &[u8]) -> String {
    let ns = Document::from_reader(ns).unwrap();
    match (ns.get_str("db").unwrap(), ns.get_str("collection").unwrap()) {
        ("", "oplog") => "oplog.bson".into(),
        (db, c) => format!("{db}/{c}.bson"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_writes_restores_to_one_point_in_time() {
    raced_backup_is_one_point_in_time("tar").await;
}

/// The same in mongodump's archive format: the oplog in its namespace, after every
/// collection; and the real mongorestore still reads the archive.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_archive_format_backup_taken_under_writes_restores_to_one_point_in_time() {
    raced_backup_is_one_point_in_time("archive").await;
}

async fn raced_backup_is_one_point_in_time(format: &str) {
    let Some(services) = oplog_services().await else { return };
    let job = Job::new(
        if format == "tar" { "pitr" } else { "pitra" },
        &services,
        &JobOptions {
            extra: format!("  parallel_collections: 1\n  batch_size: 10\n  format: {format}\n"),
            ..JobOptions::default()
        },
    );
    let read_members = |file: &str| {
        let path = job.backup_dir.join(file);
        if format == "tar" { members(&path) } else { archive_members(&path) }
    };
    // `extra` continues the backup section.
    assert!(job.config_text().contains("  name_prefix: daraa\n  parallel_collections: 1\n"));
    assert!(job.config_text().contains("  batch_size: 10\n"));
    let db = job.db().await;
    let pad: Vec<Document> = (0..PAD_DOCS).map(|i| doc! {"_id": i, "n": i64::from(i)}).collect();
    db.collection::<Document>(PAD).insert_many(pad).await.unwrap();
    for k in 0..50 {
        step(&db, FIRST, k).await;
        step(&db, SECOND, k).await;
    }
    // The writer runs through the backups: each pair, first then second.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (db.clone(), Arc::clone(&stop));
        tokio::spawn(async move {
            // Paced and bounded: FerretDB reads its oplog by scanning it, so an unbounded
            // writer would slow the backups it races.
            let mut k = 50;
            while !stop.load(Ordering::Relaxed) && k < 20_000 {
                step(&db, FIRST, k).await;
                step(&db, SECOND, k).await;
                k += 1;
                tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            }
            k
        })
    };
    // A backup whose dump the writer raced: the archived collections disagree by more than
    // the step in flight (else this run proves nothing about the replay: take another).
    let mut raced = None;
    let t0 = std::time::Instant::now();
    for attempt in 0..4 {
        eprintln!("{:.1}s: backup {attempt}", t0.elapsed().as_secs_f64());
        let (code, v, err) = job.json(&["backup", "--no-upload"]);
        assert_eq!(code, 0, "{err}");
        let file = v["archive"]["file"].as_str().unwrap().to_owned();
        let m = read_members(&file);
        let first = state_of(&m[&format!("{}/{FIRST}.bson", job.database)]);
        let second = state_of(&m[&format!("{}/{SECOND}.bson", job.database)]);
        if apart(&first, &second) > IN_FLIGHT {
            raced = Some((v, m));
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    let (backup, m) = raced.expect("no backup's dump was raced by the writer in 4 tries");
    let id = backup["id"].as_str().unwrap().to_owned();

    // The archive holds the oplog where mongodump --oplog puts it, and the manifest (in the
    // archive format: the sidecar) says so.
    let manifest: serde_json::Value = if format == "tar" {
        serde_json::from_slice(&m["manifest.json"]).unwrap()
    } else {
        let sidecar = job.backup_dir.join(format!("{id}.manifest.json"));
        serde_json::from_slice(&std::fs::read(sidecar).unwrap()).unwrap()
    };
    let oplog = &manifest["oplog"];
    assert_eq!(oplog["member"], "oplog.bson", "{manifest}");
    assert!(manifest.get("not_point_in_time").is_none(), "{manifest}");
    let entries = split_bson(&m["oplog.bson"]);
    assert_eq!(oplog["entries"], entries.len(), "{oplog}");
    assert!(entries.len() > 2, "the writer wrote during the dump: {oplog}");
    let (from, until) = (&oplog["from"], &oplog["until"]);
    let ts = |v: &serde_json::Value| (v["t"].as_u64().unwrap(), v["i"].as_u64().unwrap());
    for e in &entries {
        let e = Document::from_reader(&e[..]).unwrap();
        let t = e.get_timestamp("ts").unwrap();
        let t = (u64::from(t.time), u64::from(t.increment));
        assert!(ts(from) < t && t <= ts(until), "entry {e} outside ({from}, {until}]");
        // Only this database's entries (the pad was written before the backup began).
        assert!(e.get_str("ns").unwrap().starts_with(&format!("{}.", job.database)), "{e}");
    }
    // Verify reads and checks the oplog member like any other.
    let r = job.run(&["verify", &id], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = job.run(&["describe", &id], &[]);
    let said =
        format!("oplog       {} entries written during the dump; restores stand at", entries.len());
    assert!(r.stdout.contains(&said), "{}", r.stdout);
    // The real bsondump reads it.
    if let Some(bsondump) = peer("bsondump") {
        let path = job.dir.path().join("oplog.bson");
        std::fs::write(&path, &m["oplog.bson"]).unwrap();
        let o = std::process::Command::new(bsondump)
            .arg("--outFile=/dev/null")
            .arg(&path)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(said.contains(&format!("{} objects found", entries.len())), "bsondump: {said}");
    }
    // The real mongorestore reads the archive format with its oplog namespace (it restores the
    // collections; `--oplogReplay` needs `applyOps`, which FerretDB lacks).
    if let Some(mongorestore) = peer("mongorestore").filter(|_| format == "archive") {
        let target = format!("{}_mr", job.database);
        let file = backup["archive"]["file"].as_str().unwrap();
        crate::support::mongorestore_archive(&job, &mongorestore, file, &target);
        let restored = job.client().await.database(&target);
        let dumped = split_bson(&m[&format!("{}/{SECOND}.bson", job.database)]).len();
        assert_eq!(
            restored.collection::<Document>(SECOND).count_documents(doc! {}).await.unwrap(),
            dumped as u64
        );
        restored.drop().await.unwrap();
    }

    eprintln!("{:.1}s: restore", t0.elapsed().as_secs_f64());
    // Restored, the two collections agree: one point in time, not two dump times.
    let target = format!("{}_at", job.database);
    let (code, report, err) = job.json(&["restore", &id, "--target-db", &target, "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(report["oplog"]["applied"], true, "{report}");
    assert!(report["oplog"]["changes"].as_u64().unwrap() > 0, "{report}");
    let client = job.client().await;
    let restored = client.database(&target);
    let (first, second) = (state(&restored, FIRST).await, state(&restored, SECOND).await);
    assert!(
        apart(&first, &second) <= IN_FLIGHT,
        "restored {FIRST} and {SECOND} are {} documents apart: not one point in time",
        apart(&first, &second)
    );
    // At the oplog's end, no earlier: every pair the dump of the second collection held.
    let dumped_second = state_of(&m[&format!("{}/{SECOND}.bson", job.database)]);
    assert!(second.keys().max() >= dumped_second.keys().max(), "{second:?}");
    assert!(first.keys().max() <= Some(&written), "{first:?}");
    // The padding came back whole, and the counts add up in the report.
    assert_eq!(
        restored.collection::<Document>(PAD).count_documents(doc! {}).await.unwrap(),
        PAD_DOCS as u64
    );
    assert_eq!(
        report["documents"].as_u64().unwrap(),
        PAD_DOCS as u64 + first.len() as u64 + second.len() as u64,
        "{report}"
    );

    eprintln!("{:.1}s: drill", t0.elapsed().as_secs_f64());
    // The drill restores it the same way and its counts and digests match what it replayed.
    let (code, drill, err) = job.json(&["drill", &id]);
    assert_eq!(code, 0, "{err}\n{drill}");
    restored.drop().await.unwrap();
    db.drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_without_an_oplog_say_they_are_not_point_in_time() {
    let Some(plain) = services() else { return };
    // The first test server keeps no oplog.
    let job = Job::new("nopitr", &plain, &JobOptions::default());
    job.db().await.collection::<Document>("c").insert_one(doc! {"x": 1}).await.unwrap();
    let (code, v, err) = job.json(&["backup", "--no-upload"]);
    assert_eq!(code, 0, "{err}");
    let file = v["archive"]["file"].as_str().unwrap();
    let m = members(&job.backup_dir.join(file));
    assert!(!m.contains_key("oplog.bson"), "{:?}", m.keys());
    let manifest: serde_json::Value = serde_json::from_slice(&m["manifest.json"]).unwrap();
    assert!(manifest.get("oplog").is_none(), "{manifest}");
    assert!(
        manifest["not_point_in_time"].as_str().unwrap().contains("keeps no oplog"),
        "{manifest}"
    );
    // backup.oplog: true makes that an error, naming the setting; nothing is written.
    job.edit_config("  name_prefix: daraa\n", "  name_prefix: daraa\n  oplog: true\n");
    let before = job.local_files();
    let r = job.run(&["backup", "--no-upload"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("backup.oplog is true") && r.stderr.contains("no oplog"),
        "{}",
        r.stderr
    );
    assert_eq!(job.local_files(), before);
    // Without point-in-time backups or chunks there is no window to drill into.
    let r = job.run(&["drill", "--to-time", "random"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nothing of") && r.stderr.contains("pitr status"), "{}", r.stderr);
    job.drop_database().await;

    // On the server with an oplog, --no-oplog leaves it out and says why.
    let Some(with_oplog) = oplog_services().await else { return };
    let job = Job::new("nopitr", &with_oplog, &JobOptions::default());
    job.db().await.collection::<Document>("c").insert_one(doc! {"x": 1}).await.unwrap();
    let (code, v, err) = job.json(&["backup", "--no-upload", "--no-oplog"]);
    assert_eq!(code, 0, "{err}");
    let m = members(&job.backup_dir.join(v["archive"]["file"].as_str().unwrap()));
    assert!(!m.contains_key("oplog.bson"));
    let manifest: serde_json::Value = serde_json::from_slice(&m["manifest.json"]).unwrap();
    assert_eq!(manifest["not_point_in_time"], "taken with --no-oplog", "{manifest}");
    let r = job.run(&["describe", v["id"].as_str().unwrap()], &[]);
    assert!(r.stdout.contains("none: not point-in-time (taken with --no-oplog)"), "{}", r.stdout);
    // And without it, the oplog is there even when nothing was written meanwhile.
    let (code, v, err) = job.json(&["backup", "--no-upload"]);
    assert_eq!(code, 0, "{err}");
    let m = members(&job.backup_dir.join(v["archive"]["file"].as_str().unwrap()));
    let manifest: serde_json::Value = serde_json::from_slice(&m["manifest.json"]).unwrap();
    assert_eq!(manifest["oplog"]["entries"], 0, "{manifest}");
    assert_eq!(m["oplog.bson"].len(), 0);
    job.drop_database().await;
}

/// The newest entry of the test server's oplog, as `T,I`.
async fn newest(client: &mongodb::Client) -> (u32, u32) {
    let d = client
        .database("local")
        .collection::<Document>("oplog.rs")
        .find_one(doc! {})
        .sort(doc! {"$natural": -1})
        .await
        .unwrap()
        .unwrap();
    let t = d.get_timestamp("ts").unwrap();
    (t.time, t.increment)
}

/// Every document of the two collections, as raw bytes by `_id`.
async fn snapshot(db: &mongodb::Database) -> Vec<BTreeMap<String, Vec<u8>>> {
    let mut out = Vec::new();
    for c in [FIRST, SECOND] {
        out.push(crate::support::docs_by_id(db, c).await);
    }
    out
}

/// Which documents differ between two snapshots (by collection and `_id`): empty when equal.
fn differ(a: &[BTreeMap<String, Vec<u8>>], b: &[BTreeMap<String, Vec<u8>>]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
        out.extend(keys.into_iter().filter(|k| x.get(*k) != y.get(*k)).map(|k| format!("{i}:{k}")));
    }
    out
}

/// A chain of chunk manifests is whole: each chunk starts where the previous ended, and its
/// entries are exactly the oplog's entries of `collections` in its window (none twice, none
/// missing). `label` says which round of a test failed.
async fn assert_chain_whole(
    client: &mongodb::Client,
    db: &str,
    collections: &[&str],
    chain: &[serde_json::Value],
    label: &str,
) -> u64 {
    for w in chain.windows(2) {
        assert_eq!(w[1]["from"], w[0]["until"], "{label}: {chain:?}");
    }
    let (from, until) = (ts(&chain[0]["from"]), ts(&chain.last().unwrap()["until"]));
    let in_oplog = oplog_entries(client, db, collections, from, until).await;
    let archived: u64 = chain.iter().map(|c| c["entries"].as_u64().unwrap()).sum();
    assert_eq!(archived, in_oplog, "{label}: {chain:?}");
    archived
}

/// A chunk manifest's `{t, i}` as an oplog timestamp.
fn ts(v: &serde_json::Value) -> bson::Timestamp {
    bson::Timestamp {
        time: v["t"].as_u64().unwrap() as u32,
        increment: v["i"].as_u64().unwrap() as u32,
    }
}

/// The test server's oplog entries of `db`'s collections with `from < ts <= until`.
async fn oplog_entries(
    client: &mongodb::Client,
    db: &str,
    collections: &[&str],
    from: bson::Timestamp,
    until: bson::Timestamp,
) -> u64 {
    let ns: Vec<String> = collections.iter().map(|c| format!("{db}.{c}")).collect();
    client
        .database("local")
        .collection::<Document>("oplog.rs")
        .count_documents(doc! {"ts": {"$gt": from, "$lte": until}, "ns": {"$in": ns}})
        .await
        .unwrap()
}

/// Chunk manifests in the local backup folder, in chain order.
fn chunks(job: &Job) -> Vec<serde_json::Value> {
    let mut v: Vec<serde_json::Value> = job
        .local_files()
        .iter()
        .filter(|f| f.ends_with(".chunk.json"))
        .map(|f| serde_json::from_slice(&std::fs::read(job.backup_dir.join(f)).unwrap()).unwrap())
        .collect();
    let key = |c: &serde_json::Value| (c["from"]["t"].as_u64(), c["from"]["i"].as_u64());
    v.sort_by_key(key);
    v
}

/// Sets `metrics.textfile_dir` in the job's config; returns the folder.
fn with_textfile_dir(job: &Job) -> std::path::PathBuf {
    let dir = job.dir.path().join("textfile");
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(&job.config, format!("{text}metrics:\n  textfile_dir: '{}'\n", dir.display()))
        .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pitr_push_archives_the_oplog_and_restore_reaches_a_time_between_backups() {
    let Some(services) = oplog_services().await else { return };
    let job = Job::new("pitrpush", &services, &JobOptions { s3: true, ..JobOptions::default() });
    let client = job.client().await;
    let db = job.db().await;
    for k in 0..30 {
        step(&db, FIRST, k).await;
        step(&db, SECOND, k).await;
    }
    // A collection the backups leave out: its changes are not archived or replayed either.
    job.edit_config(
        "  name_prefix: daraa\n",
        "  name_prefix: daraa\n  exclude_collections: [skip]\n",
    );
    for k in 0..4 {
        step(&db, "skip", k).await;
    }
    // The base backup, with its own oplog.
    let (code, base, err) = job.json(&["backup"]);
    assert_eq!(code, 0, "{err}");
    assert!(base["id"].is_string());
    // Writes after it; the state at T1 is what --to-time T1 must give back.
    let mut mid = (0, 0);
    for k in 30..60 {
        step(&db, FIRST, k).await;
        step(&db, SECOND, k).await;
        if k == 45 {
            mid = newest(&client).await;
        }
    }
    step(&db, "skip", 4).await;
    let t1 = newest(&client).await;
    let at_t1 = snapshot(&db).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    // The pusher has its own lock: it runs while the database's lock (backups, restores) is
    // held, here by another process holding its file lock.
    let lock_file = job.backup_dir.join(format!(".daraa-ops-{}.lock", job.database));
    let mut holder =
        std::process::Command::new("flock").arg(&lock_file).args(["sleep", "60"]).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(job.run(&["backup", "--no-upload"], &[]).code, 4, "the database's lock is held");
    let (code, first, err) = job.json(&["pitr", "push", "--once"]);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(code, 0, "{err}\n{first}");
    assert!(first["started"].as_str().unwrap().contains("at the end of backup"), "{first}");
    assert!(first["entries"].as_u64().unwrap() >= 60, "{first}");
    // More writes, a second push: it resumes where the first ended.
    for k in 60..80 {
        step(&db, FIRST, k).await;
        step(&db, SECOND, k).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let textfiles = with_textfile_dir(&job);
    let (code, second, err) = job.json(&["pitr", "push", "--once"]);
    assert_eq!(code, 0, "{err}\n{second}");
    assert_eq!(second["from"], first["until"], "{second}");
    // The chain: each chunk starts where the previous ended; its entries are the oplog's
    // entries of the database in its window, none twice, none missing.
    let chain = chunks(&job);
    assert!(chain.len() >= 2, "{chain:?}");
    let archived = assert_chain_whole(&client, &job.database, &[FIRST, SECOND], &chain, "").await;
    // Every chunk is in S3 too.
    let s3 = job.s3().await;
    let remote: Vec<String> = s3.list().await.unwrap().into_iter().map(|o| o.name).collect();
    for c in &chain {
        if let Some(f) = c["file"].as_str().filter(|f| !f.is_empty()) {
            assert!(remote.contains(&f.to_owned()), "{f} not in S3: {remote:?}");
        }
    }
    // `pitr status`: in each storage one window, from the base's end (where the chain
    // began) to the newest chunk; the chunks and entries of the chain; no gap.
    let (code, st, err) = job.json(&["pitr", "status"]);
    assert_eq!(code, 0, "{err}\n{st}");
    assert_eq!(st["last_entry"]["ts"], second["until"], "{st}");
    assert!(st["lag_seconds"].as_u64().unwrap() < 120, "{st}");
    let sizes: u64 = chain.iter().map(|c| c["size"].as_u64().unwrap()).sum();
    let storages = st["storages"].as_array().unwrap();
    assert_eq!(storages.len(), 2, "{st}");
    for s in storages {
        assert_eq!(s["chunks"], chain.len(), "{s}");
        assert_eq!(s["entries"], archived, "{s}");
        assert_eq!(s["stored_bytes"], sizes, "{s}");
        assert_eq!(s["bases"], 1, "{s}");
        assert_eq!(s["gaps"], serde_json::json!([]), "{s}");
        let w = s["windows"].as_array().unwrap();
        assert_eq!(w.len(), 1, "{s}");
        assert_eq!(w[0]["from"]["ts"], first["from"], "{s}");
        assert_eq!(w[0]["until"]["ts"], second["until"], "{s}");
        assert_eq!(w[0]["bases"], serde_json::json!([base["id"]]), "{s}");
    }
    let r = job.run(&["pitr", "status"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("restorable from"), "{}", r.stdout);
    // The pusher's metrics file says the same (node_exporter's textfile collector reads it).
    let prom =
        std::fs::read_to_string(textfiles.join(format!("daraa_ops_pitr.{}.prom", job.database)))
            .unwrap();
    let until_t = second["until"].as_str().unwrap().split(',').next().unwrap();
    let db_label = format!("{{database=\"{}\"", job.database);
    for line in [
        format!("daraa_ops_pitr_last_entry_timestamp_seconds{db_label}}} {until_t}"),
        format!("daraa_ops_pitr_restorable_until_timestamp_seconds{db_label}}} {until_t}"),
        format!("daraa_ops_pitr_chunks{db_label},storage=\"local\"}} {}", chain.len()),
        format!("daraa_ops_pitr_chunks{db_label},storage=\"s3\"}} {}", chain.len()),
        format!("daraa_ops_pitr_open_gaps{db_label},storage=\"local\"}} 0"),
    ] {
        assert!(prom.lines().any(|l| l == line), "{line} not in\n{prom}");
    }
    // `list` is not confused by the chunks.
    let (code, list, err) = job.json(&["list", "--local"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(list["backups"].as_array().map(Vec::len), Some(1), "{list}");

    // To T1: the base, then the chunks up to T1; the state equals the source's at T1, byte
    // for byte, although the source has moved on.
    let target = format!("{}_t1", job.database);
    let t1_text = format!("{},{}", t1.0, t1.1);
    // The dry run to a point inside a chunk names the base, the chunks up to it and the
    // entries it would replay (the oplog's entries of the two collections after the base's
    // end, up to the point, not the rest of the chunk); nothing is created.
    let mid_text = format!("{},{}", mid.0, mid.1);
    let (code, dry, err) =
        job.json(&["restore", "--to-time", &mid_text, "--target-db", &target, "--dry-run"]);
    assert_eq!(code, 0, "{err}\n{dry}");
    assert_eq!(dry["id"], base["id"], "{dry}");
    let (bt, bi) = first["from"].as_str().unwrap().split_once(',').unwrap();
    let base_end = bson::Timestamp { time: bt.parse().unwrap(), increment: bi.parse().unwrap() };
    let mid_ts = bson::Timestamp { time: mid.0, increment: mid.1 };
    let used: Vec<String> = chain
        .iter()
        .filter(|c| ts(&c["until"]) > base_end && ts(&c["from"]) < mid_ts)
        .map(|c| {
            format!(
                "daraa-{}-oplog-{:010}.{:010}-{:010}.{:010}.chunk.json",
                job.database,
                ts(&c["from"]).time,
                ts(&c["from"]).increment,
                ts(&c["until"]).time,
                ts(&c["until"]).increment
            )
        })
        .collect();
    assert_eq!(dry["chunks"], serde_json::json!(used), "{dry}");
    let up_to_mid = oplog_entries(&client, &job.database, &[FIRST, SECOND], base_end, mid_ts).await;
    assert_eq!(dry["chunk_entries"], up_to_mid, "{dry}");
    assert!(!client.list_database_names().await.unwrap().contains(&target));
    let (code, r, err) =
        job.json(&["restore", "--to-time", &t1_text, "--target-db", &target, "--yes"]);
    assert_eq!(code, 0, "{err}\n{r}");
    assert_eq!(r["id"], base["id"], "{r}");
    assert_eq!(r["oplog"]["until"], t1_text, "{r}");
    assert_eq!(r["to_time"], t1_text, "{r}");
    let restored = client.database(&target);
    assert!(
        !restored.list_collection_names().await.unwrap().contains(&"skip".to_owned()),
        "an excluded collection was restored from the oplog"
    );
    let got = snapshot(&restored).await;
    assert_eq!(got.len(), 2);
    assert!(
        differ(&got, &at_t1).is_empty(),
        "differ from the state at T1: {:?}",
        differ(&got, &at_t1)
    );
    assert!(!differ(&snapshot(&db).await, &at_t1).is_empty(), "the source moved on after T1");
    restored.drop().await.unwrap();

    // The drill restores the same point and checks what it replayed.
    let (code, d, err) = job.json(&["drill", "--to-time", &t1_text]);
    assert_eq!(code, 0, "{err}\n{d}");
    assert_eq!(d["to_time"], t1_text, "{d}");
    // ... with the chunks replayed: the counts it checked are the source's at T1.
    for (i, name) in [FIRST, SECOND].iter().enumerate() {
        let c = d["collections"].as_array().unwrap().iter().find(|c| c["name"] == *name).unwrap();
        assert_eq!(c["restored_documents"], at_t1[i].len(), "{c}");
    }
    // Times that cannot be reached are refused, naming what can; nothing is created.
    let far = "2099-01-01T00:00:00Z";
    let r = job.run(&["restore", "--to-time", far, "--target-db", &target, "--yes"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("the archived oplog in") && r.stderr.contains("reaches"),
        "{}",
        r.stderr
    );
    let r = job.run(
        &["restore", "--to-time", "2020-01-01T00:00:00Z", "--target-db", &target, "--yes"],
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no point-in-time backup"), "{}", r.stderr);
    // A damaged chunk is refused (exit 6) before anything is written.
    let file = chain.iter().find_map(|c| c["file"].as_str().filter(|f| !f.is_empty())).unwrap();
    let path = job.backup_dir.join(file);
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let r = job.run(&["restore", "--to-time", &t1_text, "--target-db", &target, "--yes"], &[]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("oplog chunk {file}")), "{}", r.stderr);
    assert!(!client.list_database_names().await.unwrap().contains(&target));
    db.drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pusher_that_comes_back_after_the_oplog_moved_on_records_a_gap() {
    let Some(services) = oplog_services().await else { return };
    let job = Job::new("pitrgap", &services, &JobOptions::default());
    let client = job.client().await;
    let db = job.db().await;
    step(&db, FIRST, 0).await;
    // The last chunk this storage holds ends long before the oldest entry of the oplog:
    // whatever happened in between is gone.
    let oldest = client
        .database("local")
        .collection::<Document>("oplog.rs")
        .find_one(doc! {})
        .sort(doc! {"$natural": 1})
        .await
        .unwrap()
        .unwrap()
        .get_timestamp("ts")
        .unwrap();
    let old = oldest.time - 3600;
    let stem = format!("daraa-{}-oplog-{old:010}.{:010}-{old:010}.{:010}", job.database, 0, 5);
    std::fs::create_dir_all(&job.backup_dir).unwrap();
    let fake = serde_json::json!({
        "format": "daraa-ops-oplog-chunk", "format_version": 1, "database": job.database,
        "from": {"t": old, "i": 0}, "until": {"t": old, "i": 5}, "file": "", "entries": 0,
        "bytes": 0, "sha256": "", "size": 0, "stored_sha256": "", "created_at": "2026-01-01T00:00:00Z",
    });
    std::fs::write(job.backup_dir.join(format!("{stem}.chunk.json")), fake.to_string()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let textfiles = with_textfile_dir(&job);
    let (code, r, err) = job.json(&["pitr", "push", "--once"]);
    assert_eq!(code, 6, "{err}\n{r}");
    assert_eq!(r["gap"]["from"].as_str().unwrap(), format!("{old},5"), "{r}");
    assert!(err.contains("restores cannot cross this gap"), "{err}");
    let chain = chunks(&job);
    assert_eq!(chain[1]["gap"], true, "{chain:?}");
    assert_eq!(chain[1]["from"], serde_json::json!({"t": old, "i": 5}));
    assert_eq!(chain[2]["from"], chain[1]["until"], "archiving went on after the gap");
    // Status shows it, open (no base backup after it); so does the metrics file.
    let (code, st, err) = job.json(&["pitr", "status"]);
    assert_eq!(code, 0, "{err}\n{st}");
    let local = &st["storages"][0];
    assert_eq!(local["gaps"].as_array().unwrap().len(), 1, "{st}");
    assert_eq!(local["gaps"][0]["from"]["ts"], format!("{old},5"), "{st}");
    assert_eq!(local["gaps"][0]["open"], true, "{st}");
    assert_eq!(local["windows"], serde_json::json!([]), "{st}");
    let r = job.run(&["pitr", "status"], &[]);
    assert!(r.stdout.contains("GAP from"), "{}", r.stdout);
    let prom =
        std::fs::read_to_string(textfiles.join(format!("daraa_ops_pitr.{}.prom", job.database)))
            .unwrap();
    let line =
        format!("daraa_ops_pitr_open_gaps{{database=\"{}\",storage=\"local\"}} 1", job.database);
    assert!(prom.lines().any(|l| l == line), "{line} not in\n{prom}");
    // The next run continues after the recorded gap.
    let (code, r, err) = job.json(&["pitr", "push", "--once"]);
    assert_eq!(code, 0, "{err}\n{r}");
    db.drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pusher_with_an_empty_local_folder_resumes_from_s3() {
    let Some(services) = oplog_services().await else { return };
    let job = Job::new("pitrs3", &services, &JobOptions { s3: true, ..JobOptions::default() });
    let db = job.db().await;
    step(&db, FIRST, 0).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (code, first, err) = job.json(&["pitr", "push", "--once"]);
    assert_eq!(code, 0, "{err}\n{first}");
    step(&db, FIRST, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    // The local folder is lost (a new host): the chain goes on from what S3 holds.
    std::fs::remove_dir_all(&job.backup_dir).unwrap();
    let (code, second, err) = job.json(&["pitr", "push", "--once"]);
    assert_eq!(code, 0, "{err}\n{second}");
    assert_eq!(second["from"], first["until"], "{second}");
    assert!(second["started"].is_null(), "no second chain: {second}");
    assert_eq!(second["entries"], 1, "{second}");
    db.drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_deletes_the_chunks_only_deleted_backups_needed_and_a_random_drill_stays_in_the_window()
 {
    let Some(services) = oplog_services().await else { return };
    let job = Job::new("pitrprune", &services, &JobOptions { s3: true, ..JobOptions::default() });
    let db = job.db().await;
    step(&db, FIRST, 0).await;
    let (code, b1, err) = job.json(&["backup"]);
    assert_eq!(code, 0, "{err}");
    step(&db, FIRST, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (code, r, err) = job.json(&["pitr", "push", "--once"]);
    assert_eq!(code, 0, "{err}\n{r}");
    // A write after the archived part, then the second base backup (its oplog starts at
    // that write, after the first chunk's end); the chain goes on after it.
    step(&db, FIRST, 3).await;
    let (code, b2, err) = job.json(&["backup"]);
    assert_eq!(code, 0, "{err}");
    step(&db, FIRST, 2).await;
    // One insert: before its timestamp the collection holds 3 documents, from it on 4.
    let ts2 = newest(&job.client().await).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (code, last, err) = job.json(&["pitr", "push", "--once"]);
    assert_eq!(code, 0, "{err}\n{last}");
    let sidecar = |b: &serde_json::Value| -> serde_json::Value {
        let name = format!("{}.manifest.json", b["id"].as_str().unwrap());
        serde_json::from_slice(&std::fs::read(job.backup_dir.join(name)).unwrap()).unwrap()
    };
    let b2_from = &sidecar(&b2)["oplog"]["from"];
    let key = |v: &serde_json::Value| (v["t"].as_u64().unwrap(), v["i"].as_u64().unwrap());
    let before = chunks(&job);
    let (old, new): (Vec<_>, Vec<_>) =
        before.iter().partition(|c| key(&c["until"]) <= key(b2_from));
    assert!(!old.is_empty() && !new.is_empty(), "{before:?}");
    let stem = |c: &serde_json::Value| {
        format!(
            "daraa-{}-oplog-{:010}.{:010}-{:010}.{:010}.chunk.json",
            job.database,
            key(&c["from"]).0,
            key(&c["from"]).1,
            key(&c["until"]).0,
            key(&c["until"]).1
        )
    };
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(&job.config, format!("{text}retention: {{keep_days: null, keep_last: 1}}\n"))
        .unwrap();
    // The dry run names the chunks before B2 began, in both storages, and deletes nothing.
    let files = job.local_files();
    let (code, dry, err) = job.json(&["prune", "--dry-run"]);
    assert_eq!(code, 0, "{err}\n{dry}");
    let expected: Vec<String> = old.iter().map(|c| stem(c)).collect();
    for s in dry["storages"].as_array().unwrap() {
        assert_eq!(s["oplog_chunks"], serde_json::json!(expected), "{s}");
    }
    assert_eq!(job.local_files(), files);
    let r = job.run(&["prune", "--dry-run"], &[]);
    assert!(
        r.stdout.contains(&format!("would delete {} oplog chunk(s)", old.len())),
        "{}",
        r.stdout
    );
    // The prune: B1 goes, and with it the chunks (manifests and data) only it needed, in
    // S3 too; the chain after B2 stays whole and restorable.
    let (code, p, err) = job.json(&["prune"]);
    assert_eq!(code, 0, "{err}\n{p}");
    let after = chunks(&job);
    assert_eq!(after.len(), new.len(), "{after:?}");
    let local = job.local_files();
    let remote: Vec<String> =
        job.s3().await.list().await.unwrap().into_iter().map(|o| o.name).collect();
    for c in &old {
        let data = c["file"].as_str().unwrap();
        for listing in [&local, &remote] {
            assert!(!listing.contains(&stem(c)), "{} left: {listing:?}", stem(c));
            assert!(data.is_empty() || !listing.contains(&data.to_owned()), "{data} left");
        }
    }
    assert!(!local.iter().any(|f| f.starts_with(b1["id"].as_str().unwrap())), "{local:?}");
    let (code, st, err) = job.json(&["pitr", "status"]);
    assert_eq!(code, 0, "{err}\n{st}");
    for s in st["storages"].as_array().unwrap() {
        let w = &s["windows"];
        assert_eq!(w.as_array().unwrap().len(), 1, "{s}");
        assert_eq!(w[0]["bases"], serde_json::json!([b2["id"]]), "{s}");
        assert_eq!(w[0]["until"]["ts"], last["until"], "{s}");
    }
    // A drill to a random point of that window: the point is inside it, the replay gives
    // the collection as it was then, and the result is recorded on the base with the point.
    let window = &st["storages"][0]["windows"][0];
    let pair = |v: &serde_json::Value| -> (u32, u32) {
        let (t, i) = v.as_str().unwrap().split_once(',').unwrap();
        (t.parse().unwrap(), i.parse().unwrap())
    };
    let (code, d, err) = job.json(&["drill", "--to-time", "random"]);
    assert_eq!(code, 0, "{err}\n{d}");
    let point = pair(&d["to_time"]);
    assert!(pair(&window["from"]["ts"]) <= point && point <= pair(&window["until"]["ts"]), "{d}");
    let c = d["collections"].as_array().unwrap().iter().find(|c| c["name"] == FIRST).unwrap();
    assert_eq!(
        c["restored_documents"],
        if point >= ts2 { 4 } else { 3 },
        "{d} (insert at {ts2:?})"
    );
    let checks = job.backup_dir.join(format!("{}.checks.json", b2["id"].as_str().unwrap()));
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(checks).unwrap()).unwrap();
    assert_eq!(record["drilled"]["to_time"], d["to_time"], "{record}");
    assert_eq!(record["drilled"]["ok"], true, "{record}");
    db.drop().await.unwrap();
}

/// Every chunk manifest of a storage listing has its data file there (a manifest is written
/// after its data, so a kill never leaves one without).
fn manifests_have_their_data(names: &[String], read: impl Fn(&str) -> serde_json::Value) {
    for n in names.iter().filter(|n| n.ends_with(".chunk.json")) {
        let m = read(n);
        let file = m["file"].as_str().unwrap();
        assert!(file.is_empty() || names.contains(&file.to_owned()), "{n} without {file}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pusher_killed_between_any_two_writes_leaves_a_whole_chain() {
    let Some(services) = oplog_services().await else { return };
    let job = Job::new("pitrkill", &services, &JobOptions { s3: true, ..JobOptions::default() });
    let client = job.client().await;
    let db = job.db().await;
    for k in 0..5 {
        step(&db, FIRST, k).await;
    }
    let (code, _, err) = job.json(&["backup"]);
    assert_eq!(code, 0, "{err}");
    let s3 = job.s3().await;
    let mut k = 5;
    let mut kills = 0;
    // The Nth storage write of a push (data, then manifest, local then S3, per chunk): stopped
    // there and killed; the next push completes the chain.
    for n in 1.. {
        for _ in 0..3 {
            step(&db, FIRST, k).await;
            k += 1;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        match crate::support::stop_after_write(&job, &["pitr", "push", "--once"], n) {
            crate::support::Ended::Killed => kills += 1,
            crate::support::Ended::Exited(code) => {
                assert_eq!(code, 0, "push with fewer than {n} writes");
                break;
            }
        }
        // What the kill left: no manifest without its data, in either storage.
        let local = job.local_files();
        manifests_have_their_data(&local, |n| {
            serde_json::from_slice(&std::fs::read(job.backup_dir.join(n)).unwrap()).unwrap()
        });
        let remote: Vec<String> = s3.list().await.unwrap().into_iter().map(|o| o.name).collect();
        let mut bodies = BTreeMap::new();
        for n in remote.iter().filter(|n| n.ends_with(".chunk.json")) {
            let bytes = s3.get_bytes(n).await.unwrap().unwrap();
            bodies.insert(n.clone(), serde_json::from_slice::<serde_json::Value>(&bytes).unwrap());
        }
        manifests_have_their_data(&remote, |n| bodies[n].clone());
        // The next push finishes: both storages hold the same whole chain.
        let (code, r, err) = job.json(&["pitr", "push", "--once"]);
        assert_eq!(code, 0, "after a kill at write {n}: {err}\n{r}");
        let chain = chunks(&job);
        let label = format!("write {n}");
        assert_chain_whole(&client, &job.database, &[FIRST], &chain, &label).await;
        let remote: BTreeSet<String> =
            s3.list().await.unwrap().into_iter().map(|o| o.name).collect();
        for c in &chain {
            let f = c["file"].as_str().unwrap();
            assert!(f.is_empty() || remote.contains(f), "write {n}: {f} not in S3");
        }
    }
    assert!(kills >= 4, "only {kills} kills: a push makes at least four writes");
    // The chain built through the kills restores the collection as it is now.
    let last = chunks(&job).last().unwrap()["until"].clone();
    let target = format!("{}_k", job.database);
    let to = format!("{},{}", last["t"], last["i"]);
    let (code, r, err) = job.json(&["restore", "--to-time", &to, "--target-db", &target, "--yes"]);
    assert_eq!(code, 0, "{err}\n{r}");
    assert_eq!(
        crate::support::docs_by_id(&client.database(&target), FIRST).await,
        crate::support::docs_by_id(&db, FIRST).await
    );
    client.database(&target).drop().await.unwrap();
    db.drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_cut_in_the_middle_of_a_chunk_leaves_s3_without_it_and_the_next_push_copies_it() {
    let Some(services) = oplog_services().await else { return };
    let job = Job::new("pitrcut", &services, &JobOptions { s3: true, ..JobOptions::default() });
    let db = job.db().await;
    step(&db, FIRST, 0).await;
    let (code, _, err) = job.json(&["backup"]);
    assert_eq!(code, 0, "{err}");
    // A chunk of about a megabyte that does not compress; S3 is cut a quarter of the way in.
    crate::faults::incompressible(&db, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let direct = format!("127.0.0.1:{}", crate::faults::port_of(&services.s3_endpoint));
    let proxy = crate::faults::Proxy::start(
        crate::faults::port_of(&services.s3_endpoint),
        256 * 1024,
        u64::MAX,
    );
    job.edit_config(&direct, &format!("127.0.0.1:{}", proxy.port));
    let (code, r, err) = job.json(&["pitr", "push", "--once"]);
    assert!(proxy.shared.cut.load(std::sync::atomic::Ordering::SeqCst), "the proxy never cut");
    // Exit 5: archived locally, S3 left behind (named); archiving did not stop for it.
    assert_eq!(code, 5, "{err}\n{r}");
    assert!(r["storage_error"].as_str().unwrap().contains("S3"), "{r}");
    assert_eq!(r["chunks"].as_array().unwrap().len(), 1, "{r}");
    // The local chain is whole; S3 holds no manifest of the cut chunk (nothing that looks
    // complete without its data). Status shows the local folder and names S3's error.
    let (code, st, err) = job.json(&["pitr", "status"]);
    assert_eq!(code, 0, "{err}\n{st}");
    assert_eq!(st["storages"].as_array().unwrap().len(), 1, "{st}");
    assert!(st["remote_error"].is_string(), "{st}");
    let local = chunks(&job);
    assert_eq!(local.len(), 1, "{local:?}");
    let s3 = job.s3().await;
    let remote: Vec<String> = s3.list().await.unwrap().into_iter().map(|o| o.name).collect();
    assert!(!remote.iter().any(|n| n.ends_with(".chunk.json")), "{remote:?}");
    // S3 back: the next push copies the chunk S3 lacks, then goes on.
    job.edit_config(&format!("127.0.0.1:{}", proxy.port), &direct);
    step(&db, FIRST, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (code, r, err) = job.json(&["pitr", "push", "--once"]);
    assert_eq!(code, 0, "{err}\n{r}");
    assert_eq!(r["copied"], 1, "{r}");
    let chain = chunks(&job);
    assert_eq!(chain.len(), 2, "{chain:?}");
    assert_eq!(chain[1]["from"], chain[0]["until"]);
    let remote: BTreeSet<String> = s3.list().await.unwrap().into_iter().map(|o| o.name).collect();
    for c in &chain {
        let f = c["file"].as_str().unwrap();
        assert!(remote.contains(f), "{f} not in S3");
        let stored = s3.get_bytes(f).await.unwrap().unwrap();
        assert_eq!(stored, std::fs::read(job.backup_dir.join(f)).unwrap(), "{f} differs in S3");
    }
    let (code, st, err) = job.json(&["pitr", "status"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(st["storages"][0]["windows"], st["storages"][1]["windows"], "{st}");
    db.drop().await.unwrap();
}

/// FerretDB killed (SIGKILL) and restarted under the long-running pusher: its passes fail
/// while the server is down, each logged, and the first pass after the restart resumes where
/// the chain ends. The chain stays whole (no entry twice, none missing) and restores the
/// collection as it is after the restart. A server of this test's own: the shared one cannot
/// be restarted under the other tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pusher_outlives_a_ferretdb_restart_and_its_chain_stays_whole() {
    let Some((mut server, services)) = crate::support::PrivateFerretDb::start().await else {
        return;
    };
    let job = Job::new("pitrre", &services, &JobOptions::default());
    job.edit_config(
        "  password_file: mongo_pw\n",
        "  password_file: mongo_pw\n  server_selection_timeout: 1s\n",
    );
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(&job.config, format!("{text}pitr:\n  span_seconds: 1\n")).unwrap();
    let (client, db) = (job.client().await, job.db().await);
    for k in 0..5 {
        step(&db, FIRST, k).await;
    }
    let (code, _, err) = job.json(&["backup", "--no-upload"]);
    assert_eq!(code, 0, "{err}");
    let log_path = job.dir.path().join("pusher.log");
    let mut pusher = job
        .command(&["pitr", "push"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    // Archived up to the server's newest entry, within a minute.
    let caught_up = async |client: &mongodb::Client| {
        let newest = newest(client).await;
        for _ in 0..600 {
            let archived = chunks(&job).last().map(|c| {
                (c["until"]["t"].as_u64().unwrap() as u32, c["until"]["i"].as_u64().unwrap() as u32)
            });
            if archived >= Some(newest) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the pusher did not archive up to {newest:?}: {:?}", chunks(&job));
    };
    for k in 5..15 {
        step(&db, FIRST, k).await;
    }
    caught_up(&client).await;
    let before = chunks(&job).len();
    // Down for five passes' worth; nothing is written meanwhile (FerretDB writes an entry
    // just after its change: a kill between the two would lose the entry, not the pusher).
    server.kill();
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("pitr push:") && log.contains("trying again in 1s"), "{log}");
    assert!(pusher.try_wait().unwrap().is_none(), "the pusher stopped: {log}");
    server.spawn();
    let (client, db) = (job.client().await, job.db().await);
    for k in 15..30 {
        step(&db, FIRST, k).await;
    }
    caught_up(&client).await;
    let r = std::process::Command::new("kill")
        .args(["-TERM", &pusher.id().to_string()])
        .status()
        .unwrap();
    assert!(r.success());
    let status = pusher.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    let chain = chunks(&job);
    assert!(chain.len() > before, "nothing archived after the restart: {chain:?}");
    assert_chain_whole(&client, &job.database, &[FIRST], &chain, "").await;
    let last = &chain.last().unwrap()["until"];
    let to = format!("{},{}", last["t"], last["i"]);
    let target = format!("{}_re", job.database);
    let (code, r, err) = job.json(&["restore", "--to-time", &to, "--target-db", &target, "--yes"]);
    assert_eq!(code, 0, "{err}\n{r}");
    assert_eq!(
        crate::support::docs_by_id(&client.database(&target), FIRST).await,
        crate::support::docs_by_id(&db, FIRST).await
    );
}
