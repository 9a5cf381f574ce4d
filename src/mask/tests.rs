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
    let out = m.mask(c, &raw, &mut counts).unwrap();
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
    assert!(m.masks("users") && !m.masks("orders"));
    let d = doc! {"_id": 1, "email": "a@b.example"};
    assert_eq!(mask(&m, "orders", &d).0, d);
}
