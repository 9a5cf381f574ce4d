//! The spec parser and the comparison, on the Daraa spec and MongoDB 7-shaped `listIndexes`
//! replies for TTL, partial, sparse, 2dsphere, text and collation indexes (FerretDB has none
//! of those options).

use std::path::Path;

use indexmap::IndexMap;

use super::diff::{LiveIndex, Status, compare_collection};
use super::spec::{self, KeyKind, Spec};

fn repo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn daraa_spec() -> Spec {
    spec::load(&repo("config/indexes.yaml")).unwrap()
}

fn daraa_live() -> IndexMap<String, Vec<LiveIndex>> {
    let text =
        std::fs::read_to_string(repo("tests/fixtures/mongodb7/listIndexes.daraa.json")).unwrap();
    let v: IndexMap<String, Vec<serde_json::Value>> = serde_json::from_str(&text).unwrap();
    v.into_iter()
        .map(|(c, docs)| {
            let live = docs
                .into_iter()
                .map(|d| match bson::Bson::try_from(d).unwrap() {
                    bson::Bson::Document(d) => LiveIndex::from_doc(&d).unwrap(),
                    other => panic!("{other:?}"),
                })
                .collect();
            (c, live)
        })
        .collect()
}

fn parse(text: &str) -> Result<Spec, String> {
    spec::parse(text, Path::new("indexes.yaml")).map_err(|e| e.to_string())
}

#[test]
fn daraa_spec_has_the_design_indexes_and_every_kind() {
    let s = daraa_spec();
    for c in [
        "wallettransactions",
        "notifications",
        "commissions",
        "orders",
        "products",
        "stores",
        "carts",
        "addresses",
        "auditlogs",
    ] {
        assert!(s.collections.contains_key(c), "{c}");
    }
    let all: Vec<&spec::IndexSpec> = s.collections.values().flatten().collect();
    assert!(all.len() >= 30);
    assert!(all.iter().any(|i| i.expire_after_seconds == Some(7_776_000)));
    assert!(all.iter().any(|i| i.partial_filter_expression.is_some()));
    assert!(all.iter().any(|i| i.sparse && i.unique));
    assert!(all.iter().any(|i| i.collation.is_some()));
    assert!(all.iter().any(|i| i.is_text()));
    assert!(
        s.collections["addresses"]
            .iter()
            .any(|i| i.keys == [("location".to_owned(), KeyKind::Special("2dsphere".into()))])
    );
    // Key order survives parsing, and names are MongoDB's.
    let wt = &s.collections["wallettransactions"][0];
    assert_eq!(wt.name(), "walletId_1_createdAt_-1");
    assert_eq!(wt.keys[0].0, "walletId");
}

#[test]
fn daraa_spec_matches_a_mongodb7_database_built_from_it() {
    let s = daraa_spec();
    let live = daraa_live();
    for (c, indexes) in &s.collections {
        let findings = compare_collection(indexes, &live[c]);
        let bad: Vec<_> = findings.iter().filter(|f| f.status != Status::Ok).collect();
        assert!(bad.is_empty(), "{c}: {bad:#?}");
        assert_eq!(findings.len(), indexes.len(), "{c}");
    }
}

fn findings_for(spec_text: &str, collection: &str) -> Vec<super::diff::Finding> {
    let s = parse(spec_text).unwrap();
    compare_collection(&s.collections[collection], &daraa_live()[collection])
}

fn status_of(f: &[super::diff::Finding], name: &str) -> (Status, Vec<String>) {
    let f = f.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("{name}: {f:#?}"));
    (f.status, f.details.clone())
}

#[test]
fn ttl_change_is_different_and_fixable_in_place() {
    let f = findings_for(
        "collections:\n  notifications:\n    - keys: {createdAt: 1}\n      expireAfterSeconds: 2592000\n",
        "notifications",
    );
    let (st, d) = status_of(&f, "createdAt_1");
    assert_eq!(st, Status::Different);
    assert_eq!(d, vec!["expireAfterSeconds: live 7776000, spec 2592000".to_owned()]);
    assert!(f.iter().find(|x| x.name == "createdAt_1").unwrap().ttl_only());
    // The three other live indexes are extra; _id_ never is.
    assert_eq!(f.iter().filter(|x| x.status == Status::Extra).count(), 3);
    assert!(f.iter().all(|x| x.name != "_id_"));
}

