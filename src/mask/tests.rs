use bson::{Bson, doc};

use super::*;
use crate::config::{MaskKind, MaskRuleFull, MaskRuleSpec, MaskingConfig};

fn config(rules: &[(&str, &str, MaskRuleSpec)]) -> MaskingConfig {
    let mut cfg = MaskingConfig::default();
    for (c, path, spec) in rules {
        cfg.collections
            .entry((*c).to_owned())
            .or_default()
            .insert((*path).to_owned(), spec.clone());
    }
    cfg
}

fn short(k: MaskKind) -> MaskRuleSpec {
    MaskRuleSpec::Short(k)
}

/// A rule with its options.
fn full(
    rule: MaskKind,
    max_days: Option<u32>,
    grid: Option<f64>,
    value: Option<&str>,
) -> MaskRuleSpec {
    MaskRuleSpec::Full(MaskRuleFull { rule, max_days, grid, value: value.map(str::to_owned) })
}

fn mask(m: &Masker, c: &str, d: &bson::Document) -> (bson::Document, Counts) {
    let raw = bson::RawDocumentBuf::try_from(d).unwrap();
    let mut counts = Counts::new();
    let out = m.mask(c, &raw, &mut counts).unwrap().unwrap_or(raw);
    (bson::Document::try_from(out.as_ref()).unwrap(), counts)
}

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

#[test]
fn hash_keeps_shape_and_is_the_same_everywhere_under_one_key() {
    let cfg = config(&[
        ("users", "email", short(MaskKind::Hash)),
        ("users", "phone", short(MaskKind::Hash)),
        ("orders", "customer.email", short(MaskKind::Hash)),
        ("orders", "ref", short(MaskKind::Hash)),
    ]);
    let m = Masker::new(&cfg, KEY).unwrap();
    let (u, counts) = mask(
        &m,
        "users",
        &doc! {"_id": 1, "email": "Dina@Daraa.example", "phone": "+963 912-345-678"},
    );
    let email = u.get_str("email").unwrap();
    assert!(detect::is_email(email) && email.ends_with("@example.com"), "{email}");
    let phone = u.get_str("phone").unwrap();
    assert_eq!(phone.len(), "+963 912-345-678".len());
    assert!(
        phone.starts_with('+') && phone.chars().nth(4) == Some(' ') && phone != "+963 912-345-678"
    );
    assert_eq!(counts["email"], RuleCount { rule: "hash", values: 1 });
    // The same address, in another collection and nested, masks to the same value (case too).
    let (o, _) = mask(
        &m,
        "orders",
        &doc! {"_id": 2, "customer": {"email": "dina@daraa.example"}, "ref": "TX-0042"},
    );
    assert_eq!(o.get_document("customer").unwrap().get_str("email").unwrap(), email);
    let r = o.get_str("ref").unwrap();
    assert!(
        r.starts_with(|c: char| c.is_ascii_uppercase()) && &r[2..3] == "-" && r.len() == 7,
        "{r}"
    );
    // Another key, other values; the same key again, the same bytes.
    let other = Masker::new(&cfg, b"another key of enough bytes....").unwrap();
    assert_ne!(
        mask(&other, "users", &doc! {"email": "dina@daraa.example"}).0.get_str("email").unwrap(),
        email
    );
    assert_eq!(
        mask(
            &m,
            "users",
            &doc! {"_id": 1, "email": "Dina@Daraa.example", "phone": "+963 912-345-678"}
        )
        .0,
        u
    );
}

