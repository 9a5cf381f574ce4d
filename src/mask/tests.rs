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
    let full = |rule, max_days, grid, value: Option<&str>| {
        MaskRuleSpec::Full(MaskRuleFull { rule, max_days, grid, value: value.map(str::to_owned) })
    };
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