#[test]
fn partial_sparse_and_collation_differences_are_named() {
    let f = findings_for(
        "collections:\n  carts:\n    - keys: {userId: 1}\n      unique: true\n      partialFilterExpression: {status: abandoned}\n      name: one_active_cart_per_user\n",
        "carts",
    );
    let (st, d) = status_of(&f, "one_active_cart_per_user");
    assert_eq!(st, Status::Different);
    assert!(d[0].starts_with("partialFilterExpression: live {\"status\":\"active\"}"), "{d:?}");

    let f = findings_for(
        "collections:\n  users:\n    - keys: {phone: 1}\n      unique: true\n",
        "users",
    );
    assert_eq!(status_of(&f, "phone_1").1, vec!["sparse: live true, spec false".to_owned()]);

    // Collation: the spec's fields must match; the server's filled-in defaults are ignored.
    let f = findings_for(
        "collections:\n  stores:\n    - keys: {name: 1}\n      collation: {locale: ar, strength: 1}\n      name: name_ar_ci\n",
        "stores",
    );
    assert!(status_of(&f, "name_ar_ci").1[0].starts_with("collation:"));
    let f = findings_for(
        "collections:\n  stores:\n    - keys: {name: 1}\n      collation: {locale: ar, strength: 2, caseLevel: false}\n      name: name_ar_ci\n",
        "stores",
    );
    assert_eq!(status_of(&f, "name_ar_ci").0, Status::Ok);
}

#[test]
fn text_fields_compare_as_a_set_and_2dsphere_by_type() {
    let f = findings_for(
        "collections:\n  products:\n    - keys: {description: text, name: text}\n      name: product_search\n",
        "products",
    );
    assert_eq!(status_of(&f, "product_search").0, Status::Ok);
    let f = findings_for(
        "collections:\n  products:\n    - keys: {name: text}\n      name: product_search\n",
        "products",
    );
    assert!(status_of(&f, "product_search").1[0].starts_with("same name, other keys"));
    let f = findings_for("collections:\n  addresses:\n    - keys: {location: 1}\n", "addresses");
    assert_eq!(status_of(&f, "location_1").0, Status::Missing);
    assert_eq!(status_of(&f, "location_2dsphere").0, Status::Extra);
}

#[test]
fn same_keys_under_another_name() {
    // No name in the spec: the live index with those keys counts, whatever its name.
    let f = findings_for(
        "collections:\n  orders:\n    - keys: {courierId: 1, status: 1}\n      partialFilterExpression: {status: {$in: [assigned, picked_up, on_the_way]}}\n",
        "orders",
    );
    assert_eq!(status_of(&f, "courierId_1_status_1").0, Status::Ok);
    // An explicit other name is a difference.
    let f = findings_for(
        "collections:\n  orders:\n    - keys: {userId: 1, createdAt: -1}\n      name: by_user\n",
        "orders",
    );
    assert_eq!(
        status_of(&f, "by_user").1,
        vec!["name: live userId_1_createdAt_-1, spec by_user".to_owned()]
    );
}