#[test]
fn every_rule_and_arrays_on_the_path() {
    let cfg = config(&[
        ("users", "name", short(MaskKind::Fake)),
        ("users", "notes", full(MaskKind::Redact, None, None, Some("[hidden]"))),
        ("users", "birth", short(MaskKind::Null)),
        ("users", "secret", short(MaskKind::Remove)),
        ("users", "createdAt", full(MaskKind::ShiftDate, Some(10), None, None)),
        ("users", "updatedAt", full(MaskKind::ShiftDate, Some(10), None, None)),
        ("users", "addresses.location", full(MaskKind::RoundGeo, None, Some(0.1), None)),
        ("users", "addresses.phones", short(MaskKind::Hash)),
        ("users", "role", short(MaskKind::Keep)),
    ]);
    let masker = Masker::new(&cfg, KEY).unwrap();
    let t = bson::DateTime::from_millis(1_780_000_000_000);
    let d = doc! {
        "_id": 7, "name": "Layla Haddad", "notes": "call after 5", "birth": "1990-01-01", "secret": "x",
        "createdAt": t, "updatedAt": t, "role": "admin",
        "addresses": [
            {"location": {"type": "Point", "coordinates": [36.1234, 32.5678]}, "phones": ["+963911111111", "+963922222222"]},
            {"location": {"type": "Point", "coordinates": [36.0, 32.0]}},
        ],
    };
    let (out, counts) = mask(&masker, "users", &d);
    let name = out.get_str("name").unwrap();
    assert_eq!(name.split(' ').count(), 2);
    assert_ne!(name, "Layla Haddad");
    assert_eq!(out.get_str("notes").unwrap(), "[hidden]");
    assert_eq!(out.get("birth"), Some(&Bson::Null));
    assert!(!out.contains_key("secret"));
    let (c, u) = (out.get_datetime("createdAt").unwrap(), out.get_datetime("updatedAt").unwrap());
    assert_eq!(c, u, "one offset per document");
    let offset = shift_ms(&masker, "Int32(7)", 10);
    assert_ne!(offset, 0);
    assert_eq!(c.timestamp_millis(), t.timestamp_millis() + offset, "keyed by the _id");
    assert!((c.timestamp_millis() - t.timestamp_millis()).abs() <= 10 * 86_400_000);
    assert_eq!(out.get_str("role").unwrap(), "admin");
    let addresses = out.get_array("addresses").unwrap();
    let first = addresses[0].as_document().unwrap();
    let coords = first.get_document("location").unwrap().get_array("coordinates").unwrap();
    assert_eq!(coords, &vec![Bson::Double(36.1), Bson::Double(32.6)]);
    let phones = first.get_array("phones").unwrap();
    assert!(
        phones
            .iter()
            .all(|p| p.as_str().unwrap().len() == 13 && p.as_str().unwrap() != "+963911111111")
    );
    assert_eq!(counts["addresses.location"].values, 1, "[36.0, 32.0] is on the grid already");
    assert_eq!(counts["addresses.phones"].values, 2);
    assert_eq!(counts["secret"], RuleCount { rule: "remove", values: 1 });
    assert!(!counts.contains_key("role"));
}

#[test]
fn short_keys_and_unmasked_collections() {
    let cfg = config(&[("users", "email", short(MaskKind::Hash))]);
    assert!(Masker::new(&cfg, b"short").unwrap_err().to_string().contains("at least 16"));
    let m = Masker::new(&cfg, KEY).unwrap();
    assert!(m.knows("users") && !m.knows("orders"));
    // No rules: nothing changes but personal data in text (here none).
    let d = doc! {"_id": 1, "status": "paid", "total": 15_000_000};
    assert_eq!(mask(&m, "orders", &d).0, d);
    let d = doc! {"_id": 1, "email": "a@b.example"};
    assert_ne!(mask(&m, "orders", &d).0, d);
}

