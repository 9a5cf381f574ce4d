//! restore and drill against the real services.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bson::{Document, RawDocumentBuf, doc};

use crate::support::Edit as _;
use crate::support::{Job, JobOptions, TestCollection, docs_by_id, services, write_test_archive};

fn opts(redis: bool, s3: bool) -> JobOptions {
    JobOptions { redis, s3, extra: String::new() }
}

/// Every collection of a database: name → (documents by `_id` as raw bytes, indexes).
async fn snapshot(
    db: &mongodb::Database,
) -> BTreeMap<String, (BTreeMap<String, Vec<u8>>, Vec<Document>)> {
    let mut out = BTreeMap::new();
    for name in db.list_collection_names().await.unwrap() {
        let by_id = docs_by_id(db, &name).await;
        let mut indexes: Vec<Document> =
            daraa_ops::mongo::dump::list_indexes(db, &name).await.unwrap();
        for i in &mut indexes {
            i.remove("v");
            i.remove("ns");
        }
        indexes.sort_by_key(|i| i.get_str("name").unwrap_or("").to_owned());
        out.insert(name, (by_id, indexes));
    }
    out
}

/// Seeds the kinds of collections the acceptance asks for, backs up, returns the backup id.
async fn seed_and_backup(job: &Job) -> String {
    job.seed(0.02, true).await;
    let db = job.db().await;
    db.create_collection("empty_collection").await.unwrap();
    db.run_command(
        doc! {"create": "capped_events", "capped": true, "size": 1_048_576_i64, "max": 100_i64},
    )
    .await
    .unwrap();
    db.collection::<Document>("capped_events")
        .insert_many((0..10).map(|i| doc! {"n": i}))
        .await
        .unwrap();
    db.collection::<Document>("commissions")
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! {"orderId": 1, "storeAccountId": -1})
                .options(
                    mongodb::options::IndexOptions::builder()
                        .unique(true)
                        .name("order_store_unique".to_owned())
                        .build(),
                )
                .build(),
        )
        .await
        .unwrap();
    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{stderr}");
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_into_another_database_is_byte_identical_with_indexes_and_options() {
    let Some(s) = services() else { return };
    let job = Job::new("rs", &s, &opts(false, false));
    let id = seed_and_backup(&job).await;
    let target = format!("{}_copy", job.database);
    let client = job.client().await;
    // An existing but empty collection in the target needs no --drop.
    client.database(&target).create_collection("orders").await.unwrap();
    let (code, v, stderr) = job.json(&["restore", &id, "--target-db", &target]);
    assert_eq!(code, 0, "{v}\n{stderr}");
    let orders =
        v["collections"].as_array().unwrap().iter().find(|c| c["name"] == "orders").unwrap();
    assert_eq!(orders["action"], "replaced", "{v}");
    assert_eq!(v["target_database"], target);
    let source = snapshot(&client.database(&job.database)).await;
    let copy = snapshot(&client.database(&target)).await;
    assert_eq!(source.keys().collect::<Vec<_>>(), copy.keys().collect::<Vec<_>>());
    for (name, (docs, indexes)) in &source {
        assert_eq!(&copy[name].0, docs, "documents of {name}");
        assert_eq!(&copy[name].1, indexes, "indexes of {name}");
    }
    assert!(copy["empty_collection"].0.is_empty());
    // The capped collection is capped again.
    let stats =
        client.database(&target).run_command(doc! {"collStats": "capped_events"}).await.unwrap();
    assert_eq!(stats.get_bool("capped").ok(), Some(true), "{stats}");
    client.database(&target).drop().await.unwrap();
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_data_needs_drop_and_confirmation_then_is_replaced() {
    let Some(s) = services() else { return };
    let job = Job::new("rsdrop", &s, &opts(false, false));
    let id = seed_and_backup(&job).await;
    let db = job.db().await;
    let before = snapshot(&db).await;
    // Change the live data after the backup.
    db.collection::<Document>("orders").delete_many(doc! {}).await.unwrap();
    db.collection::<Document>("orders").insert_one(doc! {"_id": "changed"}).await.unwrap();

    let r = job.run(&["restore", &id], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("already has data") && r.stderr.contains("--drop"), "{}", r.stderr);
    let r = job.run(&["restore", &id, "--drop"], &[]);
    assert_eq!(r.code, 2, "no terminal, no --yes: {}", r.stderr);
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
    assert_eq!(
        db.collection::<Document>("orders").count_documents(doc! {}).await.unwrap(),
        1,
        "nothing changed"
    );

    let (code, v, _) = job.json(&["restore", &id, "--dry-run", "--drop"]);
    assert_eq!(code, 0);
    let orders =
        v["collections"].as_array().unwrap().iter().find(|c| c["name"] == "orders").unwrap();
    assert_eq!(orders["existing_documents"], 1);
    assert_eq!(orders["action"], "replace");

    let (code, v, stderr) = job.json(&["--yes", "restore", &id, "--drop"]);
    assert_eq!(code, 0, "{v} {stderr}");
    let after = snapshot(&db).await;
    assert_eq!(after, before, "the live database is back to the backup");
    assert!(
        db.list_collection_names().await.unwrap().iter().all(|n| !n.starts_with("daraa_restore_"))
    );

    // --collections restores only those.
    db.collection::<Document>("users").delete_many(doc! {}).await.unwrap();
    let (code, v, stderr) =
        job.json(&["--yes", "restore", &id, "--drop", "--collections", "users"]);
    assert_eq!(code, 0, "{stderr}");
    let restored: Vec<&str> = v["collections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "skipped")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(restored, ["users"]);
    assert_eq!(snapshot(&db).await, before);
    let r = job.run(&["restore", &id, "--collections", "nope"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("collection nope is not in backup"), "{}", r.stderr);
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_archive_changes_nothing_and_exits_6() {
    let Some(s) = services() else { return };
    let job = Job::new("rsbad", &s, &opts(false, false));
    let id = seed_and_backup(&job).await;
    let db = job.db().await;
    let before = snapshot(&db).await;
    let archive = job.backup_dir.join(format!("{id}.tar.gz"));
    let good = std::fs::read(&archive).unwrap();
    for (what, bad) in [
        ("truncated", good[..good.len() / 2].to_vec()),
        ("flipped", {
            let mut b = good.clone();
            let i = b.len() * 3 / 4;
            b[i] ^= 0x10;
            b
        }),
    ] {
        std::fs::write(&archive, &bad).unwrap();
        let (code, v, stderr) = job.json(&["--yes", "restore", &id, "--drop"]);
        assert_eq!(code, 6, "{what}: {v} {stderr}");
        assert_eq!(snapshot(&db).await, before, "{what}: the live database changed");
        // Without a sidecar (a bare path), the archive's own checks still hold.
        let bare = job.dir.path().join("bare.tar.gz");
        std::fs::write(&bare, &bad).unwrap();
        let (code, _, _) = job.json(&["--yes", "restore", bare.to_str().unwrap(), "--drop"]);
        assert_eq!(code, 6, "{what} (bare path)");
        assert_eq!(snapshot(&db).await, before);
    }
    std::fs::write(&archive, &good).unwrap();
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_from_s3_by_id_and_latest_and_invalidate_the_cache() {
    let Some(s) = services() else { return };
    let job = Job::new("rss3", &s, &opts(true, true));
    job.seed(0.01, false).await;
    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{stderr}");
    let id = v["id"].as_str().unwrap().to_owned();
    // Only S3 has it now.
    for f in std::fs::read_dir(&job.backup_dir).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
    // Cache keys of the app under the configured prefixes, and some that must survive.
    let mut conn = job.redis().await;
    // Each test run uses fresh keys: the prefixes are the configured defaults, so make the keys
    // unique to this database name.
    let tag = &job.database;
    let doomed: Vec<String> =
        ["product:", "store:", "category:", "user:", "cart:", "order:", "settings:"]
            .iter()
            .flat_map(|p| (0..30).map(move |i| format!("{p}{tag}:{i}")))
            .collect();
    for k in &doomed {
        let _: () = redis::cmd("SET").arg(k).arg("x").query_async(&mut conn).await.unwrap();
    }
    let keep = [format!("session:{tag}"), format!("products:{tag}"), format!("x-product:{tag}")];
    for k in &keep {
        let _: () = redis::cmd("SET").arg(k).arg("x").query_async(&mut conn).await.unwrap();
    }
    let client = job.client().await;
    let target = format!("{}_s3", job.database);
    for which in [id.as_str(), "latest"] {
        let (code, v, stderr) = job.json(&["restore", which, "--target-db", &target]);
        assert_eq!(code, 0, "{which}: {v} {stderr}");
        assert!(v["source"].as_str().unwrap().starts_with("s3://"));
        assert!(
            v.get("cache_keys_invalidated").is_none(),
            "not the live database: no invalidation"
        );
        client.database(&target).drop().await.unwrap();
    }
    // Into the live database (emptied first): cache keys under the prefixes are removed.
    client.database(&job.database).drop().await.unwrap();
    let (code, v, stderr) = job.json(&["restore", "latest"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(v["cache_keys_invalidated"].as_u64().unwrap() >= doomed.len() as u64, "{v}");
    for k in &doomed {
        let exists: i64 = redis::cmd("EXISTS").arg(k).query_async(&mut conn).await.unwrap();
        assert_eq!(exists, 0, "{k}");
    }
    for k in &keep {
        let exists: i64 = redis::cmd("EXISTS").arg(k).query_async(&mut conn).await.unwrap();
        assert_eq!(exists, 1, "{k} is not under a configured prefix");
        let _: () = redis::cmd("DEL").arg(k).query_async(&mut conn).await.unwrap();
    }
    job.drop_database().await;
}

async fn drill_databases(job: &Job) -> Vec<String> {
    let client = job.client().await;
    client
        .list_database_names()
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.starts_with(&format!("{}_drill", job.database)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_passes_on_a_good_backup_fails_on_a_tampered_one_and_always_drops_its_database() {
    let Some(s) = services() else { return };
    let mut o = opts(false, false);
    o.extra = "drill: {queries: [{name: delivered-orders, collection: orders, filter: {status: delivered}}]}\n".into();
    let job = Job::new("drill", &s, &o);
    let id = seed_and_backup(&job).await;
    let (code, v, stderr) = job.json(&["drill"]);
    assert_eq!(code, 0, "{v}\n{stderr}");
    assert_eq!(v["id"], id);
    assert_eq!(v["scratch_dropped"], true);
    let cols = v["collections"].as_array().unwrap();
    assert!(cols.iter().all(|c| c["digest_matches"] == true && c["indexes_match"] == true), "{v}");
    assert!(cols.iter().any(|c| c["name"] == "bsonzoo"));
    assert_eq!(v["queries"][0]["ok"], true, "{v}");
    assert!(drill_databases(&job).await.is_empty());

    // Tampered archive (one flipped byte): the drill fails with 6 and still drops its database.
    let archive = job.backup_dir.join(format!("{id}.tar.gz"));
    let good = std::fs::read(&archive).unwrap();
    let mut bad = good.clone();
    let i = bad.len() / 2;
    bad[i] ^= 0x04;
    std::fs::write(&archive, &bad).unwrap();
    let (code, v, _) = job.json(&["drill", &id]);
    assert_eq!(code, 6, "{v}");
    assert_eq!(v["scratch_dropped"], true);
    assert!(drill_databases(&job).await.is_empty());
    std::fs::write(&archive, &good).unwrap();

    // A failing sample query is a failed drill.
    let text = std::fs::read_to_string(&job.config)
        .unwrap()
        .edit_all("filter: {status: delivered}", "filter: {status: teleported}");
    std::fs::write(&job.config, text).unwrap();
    let (code, v, _) = job.json(&["drill"]);
    assert_eq!(code, 6);
    assert_eq!(v["queries"][0]["ok"], false);
    assert!(drill_databases(&job).await.is_empty());
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_drill_and_sigkill_during_a_restore_lose_nothing() {
    let Some(s) = services() else { return };
    let job = Job::new("rskill", &s, &opts(false, false));
    job.seed(0.3, false).await;
    let (code, v, _) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0);
    let id = v["id"].as_str().unwrap().to_owned();
    let db = job.db().await;

    // SIGTERM once the drill has restored its first collection into the scratch database (it
    // logs each one): exit 130 and the database is gone.
    let mut child =
        job.command(&["drill"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let pid = child.id();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead as _;
        let mut lines = Vec::new();
        let mut signalled = false;
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if !signalled && line.contains(" documents") {
                std::process::Command::new("kill")
                    .arg("-TERM")
                    .arg(pid.to_string())
                    .status()
                    .unwrap();
                signalled = true;
            }
            lines.push(line);
        }
        (signalled, lines.join("\n"))
    });
    let status = child.wait().unwrap();
    let (signalled, log) = reader.join().unwrap();
    assert!(signalled, "the drill logged no restored collection: {log}");
    assert_eq!(status.code(), Some(130), "{log}");
    assert!(drill_databases(&job).await.is_empty(), "scratch database dropped after SIGTERM");

    // SIGKILL half-way through a restore with --drop: the live collections are intact, and the
    // next restore cleans up the temporary collections.
    let before = snapshot(&db).await;
    let child = job
        .command(&["-q", "--yes", "restore", &id, "--drop"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let names = db.list_collection_names().await.unwrap();
        if names.iter().any(|n| n.starts_with("daraa_restore_")) {
            break;
        }
        assert!(Instant::now() < deadline, "restore never started loading");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut child = child;
    child.kill().unwrap();
    child.wait().unwrap();
    let after: BTreeMap<_, _> =
        snapshot(&db).await.into_iter().filter(|(n, _)| !n.starts_with("daraa_restore_")).collect();
    assert_eq!(after, before, "live collections intact after SIGKILL");
    let (code, _, stderr) = job.json(&["--yes", "restore", &id, "--drop"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(snapshot(&db).await, before);
    job.drop_database().await;
}

/// An archive whose metadata carries a validator, a collation and a view, as a MongoDB 7 dump of
/// them would (tests/fixtures/mongodb7 holds the recorded listCollections).
fn archive_with_views(dir: &std::path::Path, db: &str) -> std::path::PathBuf {
    let docs: Vec<u8> = (0..5)
        .flat_map(|i| {
            RawDocumentBuf::try_from(
                &doc! {"_id": i, "name": format!("store {i}"), "location": "x", "status": "active"},
            )
            .unwrap()
            .into_bytes()
        })
        .collect();
    let stores = serde_json::json!({
        "options": {"validator": {"$jsonSchema": {"bsonType": "object", "required": ["name", "location"]}},
                    "validationLevel": "strict", "validationAction": "error",
                    "collation": {"locale": "ar", "strength": {"$numberInt": "2"}}},
        "indexes": [{"v": {"$numberInt": "2"}, "key": {"_id": {"$numberInt": "1"}}, "name": "_id_"}],
        "collectionName": "stores", "type": "collection"
    });
    let view = serde_json::json!({
        "options": {"viewOn": "stores", "pipeline": [{"$match": {"status": "active"}}]},
        "indexes": [], "collectionName": "active_stores", "type": "view"
    });
    let path = dir.join(format!("daraa-{db}-20260101T000000Z.tar.gz"));
    write_test_archive(
        &path,
        db,
        &[
            TestCollection { name: "stores", metadata: stores.to_string(), data: Some(docs) },
            TestCollection { name: "active_stores", metadata: view.to_string(), data: None },
        ],
    );
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_validators_and_collations_come_back_from_metadata() {
    let Some(s) = services() else { return };
    let job = Job::new("views", &s, &opts(false, false));
    let archive = archive_with_views(job.dir.path(), &job.database);
    let client = job.client().await;
    let info = client.database("admin").run_command(doc! {"buildInfo": 1}).await.unwrap();
    let db = client.database(&job.database);
    db.collection::<Document>("untouched").insert_one(doc! {"_id": 1}).await.unwrap();
    let before = snapshot(&db).await;
    let (code, v, stderr) = job.json(&["restore", archive.to_str().unwrap()]);
    if info.contains_key("ferretdbVersion") {
        // FerretDB implements neither validators, collations nor views: the restore must fail
        // before touching anything, naming the collection.
        assert_ne!(code, 0, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("stores"), "{v} {stderr}");
        assert_eq!(snapshot(&db).await, before, "nothing changed");
    } else {
        assert_eq!(code, 0, "{v} {stderr}");
        let specs = daraa_ops::mongo::dump::list_collections(&db).await.unwrap();
        let stores = specs.iter().find(|c| c.name == "stores").unwrap();
        let options = &stores.options;
        assert!(options.get_document("validator").is_ok(), "{options}");
        assert_eq!(options.get_document("collation").unwrap().get_str("locale").unwrap(), "ar");
        let view = specs.iter().find(|c| c.name == "active_stores").unwrap();
        assert_eq!(view.kind, "view");
        assert_eq!(view.options.get_str("viewOn").unwrap(), "stores");
        assert_eq!(
            db.collection::<Document>("active_stores").count_documents(doc! {}).await.unwrap(),
            5
        );
    }
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_the_server_refuses_fails_the_restore_with_counts() {
    let Some(s) = services() else { return };
    let job = Job::new("dup", &s, &opts(false, false));
    let db_name = job.database.clone();
    // Three documents, two with the same _id: the server refuses one insert.
    let docs: Vec<u8> = [doc! {"_id": 1, "a": 1}, doc! {"_id": 2, "a": 2}, doc! {"_id": 1, "a": 3}]
        .iter()
        .flat_map(|d| RawDocumentBuf::try_from(d).unwrap().into_bytes())
        .collect();
    let meta = r#"{"options":{},"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"collectionName":"orders","type":"collection"}"#;
    let path = job.dir.path().join("dup.tar.gz");
    write_test_archive(
        &path,
        &db_name,
        &[TestCollection { name: "orders", metadata: meta.into(), data: Some(docs) }],
    );

    let client = job.client().await;
    let db = client.database(&db_name);
    db.collection::<Document>("orders").insert_one(doc! {"_id": "live"}).await.unwrap();
    let before = snapshot(&db).await;
    let (code, v, stderr) = job.json(&["--yes", "restore", path.to_str().unwrap(), "--drop"]);
    assert_eq!(code, 1, "{v} {stderr}");
    let orders =
        v["collections"].as_array().unwrap().iter().find(|c| c["name"] == "orders").unwrap();
    assert_eq!(
        (orders["documents"].as_u64(), orders["inserted"].as_u64(), orders["failed"].as_u64()),
        (Some(3), Some(2), Some(1)),
        "{v}"
    );
    assert!(!orders["failures"].as_array().unwrap().is_empty(), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("failed to insert"), "{v}");
    assert_eq!(snapshot(&db).await, before, "the live collection was not replaced");
    job.drop_database().await;
}

/// An application writing into the live collection while a restore swaps it. On FerretDB (no
/// `dropTarget`) the two-step swap has an instant where the name is free and a write recreates
/// the collection: the restore must then fail naming where the original data is, and never
/// drop it. On MongoDB the swap is one atomic rename. Either way every original document is
/// still in the database afterwards (in the live collection or the one set aside).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_during_the_swap_never_loses_the_original_data() {
    let Some(s) = services() else { return };
    let job = Job::new("swapw", &s, &JobOptions::default());
    job.seed(0.01, false).await;
    assert_eq!(job.run(&["backup"], &[]).code, 0);
    let db = job.db().await;
    let backed_up: std::collections::BTreeSet<String> =
        docs_by_id(&db, "orders").await.into_keys().collect();
    // Live orders the backup does not hold: a restore that replaces the collection removes
    // them; one that does not must keep them.
    let ids: Vec<bson::Bson> = db
        .collection::<Document>("orders")
        .insert_many((0..30).map(|i| doc! {"after_backup": i}))
        .await
        .unwrap()
        .inserted_ids
        .into_values()
        .collect();
    let live_only: std::collections::BTreeSet<String> = ids
        .iter()
        .map(|id| format!("{:?}", bson::RawBson::try_from(id.clone()).unwrap().as_raw_bson_ref()))
        .collect();
    let original: std::collections::BTreeSet<String> =
        docs_by_id(&db, "orders").await.into_keys().collect();
    assert_eq!(original.len(), backed_up.len() + 30);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (coll, stop) = (db.collection::<Document>("orders"), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = coll.insert_one(doc! {"writer": "app", "n": n as i64}).await;
                n += 1;
            }
            n
        })
    };
    let r = job.run(&["--yes", "restore", "latest", "--drop"], &[]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let inserted = writer.await.unwrap();
    assert!(inserted > 0, "the writer never wrote");
    let live: std::collections::BTreeSet<String> =
        docs_by_id(&db, "orders").await.into_keys().collect();
    let mut aside = std::collections::BTreeSet::new();
    for name in db.list_collection_names().await.unwrap() {
        if name.starts_with("daraa_restore_") && name.ends_with("_old_orders") {
            aside.extend(docs_by_id(&db, &name).await.into_keys());
        }
    }
    match r.code {
        // Replaced: every backed-up order is live; the orders the backup did not hold are
        // gone (replaced, as --drop asks), not set aside somewhere forgotten.
        0 => {
            let missing: Vec<&String> = backed_up.iter().filter(|id| !live.contains(*id)).collect();
            assert!(
                missing.is_empty(),
                "{} backed-up orders missing after the restore",
                missing.len()
            );
            assert!(
                live_only.iter().all(|id| !live.contains(id)),
                "the live-only orders survived a replace"
            );
            assert!(aside.is_empty(), "a finished swap left the old orders aside");
            eprintln!("swap under {inserted} concurrent writes: restored");
        }
        // Refused: every original order (the backed-up ones and the live-only ones) is in
        // `orders` or set aside, and the message says where.
        1 => {
            let lost: Vec<&String> =
                original.iter().filter(|id| !live.contains(*id) && !aside.contains(*id)).collect();
            assert!(lost.is_empty(), "{} original orders lost: {}", lost.len(), r.stderr);
            assert!(r.stderr.contains("original data"), "{}", r.stderr);
            eprintln!(
                "swap under {inserted} concurrent writes: refused, original kept: {}",
                r.stderr
            );
        }
        other => panic!("exit {other}: {}", r.stderr),
    }
    job.drop_database().await;
}
