//! The development data generator against the real server: counts, determinism, and the
//! bsonzoo documents read back byte-identical (raw BSON).

use bson::{Document, RawDocumentBuf, doc};
use daraa_devdata::{self as devdata, SeedOptions, zoo};
use futures_util::TryStreamExt as _;

use crate::support::{docs_by_id, services, unique};

/// GridFS chunks keyed by (files_id, n), without their `_id`.
async fn chunks_by_file(db: &mongodb::Database) -> std::collections::BTreeMap<String, Vec<u8>> {
    let chunks: Vec<Document> =
        db.collection("fs.chunks").find(doc! {}).await.unwrap().try_collect().await.unwrap();
    chunks
        .into_iter()
        .map(|mut c| {
            c.remove("_id");
            let key = format!("{:?}/{:?}", c.get("files_id"), c.get("n"));
            (key, bson::RawDocumentBuf::try_from(&c).unwrap().into_bytes())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_scale_one_writes_100k_documents_and_the_zoo_round_trips() {
    let Some(s) = services() else { return };
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = mongodb::Client::with_uri_str(&s.mongo_uri).await.unwrap();
    let db_name = unique("seed");
    let opts = SeedOptions {
        database: db_name.clone(),
        scale: 1.0,
        seed: 42,
        now_ms: 1_780_000_000_000,
        parallel: 4,
        with_zoo: true,
    };
    let report = devdata::seed(&client, &opts).await.unwrap();
    assert!(report.documents >= 100_000, "{}", report.documents);
    eprintln!("seeded {} documents in {:.1}s", report.documents, report.seconds);

    let db = client.database(&db_name);
    for (name, n) in &report.collections {
        let live = db.collection::<Document>(name).count_documents(doc! {}).await.unwrap();
        assert_eq!(live, *n, "{name}");
    }
    assert!(report.collections.contains_key(devdata::ESCAPED_COLLECTION));

    // Read the zoo back independently of the generator and compare raw bytes.
    let info = client.database("admin").run_command(doc! {"buildInfo": 1}).await.unwrap();
    let ferretdb = info.contains_key("ferretdbVersion");
    let live: Vec<RawDocumentBuf> = db
        .collection::<RawDocumentBuf>("bsonzoo")
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let mut identical = 0;
    for d in zoo::documents() {
        let id = d.get_str("_id").unwrap();
        let expected = RawDocumentBuf::try_from(&d).unwrap();
        let back = live.iter().find(|r| r.get_str("_id").ok() == Some(id));
        let fate = match back {
            Some(b) if b.as_bytes() == expected.as_bytes() => None,
            Some(_) => Some("altered"),
            None => Some("refused"),
        };
        let expected_fate = if ferretdb { zoo::expected_on_ferretdb(id) } else { None };
        assert_eq!(fate, expected_fate, "bsonzoo document {id}");
        if fate.is_none() {
            identical += 1;
        }
    }
    assert!(identical >= 15, "{identical}");
    assert!(report.bsonzoo.stored.iter().any(|i| i == "big_16mib"));

    // Same seed, same documents, byte for byte, in every collection: seed a second database
    // at a small scale twice over and compare with a third seeded once.
    let small = |suffix: &str| SeedOptions {
        database: format!("{db_name}{suffix}"),
        scale: 0.01,
        with_zoo: false,
        ..opts.clone()
    };
    for options in [small("b"), small("b"), small("c")] {
        devdata::seed(&client, &options).await.unwrap();
    }
    let (b, c) = (client.database(&format!("{db_name}b")), client.database(&format!("{db_name}c")));
    let names = b.list_collection_names().await.unwrap();
    assert!(names.len() >= 12, "{names:?}");
    for name in &names {
        // GridFS chunks get their _ids from the driver (random ObjectIds): compared by their
        // file and number, as GridFS reads them.
        let (docs, other) = if name == "fs.chunks" {
            (chunks_by_file(&b).await, chunks_by_file(&c).await)
        } else {
            (docs_by_id(&b, name).await, docs_by_id(&c, name).await)
        };
        assert!(!docs.is_empty(), "{name}");
        assert_eq!(docs, other, "{name} differs between two seeds with the same options");
    }
    for name in [devdata::DOTTED_COLLECTION, devdata::UNICODE_COLLECTION, "fs.files", "fs.chunks"] {
        assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
    }
    // GridFS as a client reads it: every file downloads whole through the driver's bucket,
    // and the bucket's indexes are there.
    let bucket = b.gridfs_bucket(None);
    let files: Vec<Document> =
        b.collection("fs.files").find(doc! {}).await.unwrap().try_collect().await.unwrap();
    assert!(files.len() >= 2 && files.iter().any(|f| f.get_i64("length").unwrap_or(0) > 261_120));
    for f in &files {
        let mut data = Vec::new();
        let mut stream = bucket.open_download_stream(f.get("_id").unwrap().clone()).await.unwrap();
        futures_util::io::AsyncReadExt::read_to_end(&mut stream, &mut data).await.unwrap();
        assert_eq!(data.len() as i64, f.get_i64("length").unwrap(), "{f}");
    }
    let index_keys = |coll: &str| {
        let b = b.clone();
        let coll = coll.to_owned();
        async move {
            let idx: Vec<Document> = b
                .run_cursor_command(doc! {"listIndexes": coll})
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            idx.into_iter().map(|i| i.get_document("key").unwrap().clone()).collect::<Vec<_>>()
        }
    };
    assert!(index_keys("fs.files").await.contains(&doc! {"filename": 1, "uploadDate": 1}));
    assert!(index_keys("fs.chunks").await.contains(&doc! {"files_id": 1, "n": 1}));
    c.drop().await.unwrap();
    db.drop().await.unwrap();
    client.database(&format!("{db_name}b")).drop().await.unwrap();
}