#[test]
#[allow(clippy::many_single_char_names)]
fn free_text_is_scanned_wherever_no_rule_covers_it() {
    let cfg = config(&[
        ("users", "email", short(MaskKind::Hash)),
        ("orders", "internal", short(MaskKind::Keep)),
    ]);
    let m = Masker::new(&cfg, KEY).unwrap();
    let (u, _) = mask(&m, "users", &doc! {"_id": 1, "email": "alice0@daraa.example"});
    let hashed = u.get_str("email").unwrap().to_owned();
    let note = "call +963900000000 or mail alice0@daraa.example before 6pm";
    let (o, counts) = mask(
        &m,
        "orders",
        &doc! {
            "_id": 2,
            "note": note,
            "history": [{"note": "courier called +963 912 345 678"}, {"note": "status changed"}],
            "internal": "keep alice0@daraa.example here",
        },
    );
    let masked = o.get_str("note").unwrap();
    assert!(!masked.contains("alice0") && !masked.contains("963900000000"), "{masked}");
    // In place, keeping the text around it and each value's shape; the e-mail masks as the
    // structured field does, so joins over it still hold.
    assert!(masked.starts_with("call +") && masked.ends_with(" before 6pm"), "{masked}");
    assert!(masked.contains(&format!("mail {hashed} before")), "{masked} vs {hashed}");
    let phone = &masked["call ".len().."call +963900000000".len()];
    assert!(phone.starts_with('+') && phone.len() == 13 && phone != "+963900000000", "{phone}");
    let h = o.get_array("history").unwrap();
    let first = h[0].as_document().unwrap().get_str("note").unwrap();
    assert!(first.starts_with("courier called +") && !first.contains("912 345 678"), "{first}");
    assert_eq!(first.len(), "courier called +963 912 345 678".len());
    assert_eq!(h[1].as_document().unwrap().get_str("note").unwrap(), "status changed");
    // `keep` opts a field out.
    assert_eq!(o.get_str("internal").unwrap(), "keep alice0@daraa.example here");
    assert_eq!(counts["note"], RuleCount { rule: "embedded", values: 2 });
    assert_eq!(counts["history.note"], RuleCount { rule: "embedded", values: 1 });
    // A collection without rules is scanned too; one without anything personal is untouched.
    let (t, _) =
        mask(&m, "tickets", &doc! {"_id": 3, "body": "IBAN DE89 3704 0044 0532 0130 00 pls"});
    assert!(!t.get_str("body").unwrap().contains("3704 0044"));
    let raw = bson::RawDocumentBuf::try_from(&doc! {"_id": 4, "body": "nothing here 42"}).unwrap();
    assert!(m.mask("tickets", &raw, &mut Counts::new()).unwrap().is_none());
    assert!(m.knows("users") && m.knows("orders") && !m.knows("tickets"));
}

#[test]
fn hashed_integers_keep_their_sign_at_every_width() {
    let cfg = config(&[("c", "n", short(MaskKind::Hash))]);
    let m = Masker::new(&cfg, KEY).unwrap();
    for v in [2_000_000_000_i32, 2_147_483_647, -2_147_483_648, -1_999_999_999, 7, -7] {
        for salt in 0..50 {
            let (d, _) = mask(&m, "c", &doc! {"_id": salt, "n": v.wrapping_add(salt)});
            let n = d.get_i32("n").unwrap();
            assert_eq!(n < 0, v.wrapping_add(salt) < 0, "{v}+{salt} -> {n}");
        }
    }
    for v in [9_000_000_000_000_000_000_i64, i64::MAX, i64::MIN, -1_000_000_000_000_000_000] {
        for salt in 0..50 {
            let (d, _) = mask(&m, "c", &doc! {"_id": salt, "n": v.wrapping_add(salt)});
            let n = d.get_i64("n").unwrap();
            assert_eq!(n < 0, v.wrapping_add(salt) < 0, "{v}+{salt} -> {n}");
        }
    }
}

