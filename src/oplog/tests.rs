use std::collections::BTreeMap;

use bson::{Bson, Document, doc};

use super::plan::{Action, Planner};
use super::state::{Memory, Run, key};
use super::*;

fn fixture(rel: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn bson_of(v: &serde_json::Value) -> Bson {
    Bson::try_from(v.clone()).unwrap()
}

fn doc_of(v: &serde_json::Value) -> Document {
    bson_of(v).as_document().unwrap().clone()
}

fn entries(v: &serde_json::Value) -> Vec<Entry> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let raw = bson::RawDocumentBuf::try_from(&doc_of(e)).unwrap();
            Entry::parse(&raw).unwrap()
        })
        .collect()
}

/// Plans `entries` for `db` as the product does (filtered by [`keep`]) and applies them to
/// `memory`.
fn replay(memory: &mut Memory, db: &str, entries: &[Entry]) -> plan::Skipped {
    let mut planner = Planner::new(db);
    for e in entries.iter().filter(|e| keep(e, db)) {
        planner.push(e).unwrap();
    }
    let (actions, skipped) = planner.finish();
    for (_, a) in &actions {
        memory.apply(a).unwrap();
    }
    skipped
}

fn expected(v: &serde_json::Value) -> BTreeMap<String, BTreeMap<Vec<u8>, Document>> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(coll, docs)| {
            let docs = docs
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let d = doc_of(d);
                    (key(d.get("_id").unwrap()), d)
                })
                .collect();
            (coll.clone(), docs)
        })
        .collect()
}

#[test]
fn diffs_make_the_documents_mongodb_makes_and_twice_is_once() {
    let f = fixture("mongodb7/oplog/diffs.json");
    for case in f["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let before = doc_of(&case["before"]);
        let o = doc_of(&case["o"]);
        let id = before.get("_id").unwrap().clone();
        let after = diff::apply(Some(&before), &o, &id).unwrap().unwrap();
        assert_eq!(after, doc_of(&case["after"]), "{name}");
        // Field order too: the documents are compared as BSON bytes.
        let bytes = |d: &Document| bson::RawDocumentBuf::try_from(d).unwrap().into_bytes();
        assert_eq!(bytes(&after), bytes(&doc_of(&case["after"])), "{name}");
        if o.get("$v") == Some(&Bson::Int32(2)) {
            let again = diff::apply(Some(&after), &o, &id).unwrap().unwrap();
            assert_eq!(again, after, "{name}: applying the diff twice changes the document");
        }
        // An update of a document that is not there changes nothing.
        if o.contains_key("$v") {
            assert_eq!(diff::apply(None, &o, &id).unwrap(), None, "{name}");
        }
    }
    assert!(f["cases"].as_array().unwrap().len() >= 15);
}

#[test]
fn bad_diffs_are_refused_naming_what_is_wrong() {
    let pre = doc! {"_id": 1, "a": [1]};
    for (o, says) in [
        (doc! {"$v": 2, "diff": {"x": {"a": 1}}}, "unexpected section"),
        (doc! {"$v": 2, "diff": {"b": {"f": {"o": 0, "d": 1}}}}, "binary diff"),
        (doc! {"$v": 2, "diff": {"sa": {"a": true, "q1": 1}}}, "unexpected key"),
        (doc! {"$v": 3, "x": 1}, "$v: 3"),
        (doc! {"$v": 2}, "no diff"),
    ] {
        let e = diff::apply(Some(&pre), &o, &Bson::Int32(1)).unwrap_err();
        assert!(e.0.contains(says), "{o}: {e}");
    }
}

