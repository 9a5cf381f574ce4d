//! The development data generator against the real server: counts, determinism, and the
//! bsonzoo documents read back byte-identical (raw BSON).

use bson::{Document, RawDocumentBuf, doc};
use daraa_devdata::{self as devdata, SeedOptions, zoo};
use futures_util::TryStreamExt as _;

use crate::support::{docs_by_id, services, unique};

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
        let docs = docs_by_id(&b, name).await;
        assert!(!docs.is_empty(), "{name}");
        assert_eq!(
            docs,
            docs_by_id(&c, name).await,
            "{name} differs between two seeds with the same options"
        );
    }
    c.drop().await.unwrap();
    db.drop().await.unwrap();
    client.database(&format!("{db_name}b")).drop().await.unwrap();
}