#[test]
fn impossible_specs_exit_2_naming_the_line() {
    let cases = [
        (
            "collections:\n  a:\n    - keys: {x: 1, y: 1}\n      expireAfterSeconds: 10\n",
            ":3:",
            "single-field",
        ),
        (
            "collections:\n  a:\n    - keys: {x: 1}\n    - keys: {x: 1}\n      name: other\n",
            ":4:",
            "repeats the keys of line 3",
        ),
        ("collections:\n  a:\n    - keys: {x: 2}\n", ":3:", "is not 1, -1"),
        (
            "collections:\n  a:\n    - keys: {x: 1}\n      sparse: true\n      partialFilterExpression: {x: 1}\n",
            ":3:",
            "cannot be combined",
        ),
        (
            "collections:\n  a:\n    - keys: {x: hashed}\n      unique: true\n",
            ":3:",
            "hashed index cannot be unique",
        ),
        ("collections:\n  a:\n    - keys: {x: up}\n", ":3:", "is not 1, -1"),
        ("collections:\n  a:\n    - keys: {}\n", ":3:", "at least one key"),
        (
            "collections:\n  a:\n    - keys: {x: 1}\n      name: n\n    - keys: {y: 1}\n      name: n\n",
            ":5:",
            "used twice",
        ),
        (
            "collections:\n  a:\n    - keys: {x: text}\n    - keys: {y: text}\n",
            ":4:",
            "one text index",
        ),
        (
            "collections:\n  a:\n    - keys: {x: 1}\n      collation: {strength: 2}\n",
            ":3:",
            "locale",
        ),
        ("collections:\n  a:\n    - keys: {x: 1}\n      expireAfterSeconds: -1\n", ":3:", "0..="),
        ("collections:\n  a:\n    - keys: {x: 1}\n      hidden: true\n", ":4:", "unknown field"),
        ("collection:\n  a: []\n", ":1:", "unknown field"),
        ("collections:\n  system.users:\n    - keys: {x: 1}\n", ":3:", "not a collection name"),
        ("collections:\n  a$b:\n    - keys: {x: 1}\n", ":3:", "not a collection name"),
        ("collections:\n  '':\n    - keys: {x: 1}\n", ":3:", "not a collection name"),
        ("collections:\n  a:\n    - keys: {'': 1}\n", ":3:", "invalid key field \"\""),
        ("collections:\n  a:\n    - keys: {$x: 1}\n", ":3:", "invalid key field \"$x\""),
        ("collections:\n  a:\n    - keys: {x: 1}\n      name: _id_\n", ":3:", "reserved"),
        ("collections:\n  a:\n    - keys: {_id: 1, x: 1}\n      name: _id_\n", ":3:", "reserved"),
    ];
    // The name _id_ is the _id index's own.
    assert!(parse("collections:\n  a:\n    - keys: {_id: 1}\n      name: _id_\n").is_ok());
    for (text, line, what) in cases {
        let e = parse(text).unwrap_err();
        assert!(e.starts_with("indexes.yaml"), "{e}");
        assert!(e.contains(line), "{text}\n→ {e} (want {line})");
        assert!(e.contains(what), "{text}\n→ {e} (want {what})");
    }
}

#[test]
fn export_yaml_parses_back_to_the_same_indexes() {
    let live = daraa_live();
    let mut collections = IndexMap::new();
    for (c, indexes) in &live {
        collections.insert(
            c.clone(),
            indexes.iter().filter(|i| i.name != "_id_").map(LiveIndex::to_spec).collect::<Vec<_>>(),
        );
    }
    let text = spec::to_yaml(&collections, "exported for a test");
    let back = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for (c, indexes) in &back.collections {
        let findings = compare_collection(indexes, &live[c]);
        assert!(findings.iter().all(|f| f.status == Status::Ok), "{c}: {findings:#?}\n{text}");
    }
}

/// Numbers compare by value whatever their BSON type, and only whole numbers an f64 holds
/// exactly become integers (cargo-mutants found the guard untested).
#[test]
fn numbers_are_made_comparable_only_when_whole_and_exact() {
    use super::diff::canon;
    use serde_json::json;
    assert!(canon(json!(1.0)).is_i64());
    assert_eq!(canon(json!(-3.0)), json!(-3));
    assert!(canon(json!(1.5)).is_f64(), "a fraction stays a fraction");
    assert!(canon(json!(-8.5e15)).is_i64(), "whole, and below the bound in magnitude");
    assert!(canon(json!(9.0e15)).is_f64(), "the bound itself is not below the bound");
    assert!(canon(json!(8.0e15)).is_i64());
    assert!(canon(json!(1.0e16)).is_f64());
    assert_eq!(canon(json!({"a": [2.0, {"b": 0.0}]})), json!({"a": [2, {"b": 0}]}));
    // The same through BSON: an Int32, an Int64 and a Double 1 are equal.
    let one = [bson::Bson::Int32(1), bson::Bson::Int64(1), bson::Bson::Double(1.0)];
    assert!(one.iter().all(|v| super::diff::to_json(v) == json!(1)));
}

