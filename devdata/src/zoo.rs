//! `bsonzoo`: one document per BSON type or edge value, for archive and round-trip tests.
//!
//! Each document has a string `_id` naming what it holds. Some values are refused or changed
//! by FerretDB (see docs/testing.md); [`expected_on_ferretdb`] lists them, and archive-level tests use
//! [`documents`] directly, with no server.

use bson::spec::BinarySubtype;
use bson::{
    Binary, Bson, DateTime, Decimal128, Document, JavaScriptCodeWithScope, Regex, Timestamp, doc,
    oid::ObjectId,
};

/// Size of the largest zoo document: close to the server's 16 MiB limit.
pub const BIG_DOC_TARGET: usize = 16 * 1024 * 1024 - 4096;

/// What FerretDB v1.24.2 does with a zoo document: `None` means stored byte-identical.
pub fn expected_on_ferretdb(id: &str) -> Option<&'static str> {
    match id {
        "decimal128"
        | "double_nan"
        | "minkey_maxkey"
        | "javascript"
        | "javascript_with_scope"
        | "double_infinity"
        | "array_nested"
        | "symbol"
        | "undefined" => Some("refused"),
        "double_negative_zero" => Some("altered"),
        _ => None,
    }
}

fn nested(depth: usize) -> Document {
    let mut d = doc! {"level": depth as i32, "leaf": true};
    for level in (0..depth).rev() {
        d = doc! {"level": level as i32, "child": d};
    }
    d
}

/// Every zoo document, in insertion order.
pub fn documents() -> Vec<Document> {
    let oid = ObjectId::from_bytes([0x65, 0x00, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8]);
    // 1 as a Decimal128 (BID encoding, little-endian), plus 0.5.
    let one = Decimal128::from_bytes([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x30]);
    let half = Decimal128::from_bytes([5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x3e, 0x30]);
    let big_payload = vec![0xA5u8; BIG_DOC_TARGET - 64];
    vec![
        doc! {"_id": "double", "pi": std::f64::consts::PI, "large": 1e300, "tiny": 5e-324, "negative": -2.5},
        doc! {"_id": "double_nan", "v": f64::NAN},
        doc! {"_id": "double_negative_zero", "v": -0.0_f64},
        doc! {"_id": "double_infinity", "pos": f64::INFINITY, "neg": f64::NEG_INFINITY},
        doc! {"_id": "string_unicode", "arabic": "مرحبا درعا", "cjk": "日本語テキスト", "emoji": "🛵📦", "empty": "", "nul_free": "tab\tnewline\n"},
        doc! {"_id": "nested_50", "root": nested(50)},
        doc! {"_id": "array_flat", "v": [1_i32, "two", 3.0_f64, {"four": 4_i32}, Bson::Null]},
        doc! {"_id": "array_nested", "v": [[1_i32, 2_i32], [3_i32, [4_i32]]]},
        doc! {"_id": "binary_generic", "v": Binary {subtype: BinarySubtype::Generic, bytes: vec![0, 1, 2, 254, 255]}},
        doc! {"_id": "binary_uuid", "v": Binary {subtype: BinarySubtype::Uuid, bytes: (0u8..16).collect()}},
        doc! {"_id": "objectid", "v": oid},
        doc! {"_id": "booleans", "t": true, "f": false},
        doc! {"_id": "date_before_1970", "v": DateTime::from_millis(-2_208_988_800_000)},
        doc! {"_id": "date_after_2100", "v": DateTime::from_millis(5_680_281_600_000)},
        doc! {"_id": "null", "v": Bson::Null},
        doc! {"_id": "regex", "v": Regex {pattern: "^da+ra$".try_into().expect("no NUL"), options: "imsx".try_into().expect("no NUL")}},
        doc! {"_id": "javascript", "v": Bson::JavaScriptCode("function () { return 1; }".into())},
        doc! {"_id": "javascript_with_scope", "v": Bson::JavaScriptCodeWithScope(JavaScriptCodeWithScope {code: "x".into(), scope: doc! {"x": 1_i32}})},
        doc! {"_id": "int32", "max": i32::MAX, "min": i32::MIN, "zero": 0_i32},
        doc! {"_id": "timestamp", "v": Timestamp {time: 1_700_000_000, increment: 7}},
        doc! {"_id": "int64", "max": i64::MAX, "min": i64::MIN},
        doc! {"_id": "decimal128", "one": one, "half": half},
        doc! {"_id": "minkey_maxkey", "min": Bson::MinKey, "max": Bson::MaxKey},
        doc! {"_id": "symbol", "v": Bson::Symbol("sym".into())},
        doc! {"_id": "undefined", "v": Bson::Undefined},
        doc! {"_id": "big_16mib", "payload": Binary {subtype: BinarySubtype::Generic, bytes: big_payload}},
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoo_documents_encode_and_big_one_fits_16mib() {
        let docs = documents();
        let mut ids = std::collections::HashSet::new();
        for d in &docs {
            let raw = bson::RawDocumentBuf::try_from(d).unwrap();
            assert!(raw.as_bytes().len() <= 16 * 1024 * 1024);
            assert!(ids.insert(d.get_str("_id").unwrap().to_owned()));
        }
        let big = docs.iter().find(|d| d.get_str("_id").ok() == Some("big_16mib")).unwrap();
        let len = bson::RawDocumentBuf::try_from(big).unwrap().as_bytes().len();
        assert!(len > 16 * 1024 * 1024 - 8192, "{len}");
    }
}