#[test]
fn a_mongodb_7_history_replays_to_the_documents_and_indexes_it_describes() {
    let f = fixture("mongodb7/oplog/history.json");
    let mut memory = Memory::default();
    let skipped = replay(&mut memory, "shop", &entries(&f["entries"]));
    assert_eq!(memory.collections, expected(&f["after"]));
    let indexes: BTreeMap<String, Vec<String>> =
        serde_json::from_value(f["indexes"].clone()).unwrap();
    assert_eq!(memory.indexes, indexes);
    assert_eq!(serde_json::to_value(skipped).unwrap(), f["skipped"]);
    // Replaying the same history again over the result changes nothing (an insert is a put,
    // a diff re-applied is the same document), except what the history itself dropped.
    let mut again = memory.clone();
    let _ = replay(&mut again, "shop", &entries(&f["entries"]));
    assert_eq!(again.collections, memory.collections);
}

#[test]
fn a_cut_off_inside_a_transaction_applies_none_of_it() {
    let f = fixture("mongodb7/oplog/history.json");
    let all = entries(&f["entries"]);
    // Up to the second partialTxn entry of the large transaction: none of its operations.
    let cut = Ts { t: 1_700_000_005, i: 2 };
    let mut memory = Memory::default();
    let before: Vec<Entry> = all.iter().filter(|e| e.ts <= cut).cloned().collect();
    let skipped = replay(&mut memory, "shop", &before);
    let ids: Vec<Bson> =
        memory.docs("orders").iter().map(|d| d.get("_id").unwrap().clone()).collect();
    assert!(!ids.contains(&Bson::Int32(20)) && !ids.contains(&Bson::Int32(21)), "{ids:?}");
    assert!(ids.contains(&Bson::Int32(10)), "the committed transaction before the cut: {ids:?}");
    assert_eq!(skipped.uncommitted, 2);
}

#[test]
fn commands_a_replay_cannot_apply_stop_it_naming_them() {
    let ts = Ts { t: 1_700_000_100, i: 1 };
    for (o, says) in [
        (doc! {"dropDatabase": 1}, "command dropDatabase on shop.$cmd"),
        (doc! {"renameCollection": "shop.a", "to": "elsewhere.a"}, "crosses databases"),
        (doc! {"emptycapped": "a"}, "command emptycapped"),
        (doc! {"dropIndexes": "a", "index": {"k": 1}}, "key pattern"),
    ] {
        let e = Entry::from_doc(&doc! {"op": "c", "ns": "shop.$cmd", "o": o.clone()}, ts).unwrap();
        let err = Planner::new("shop").push(&e).unwrap_err();
        assert!(err.0.contains(says), "{o}: {err}");
        assert!(err.0.contains("1700000100"), "names the entry's time: {err}");
    }
    let e = Entry::from_doc(&doc! {"op": "xi", "ns": "shop.a", "o": {}}, ts).unwrap();
    assert!(Planner::new("shop").push(&e).unwrap_err().0.contains("op \"xi\""));
}

#[test]
fn ferretdb_updates_are_whole_documents_so_removed_fields_stay_removed() {
    let f = fixture("ferretdb/oplog.json");
    let all = entries(&f["entries"]);
    assert!(
        all.iter().all(|e| matches!(e.id, Some(Bson::ObjectId(_)))),
        "FerretDB entries have an _id"
    );
    let mut memory = Memory::default();
    replay(&mut memory, "shop", &all);
    // The update's $set holds the whole new document: "note", which the update removed, is
    // gone (a $set of the fields would have kept it).
    assert_eq!(memory.collections, expected(&f["after"]));
    assert!(!keep(&all[5], "shop"), "admin.system.users (credentials) is never kept");
    assert!(!keep(&all[4], "shop"), "another database");
}