/// `unique: 1` and `sparse: 0` (numbers, as older drivers write them) read as booleans.
#[test]
fn numeric_option_flags_read_as_booleans() {
    let live = LiveIndex::from_doc(&bson::doc! {
        "v": 2, "name": "a_1", "key": {"a": 1}, "unique": 1_i32, "sparse": 0.0,
    })
    .unwrap();
    assert!(live.unique);
    assert!(!live.sparse);
    let live = LiveIndex::from_doc(&bson::doc! {
        "v": 2, "name": "a_1", "key": {"a": 1}, "unique": 0_i64, "sparse": 1.0,
    })
    .unwrap();
    assert!(!live.unique);
    assert!(live.sparse);
}

/// How a key pattern is shown in findings and errors.
#[test]
fn key_patterns_are_shown_as_the_spec_writes_them() {
    let keys = [
        ("userId".to_owned(), KeyKind::Asc),
        ("createdAt".to_owned(), KeyKind::Desc),
        ("loc".to_owned(), KeyKind::Special("2dsphere".into())),
    ];
    assert_eq!(super::diff::show_keys(&keys), "{userId: 1, createdAt: -1, loc: 2dsphere}");
    assert_eq!(super::diff::show_keys(&[]), "{}");
}

/// `collMod` fixes a TTL in place only when the TTL value is the one difference between two
/// TTL indexes of the same name and keys; anything else is a rebuild (cargo-mutants found
/// every negative case untested).
#[test]
fn only_a_ttl_value_difference_is_fixable_in_place() {
    let live = |d: bson::Document| LiveIndex::from_doc(&d).unwrap();
    let finding = |spec_text: &str, live: LiveIndex| {
        let s = parse(spec_text).unwrap();
        let f = compare_collection(&s.collections["c"], &[live]);
        assert_eq!(f.len(), 1, "{f:#?}");
        f.into_iter().next().unwrap()
    };
    let ttl = |name: &str, key: i32, secs: i32| {
        live(
            bson::doc! {"v": 2, "name": name, "key": {"createdAt": key}, "expireAfterSeconds": secs},
        )
    };
    let spec = "collections:\n  c:\n    - keys: {createdAt: 1}\n      expireAfterSeconds: 200\n";
    // The one fixable case.
    let f = finding(spec, ttl("createdAt_1", 1, 100));
    assert!(f.status == Status::Different && f.ttl_only(), "{f:#?}");
    // The same TTL: nothing to fix.
    assert!(!finding(spec, ttl("createdAt_1", 1, 200)).ttl_only());
    // Matched by keys under another name.
    let f = finding(spec, ttl("ttl_created", 1, 100));
    assert!(f.status == Status::Different && !f.ttl_only(), "{f:#?}");
    // Matched by name with other keys.
    let named = "collections:\n  c:\n    - keys: {createdAt: 1}\n      name: createdAt_1\n      expireAfterSeconds: 200\n";
    let f = finding(named, ttl("createdAt_1", -1, 100));
    assert!(f.status == Status::Different && !f.ttl_only(), "{f:#?}");
    // A TTL on one side only.
    let plain = "collections:\n  c:\n    - keys: {createdAt: 1}\n";
    let f = finding(plain, ttl("createdAt_1", 1, 100));
    assert!(f.status == Status::Different && !f.ttl_only(), "{f:#?}");
    let f =
        finding(spec, live(bson::doc! {"v": 2, "name": "createdAt_1", "key": {"createdAt": 1}}));
    assert!(f.status == Status::Different && !f.ttl_only(), "{f:#?}");
    // The TTL and another option.
    let unique = "collections:\n  c:\n    - keys: {createdAt: 1}\n      unique: true\n      expireAfterSeconds: 200\n";
    let f = finding(unique, ttl("createdAt_1", 1, 100));
    assert!(f.status == Status::Different && !f.ttl_only(), "{f:#?}");
}

/// The status words of `indexes validate`'s table are its JSON's.
#[test]
fn status_words_are_the_json_ones() {
    for s in [Status::Ok, Status::Missing, Status::Extra, Status::Different] {
        assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
    }
    assert_eq!(Status::Different.as_str(), "different");
}

