//! The metadata a backup writes, from MongoDB 7 `listCollections`/`listIndexes` reply fixtures
//! (tests/fixtures/mongodb7: written here from its documentation, not recorded), the collection
//! selection, and what a killed run leaves.

use bson::{Bson, Document};

use crate::archive::CollectionMetadata;
use crate::config::Config;
use crate::mongo::dump::CollectionSpec;

fn fixture(name: &str) -> Vec<Document> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mongodb7").join(name);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| match Bson::try_from(d.clone()).unwrap() {
            Bson::Document(d) => d,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn spec(name: &str) -> CollectionSpec {
    let d = fixture("listCollections.json")
        .into_iter()
        .find(|d| d.get_str("name").ok() == Some(name))
        .unwrap();
    CollectionSpec::from_listing(&d).unwrap()
}

fn metadata_json(spec: &CollectionSpec, indexes: &[Document]) -> String {
    CollectionMetadata {
        name: spec.name.clone(),
        kind: spec.kind.clone(),
        options: spec.options.clone(),
        indexes: indexes.to_vec(),
        uuid: spec.uuid.clone(),
    }
    .to_json()
}

/// The exact bytes mongodump 100.x writes for a plain collection.
#[test]
fn metadata_of_a_collection_matches_mongodump() {
    let idx = vec![fixture("listIndexes.notifications.json").remove(0)];
    assert_eq!(
        metadata_json(&spec("orders"), &idx),
        r#"{"options":{},"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"uuid":"3bc597265ded422c8ade7dad2fa756e6","collectionName":"orders","type":"collection"}"#
    );
}

#[test]
fn metadata_keeps_every_index_option_and_key_order() {
    let json = metadata_json(&spec("orders"), &fixture("listIndexes.notifications.json"));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let idx = v["indexes"].as_array().unwrap();
    let keys: Vec<&String> = idx[1]["key"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["recipientId", "isRead", "createdAt"]);
    assert_eq!(idx[2]["expireAfterSeconds"], serde_json::json!({"$numberInt": "7776000"}));
    assert_eq!(
        (idx[3]["unique"].clone(), idx[3]["sparse"].clone()),
        (serde_json::json!(true), serde_json::json!(true))
    );
    assert_eq!(idx[4]["partialFilterExpression"], serde_json::json!({"isRead": false}));
    assert_eq!(idx[5]["key"]["location"], "2dsphere");
    assert_eq!(idx[6]["weights"]["title"], serde_json::json!({"$numberInt": "3"}));
}

#[test]
fn metadata_of_views_and_collection_options() {
    let view = metadata_json(&spec("active_orders"), &[]);
    assert_eq!(
        view,
        r#"{"options":{"viewOn":"orders","pipeline":[{"$match":{"status":"active"}}]},"indexes":[],"collectionName":"active_orders","type":"view"}"#
    );
    let stores: serde_json::Value =
        serde_json::from_str(&metadata_json(&spec("stores"), &[])).unwrap();
    assert_eq!(stores["options"]["collation"]["locale"], "ar");
    assert_eq!(stores["options"]["validationLevel"], "strict");
    assert!(stores["options"]["validator"]["$jsonSchema"].is_object());
}

#[test]
fn include_then_exclude() {
    let specs = |names: &[&str]| -> Vec<CollectionSpec> {
        names
            .iter()
            .map(|n| CollectionSpec {
                name: (*n).into(),
                kind: "collection".into(),
                options: Document::new(),
                uuid: None,
            })
            .collect()
    };
    let names = |v: Vec<CollectionSpec>| v.into_iter().map(|s| s.name).collect::<Vec<_>>();
    let mut cfg = Config::default();
    assert_eq!(names(super::select(specs(&["a", "b", "c"]), &cfg)), ["a", "b", "c"]);
    cfg.backup.exclude_collections = vec!["b".into()];
    assert_eq!(names(super::select(specs(&["a", "b", "c"]), &cfg)), ["a", "c"]);
    cfg.backup.include_collections = vec!["b".into(), "c".into()];
    assert_eq!(names(super::select(specs(&["a", "b", "c"]), &cfg)), ["c"]);
}

#[test]
fn temporaries_of_killed_runs_are_removed_and_others_kept() {
    let dir = tempfile::tempdir().unwrap();
    // 4194304 is Linux's largest pid_max: no process has it.
    let dead = dir.path().join(".daraa-daraa-20261130T010203Z.manifest.json.tmp-4194304");
    let alive = dir
        .path()
        .join(format!(".daraa-daraa-20261130T010203Z.manifest.json.tmp-{}", std::process::id()));
    let foreign = dir.path().join(".notes.txt.tmp-4194304");
    let other_db = dir.path().join(".daraa-shop-20261130T010203Z.tar.gz.tmp-4194304");
    for p in [&dead, &alive, &foreign, &other_db] {
        std::fs::write(p, b"x").unwrap();
    }
    super::remove_leftovers(dir.path(), "daraa", "daraa");
    assert!(!dead.exists(), "a dead run's temporary stayed");
    assert!(alive.exists() && foreign.exists() && other_db.exists());
}