#[test]
fn rules_resolve_their_defaults_and_names() {
    let table = [
        (short(MaskKind::Hash), Rule::Hash, "hash"),
        (short(MaskKind::Fake), Rule::Fake, "fake"),
        (short(MaskKind::Redact), Rule::Redact("REDACTED".into()), "redact"),
        (full(MaskKind::Redact, None, None, Some("[x]")), Rule::Redact("[x]".into()), "redact"),
        (short(MaskKind::Null), Rule::Null, "null"),
        (short(MaskKind::Remove), Rule::Remove, "remove"),
        (short(MaskKind::ShiftDate), Rule::ShiftDate { max_days: 30 }, "shift_date"),
        (
            full(MaskKind::ShiftDate, Some(3), None, None),
            Rule::ShiftDate { max_days: 3 },
            "shift_date",
        ),
        (short(MaskKind::RoundGeo), Rule::RoundGeo { grid: 0.01 }, "round_geo"),
        (
            full(MaskKind::RoundGeo, None, Some(0.5), None),
            Rule::RoundGeo { grid: 0.5 },
            "round_geo",
        ),
        (short(MaskKind::Keep), Rule::Keep, "keep"),
    ];
    for (spec, rule, name) in table {
        assert_eq!(Rule::from_spec(&spec), rule, "{spec:?}");
        assert_eq!(rule.name(), name);
    }
}

#[test]
fn keys_and_unknown_collections_are_refused_by_name() {
    let mut cfg = config(&[("users", "email", short(MaskKind::Hash))]);
    cfg.copy_as_is = vec!["settings".into()];
    let err = Masker::new(&cfg, &KEY[..15]).unwrap_err().to_string();
    assert_eq!(
        err,
        "the masking key is 15 bytes; at least 16 are needed (e.g. `openssl rand -hex 32`)"
    );
    let m = Masker::new(&cfg, &KEY[..16]).unwrap();
    assert_eq!(format!("{m:?}"), "Masker { collections: 1, .. }");
    assert!(m.knows("users") && m.knows("settings") && !m.knows("orders"));
    assert!(check_known(&m, ["users", "settings"]).is_ok());
    let one = check_known(&m, ["users", "orders"]).unwrap_err();
    assert_eq!(
        one.message,
        "masking: orders in the backup has no rules under masking.collections and is not in masking.copy_as_is; nothing was restored"
    );
    assert_eq!(one.outcome, crate::error::Outcome::Usage);
    assert!(one.hint.unwrap().contains("masking.copy_as_is"));
    let two = check_known(&m, ["orders", "users", "carts"]).unwrap_err();
    assert!(
        two.message.starts_with(
            "masking: orders, carts in the backup have no rules under masking.collections and are not in"
        ),
        "{}",
        two.message
    );
}

/// The keyed values themselves, as literals: a change to any derivation (the stream's
/// counter, a character class, a modulus, the date span) changes them.
#[test]
fn known_answers_under_a_fixed_key() {
    let cfg = config(&[("c", "n", short(MaskKind::Hash))]);
    let m = Masker::new(&cfg, KEY).unwrap();
    assert_eq!(hash_string(&m, "Ab9-zé"), "Tb5-po");
    assert_eq!(hash_string(&m, "Dina@Daraa.example"), "uffb57a218497a342@example.com");
    assert_eq!(hash_string(&m, "dina@daraa.example"), "uffb57a218497a342@example.com");
    assert_eq!(
        hash_string(&m, "a long string with more than thirty-two characters 123"),
        "m hhqf mgmuwj csbc xaon uuml zvdjip-ziv zlcdnrowmv 053"
    );
    let hv = |v: Bson| hash_value(&m, &v);
    assert_eq!(hv(Bson::Int32(-12345)), Some(Bson::Int32(-60151)));
    assert_eq!(hv(Bson::Int32(0)), Some(Bson::Int32(2)));
    assert_eq!(hv(Bson::Int64(123_456_789_012)), Some(Bson::Int64(320_496_630_523)));
    assert_eq!(hv(Bson::Int64(-5)), Some(Bson::Int64(-7)));
    assert_eq!(hv(Bson::Int64(0)), Some(Bson::Int64(2)));
    assert_eq!(
        hv(Bson::ObjectId(bson::oid::ObjectId::from_bytes([1; 12]))),
        Some(Bson::ObjectId(bson::oid::ObjectId::parse_str("4676c1d22e20f3c3c5e64e73").unwrap()))
    );
    assert_eq!(hv(Bson::Double(1.5)), None);
    assert_eq!(hv(Bson::Boolean(true)), None);
    assert_eq!(shift_ms(&m, "Int32(1)", 30), -2_373_290_000);
    assert_eq!(shift_ms(&m, "Int32(2)", 30), 32_842_000);
    assert_eq!(shift_ms(&m, "x", 1), 68_434_000);
    assert_eq!(shift_ms(&m, "x", 0), 0);
    // Counter mode: 40 bytes are the first block and 8 of a second, different one.
    let long = m.stream(b"t", b"v", 40);
    assert_eq!(long.len(), 40);
    assert_eq!(long[..32], m.stream(b"t", b"v", 32)[..]);
    assert_eq!(long[32..], [159, 135, 170, 248, 51, 158, 26, 219]);
    assert_eq!(long[..8], [63, 80, 55, 0, 92, 119, 189, 43]);
}