/// Key directions read from a spec or a live index as MongoDB writes them (any positive or
/// negative number, zero meaning nothing) and written back as MongoDB stores them.
#[test]
fn key_kinds_read_and_write_as_mongodb_writes_them() {
    use serde_json::json;
    for (v, kind) in [
        (json!(1), Some(KeyKind::Asc)),
        (json!(1.0), Some(KeyKind::Asc)),
        (json!(0.5), Some(KeyKind::Asc)),
        (json!(-1), Some(KeyKind::Desc)),
        (json!(-0.5), Some(KeyKind::Desc)),
        (json!(0), None),
        (json!(0.0), None),
        (json!(-0.0), None),
        (json!("2dsphere"), Some(KeyKind::Special("2dsphere".into()))),
        (json!("hashed"), Some(KeyKind::Special("hashed".into()))),
        (json!("1"), None),
        (json!("asc"), None),
        (json!(true), None),
        (json!(null), None),
    ] {
        assert_eq!(KeyKind::from_json(&v), kind, "{v}");
    }
    assert_eq!(KeyKind::Asc.to_bson(), bson::Bson::Int32(1));
    assert_eq!(KeyKind::Desc.to_bson(), bson::Bson::Int32(-1));
    assert_eq!(KeyKind::Special("text".into()).to_bson(), bson::Bson::String("text".into()));
}

/// What `indexes apply` sends for each declared index: keys in order with MongoDB's values,
/// the name, and each option only when declared.
#[test]
fn create_documents_carry_every_declared_option_and_nothing_else() {
    let spec = parse(
        "collections:\n  a:\n    - keys: {x: 1, y: -1, z: hashed}\n    - keys: {p: 1}\n      \
         unique: true\n      partialFilterExpression: {p: {$gt: 5}}\n      \
         collation: {locale: fr, strength: 2}\n    - keys: {t: 1}\n      name: ttl\n      \
         expireAfterSeconds: 60\n      sparse: true\n",
    )
    .unwrap();
    let docs: Vec<bson::Document> =
        spec.collections["a"].iter().map(|i| i.to_create_doc().unwrap()).collect();
    assert_eq!(
        docs,
        [
            bson::doc! {"key": {"x": 1, "y": -1, "z": "hashed"}, "name": "x_1_y_-1_z_hashed"},
            bson::doc! {
                "key": {"p": 1}, "name": "p_1", "unique": true,
                "partialFilterExpression": {"p": {"$gt": 5}},
                "collation": {"locale": "fr", "strength": 2},
            },
            bson::doc! {
                "key": {"t": 1}, "name": "ttl", "sparse": true, "expireAfterSeconds": 60_i64,
            },
        ]
    );
}

/// `indexes export` writes names plain where YAML reads them back as the same string, and
/// quoted otherwise (digits first, spaces, YAML's words for booleans and null, anything but
/// ASCII); a collection without indexes as `[]`; each option on its own line.
#[test]
fn exported_yaml_quotes_only_what_yaml_would_misread() {
    let text = "collections:\n  orders:\n    - keys: {customer_id: 1, createdAt: -1}\n      \
        unique: true\n    - keys: {seen: 1}\n      expireAfterSeconds: 60\n      sparse: true\n    \
        - keys: {state: 1}\n      partialFilterExpression: {state: {$exists: true}}\n      \
        collation: {locale: ar}\n  '2024': []\n  'true':\n    - keys: {'x y': text}\n  \
        \u{637}\u{644}\u{628}\u{627}\u{62a}:\n    - keys: {_id: hashed}\n      name: 'no'\n  \
        a.b-c_d: []\n  _x: []\n  '-x': []\n  'y': []\n";
    let spec = parse(text).unwrap();
    let yaml = spec::to_yaml(&spec.collections, "exported\nby a test");
    let want = r#"# exported
# by a test
collections:
  orders:
    - keys: {customer_id: 1, createdAt: -1}
      name: customer_id_1_createdAt_-1
      unique: true
    - keys: {seen: 1}
      name: seen_1
      sparse: true
      expireAfterSeconds: 60
    - keys: {state: 1}
      name: state_1
      partialFilterExpression: {"state":{"$exists":true}}
      collation: {"locale":"ar"}
  "2024": []
  "true":
    - keys: {"x y": text}
      name: "x y_text"
  "طلبات":
    - keys: {_id: hashed}
      name: "no"
  a.b-c_d: []
  _x: []
  "-x": []
  "y": []
"#;
    assert_eq!(yaml, want);
}