#[test]
fn a_run_reads_only_what_its_updates_need_and_writes_the_final_documents() {
    let put = |id: i32, v: i32| Action::Put { coll: "c".into(), doc: doc! {"_id": id, "v": v} };
    let upd = |id: i32| Action::Update {
        coll: "c".into(),
        id: Bson::Int32(id),
        o: doc! {"$v": 2, "diff": {"u": {"v": 100}}},
    };
    let del = |id: i32| Action::Delete { coll: "c".into(), id: Bson::Int32(id) };
    let actions = [upd(1), put(2, 0), upd(2), del(3), put(3, 5), upd(4)];
    let refs: Vec<&Action> = actions.iter().collect();
    // 1 and 4 are updated before anything else happens to them: their documents are read.
    assert_eq!(Run::needs(&refs), vec![Bson::Int32(1), Bson::Int32(4)]);
    let mut run = Run::new(vec![doc! {"_id": 1, "v": 1, "w": 1}]);
    for a in &actions {
        run.apply(a).unwrap();
    }
    let (ids, docs) = run.writes();
    assert_eq!(ids, vec![Bson::Int32(1), Bson::Int32(2), Bson::Int32(3), Bson::Int32(4)]);
    assert_eq!(
        docs,
        vec![doc! {"_id": 1, "v": 100, "w": 1}, doc! {"_id": 2, "v": 100}, doc! {"_id": 3, "v": 5}]
    );
}

#[test]
fn timestamps_order_and_parse_as_the_server_has_them() {
    let a = Ts { t: 10, i: u32::MAX };
    let b = Ts { t: 11, i: 0 };
    assert!(a < b, "seconds first, then the increment");
    assert_eq!(Ts::parse("1700000000,5").unwrap(), Ts { t: 1_700_000_000, i: 5 });
    assert_eq!(
        Ts::parse("2023-11-14T22:13:20Z").unwrap(),
        Ts { t: 1_700_000_000, i: u32::MAX },
        "a time means every entry of that second"
    );
    assert!(Ts::parse("yesterday").unwrap_err().contains("RFC 3339"));
    assert!(Ts::parse("1,x").is_err());
    let s = Ts { t: 7, i: 42 }.sortable();
    assert_eq!(s, "0000000007.0000000042");
    assert_eq!(Ts::parse_sortable(&s), Some(Ts { t: 7, i: 42 }));
    assert_eq!(Ts::from(bson::Timestamp { time: 3, increment: 4 }), Ts { t: 3, i: 4 });
}

/// Entries of collections a backup does not take are left out, inside `applyOps` too.
#[test]
fn only_taken_leaves_out_excluded_collections() {
    use super::{Entry, only_taken};
    let takes = |c: &str| c != "skip";
    let run = |d: bson::Document| {
        let raw = bson::RawDocumentBuf::try_from(&d).unwrap();
        let e = Entry::parse(&raw).unwrap();
        only_taken(&raw, &e, "d", &takes)
            .unwrap()
            .map(|r| bson::Document::try_from(r.as_ref()).unwrap())
    };
    let ts = bson::Timestamp { time: 5, increment: 1 };
    let kept = bson::doc! {"ts": ts, "op": "i", "ns": "d.orders", "o": {"_id": 1}};
    assert_eq!(run(kept.clone()), Some(kept));
    assert_eq!(
        run(bson::doc! {"ts": ts, "op": "u", "ns": "d.skip", "o": {"$v": 1}, "o2": {"_id": 1}}),
        None
    );
    assert_eq!(
        run(bson::doc! {"ts": ts, "op": "c", "ns": "d.$cmd", "o": {"create": "skip"}}),
        None
    );
    let txn = bson::doc! {"ts": ts, "op": "c", "ns": "admin.$cmd", "o": {"applyOps": [
        {"op": "i", "ns": "d.skip", "o": {"_id": 1}},
        {"op": "i", "ns": "d.orders", "o": {"_id": 2}},
        {"op": "i", "ns": "other.skip", "o": {"_id": 3}},
    ]}};
    let left = run(txn).unwrap();
    let ops = left.get_document("o").unwrap().get_array("applyOps").unwrap();
    let ns: Vec<&str> =
        ops.iter().map(|o| o.as_document().unwrap().get_str("ns").unwrap()).collect();
    assert_eq!(ns, ["d.orders", "other.skip"]);
    let only_skip = bson::doc! {"ts": ts, "op": "c", "ns": "admin.$cmd", "o": {"applyOps": [
        {"op": "i", "ns": "d.skip", "o": {"_id": 1}},
    ]}};
    assert_eq!(run(only_skip), None);
}