#[test]
fn round_geo_takes_points_and_pairs_of_numbers_only() {
    let r = |v: Bson, grid| round_geo(&v, grid);
    let point = |c: Bson| Bson::Document(doc! {"type": "Point", "coordinates": c});
    assert_eq!(r(bson::bson!([1.26, 2.0]), 0.0), None);
    assert_eq!(r(bson::bson!([1.26, 2.0]), -0.1), None);
    assert_eq!(r(bson::bson!([1.26, 2.04]), 0.1), Some(bson::bson!([1.3, 2.0])));
    assert_eq!(r(bson::bson!([3_i32, 7_i64]), 5.0), Some(bson::bson!([5.0, 5.0])));
    assert_eq!(r(bson::bson!([1.0, 2.0, 3.0]), 0.1), None);
    assert_eq!(r(bson::bson!([1.0]), 0.1), None);
    assert_eq!(r(bson::bson!(["1", 2.0]), 0.1), None);
    assert_eq!(
        r(point(bson::bson!([36.1234, 32.5678])), 0.01),
        Some(point(bson::bson!([36.12, 32.57])))
    );
    assert_eq!(r(Bson::Document(doc! {"type": "Polygon", "coordinates": [1.0, 2.0]}), 0.1), None);
    assert_eq!(r(Bson::Document(doc! {"type": "Point"}), 0.1), None);
    assert_eq!(r(Bson::Double(1.0), 0.1), None);

    // Through a rule: an array of pairs at the path rounds each pair; deeper arrays are not
    // points.
    let cfg = config(&[("c", "pts", full(MaskKind::RoundGeo, None, Some(1.0), None))]);
    let m = Masker::new(&cfg, KEY).unwrap();
    let (d, counts) = mask(
        &m,
        "c",
        &doc! {"_id": 1, "pts": [[1.4, 2.6], [3.0, 4.0], [[5.5, 6.5]], "x", [0.6, 0.0]]},
    );
    assert_eq!(
        d.get("pts").unwrap(),
        &bson::bson!([[1.0, 3.0], [3.0, 4.0], [[5.5, 6.5]], "x", [1.0, 0.0]])
    );
    assert_eq!(counts["pts"].values, 2, "two pairs moved, one was on the grid");
}

#[test]
fn what_a_rule_covers_and_what_changed_is_counted() {
    let cfg = config(&[
        ("c", "addr", short(MaskKind::Hash)),
        ("c", "gone", short(MaskKind::Remove)),
        ("c", "nothing", short(MaskKind::Null)),
        ("c", "notes", full(MaskKind::Redact, None, None, Some("R"))),
        ("c", "when", short(MaskKind::ShiftDate)),
        ("c", "who", short(MaskKind::Fake)),
        ("c", "items.sku", short(MaskKind::Hash)),
        ("kept", "x", short(MaskKind::Keep)),
    ]);
    let m = Masker::new(&cfg, KEY).unwrap();
    // `addr` covers `addr.note` (a hash leaves a document alone) but not `address`.
    let (d, counts) = mask(
        &m,
        "c",
        &doc! {
            "_id": 1, "addr": {"note": "mail a@b.example"}, "address": "mail a@b.example",
            "nothing": Bson::Null, "notes": "R", "when": "not a date", "who": 42,
            "items": [{"sku": "AB-1"}, "loose", {"other": 1}],
        },
    );
    assert_eq!(d.get_document("addr").unwrap().get_str("note").unwrap(), "mail a@b.example");
    assert_ne!(d.get_str("address").unwrap(), "mail a@b.example");
    assert_eq!(d.get("nothing"), Some(&Bson::Null));
    assert_eq!(d.get_str("notes").unwrap(), "R");
    assert_eq!(d.get_str("when").unwrap(), "not a date");
    assert_eq!(d.get_i32("who").unwrap(), 42);
    let items = d.get_array("items").unwrap();
    assert_ne!(items[0].as_document().unwrap().get_str("sku").unwrap(), "AB-1");
    assert_eq!(items[1], Bson::String("loose".into()));
    let got: Vec<(&str, &str, u64)> =
        counts.iter().map(|(k, v)| (k.as_str(), v.rule, v.values)).collect();
    assert_eq!(
        got,
        [
            ("addr", "hash", 0),
            ("address", "embedded", 1),
            ("gone", "remove", 0),
            ("items.sku", "hash", 1),
            ("notes", "redact", 0),
            ("nothing", "null", 0),
            ("when", "shift_date", 0),
            ("who", "fake", 0),
        ]
    );
    // A null stays null under every rule, and an array inside the array a path names is
    // left whole (only the named array's own elements are values).
    let (d, counts) = mask(
        &m,
        "c",
        &doc! {"_id": 5, "notes": Bson::Null, "who": Bson::Null, "addr": [["Ab"], "Cd", Bson::Null]},
    );
    assert_eq!((d.get("notes"), d.get("who")), (Some(&Bson::Null), Some(&Bson::Null)));
    let addr = d.get_array("addr").unwrap();
    assert_eq!((&addr[0], &addr[2]), (&bson::bson!(["Ab"]), &Bson::Null));
    assert_ne!(addr[1], Bson::String("Cd".into()));
    assert_eq!((counts["notes"].values, counts["who"].values, counts["addr"].values), (0, 0, 1));
    // Counts add up over documents.
    let mut counts = Counts::new();
    for id in 0..3 {
        let raw = bson::RawDocumentBuf::try_from(
            &doc! {"_id": id, "gone": 1, "items": [{"sku": "A"}, {"sku": "B"}]},
        )
        .unwrap();
        m.mask("c", &raw, &mut counts).unwrap().unwrap();
    }
    assert_eq!(counts["gone"].values, 3);
    assert_eq!(counts["items.sku"].values, 6);

    // Only `keep` rules: nothing changes unless free text holds personal data, wherever it
    // is nested.
    let unchanged = bson::RawDocumentBuf::try_from(
        &doc! {"_id": 1, "x": "a@b.example", "n": [1, {"y": "plain"}]},
    )
    .unwrap();
    assert!(m.mask("kept", &unchanged, &mut Counts::new()).unwrap().is_none());
    for nested in [
        doc! {"_id": 2, "t": [{"body": "mail a@b.example"}]},
        doc! {"_id": 3, "t": {"u": ["plain", "mail a@b.example"]}},
    ] {
        let raw = bson::RawDocumentBuf::try_from(&nested).unwrap();
        let mut counts = Counts::new();
        let out = m.mask("kept", &raw, &mut counts).unwrap().expect("masked");
        assert!(
            !format!("{:?}", bson::Document::try_from(out.as_ref()).unwrap())
                .contains("a@b.example")
        );
        assert_eq!(counts.values().map(|c| c.values).sum::<u64>(), 1);
    }
}
