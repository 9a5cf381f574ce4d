//! A collection's `metadata.json`, typed: options, indexes, name, type and UUID, as mongodump
//! writes it and as daraa-ops writes it in both formats.

use bson::{Bson, Document};

use super::bson::ArchiveError;

/// A collection's `metadata.json`, typed: what a restore needs to recreate it.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionMetadata {
    pub name: String,
    /// `collection`, `view` or `timeseries`.
    pub kind: String,
    /// `listCollections` options: capped, collation, validator, `viewOn` + `pipeline`, ...
    pub options: Document,
    /// `listIndexes` entries, key order kept.
    pub indexes: Vec<Document>,
    /// The collection's UUID, hex (informational; a restore makes a new one).
    pub uuid: Option<String>,
}

/// Index options a metadata file may carry; an unknown one is refused rather than silently
/// dropped or passed to the server.
pub const INDEX_OPTIONS: [&str; 25] = [
    "v",
    "key",
    "name",
    "ns",
    "unique",
    "sparse",
    "expireAfterSeconds",
    "partialFilterExpression",
    "collation",
    "background",
    "hidden",
    "storageEngine",
    "weights",
    "default_language",
    "language_override",
    "textIndexVersion",
    "2dsphereIndexVersion",
    "bits",
    "min",
    "max",
    "bucketSize",
    "wildcardProjection",
    "dropDups",
    "prepareUnique",
    "clustered",
];

impl CollectionMetadata {
    pub fn is_view(&self) -> bool {
        self.kind == "view"
    }

    /// mongodump's bytes: canonical Extended JSON v2 with keys `options`, `indexes`, `uuid`,
    /// `collectionName`, `type`, in that order; index key order is preserved.
    pub fn to_json(&self) -> String {
        let mut meta = Document::new();
        meta.insert("options", self.options.clone());
        meta.insert(
            "indexes",
            self.indexes.iter().cloned().map(Bson::Document).collect::<Vec<_>>(),
        );
        if let Some(uuid) = &self.uuid {
            meta.insert("uuid", uuid.clone());
        }
        meta.insert("collectionName", self.name.clone());
        meta.insert("type", self.kind.clone());
        Bson::Document(meta).into_canonical_extjson().to_string()
    }

    /// Parses and checks a `metadata.json` member: a JSON object whose `indexes` (if any) are
    /// objects with a non-empty `key`, a string `name`, and only known options. `collection`
    /// (from the member's name) is used when the file does not name its collection.
    pub fn parse(member: &str, collection: &str, text: &[u8]) -> Result<Self, ArchiveError> {
        let corrupt = |m: String| ArchiveError::Corrupt(format!("{member}: {m}"));
        let json = serde_json::from_slice::<serde_json::Value>(text)
            .map_err(|e| corrupt(format!("not valid JSON: {e}")))?;
        let obj = json.as_object().ok_or_else(|| corrupt("not a JSON object".into()))?;
        let empty = Vec::new();
        let indexes = match obj.get("indexes") {
            None => &empty,
            Some(i) => i.as_array().ok_or_else(|| corrupt("indexes is not a list".into()))?,
        };
        for (i, index) in indexes.iter().enumerate() {
            let index = index
                .as_object()
                .ok_or_else(|| corrupt(format!("indexes[{i}] is not an object")))?;
            if index.get("key").and_then(|k| k.as_object()).is_none_or(serde_json::Map::is_empty) {
                return Err(corrupt(format!("indexes[{i}] has no key")));
            }
            if !index.get("name").is_some_and(serde_json::Value::is_string) {
                return Err(corrupt(format!("indexes[{i}] has no name")));
            }
            if let Some(unknown) = index.keys().find(|k| !INDEX_OPTIONS.contains(&k.as_str())) {
                return Err(corrupt(format!(
                    "index {} has an unknown option {unknown:?}",
                    index["name"]
                )));
            }
        }
        let document = |v: &serde_json::Value, what: &str| match Bson::try_from(v.clone()) {
            Ok(Bson::Document(d)) => Ok(d),
            Ok(_) => Err(corrupt(format!("{what} is not an object"))),
            Err(e) => Err(corrupt(format!("{what}: {e}"))),
        };
        let options = match obj.get("options") {
            Some(o) => document(o, "options")?,
            None => Document::new(),
        };
        let indexes = indexes
            .iter()
            .enumerate()
            .map(|(i, x)| document(x, &format!("indexes[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let text_field =
            |k: &str| obj.get(k).and_then(serde_json::Value::as_str).map(str::to_owned);
        Ok(CollectionMetadata {
            name: text_field("collectionName").unwrap_or_else(|| collection.to_owned()),
            kind: text_field("type").unwrap_or_else(|| "collection".into()),
            options,
            indexes,
            uuid: text_field("uuid"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::names::{data_member, metadata_member};
    use bson::doc;

    #[test]
    fn member_names_follow_mongodump() {
        assert_eq!(data_member("daraa", "a/b"), "daraa/a%2Fb.bson");
        assert_eq!(metadata_member("daraa", "orders"), "daraa/orders.metadata.json");
    }

    #[test]
    fn metadata_round_trips_through_json() {
        let m = CollectionMetadata {
            name: "orders".into(),
            kind: "collection".into(),
            options: doc! {"capped": true, "size": 4096_i64},
            indexes: vec![doc! {"v": 2, "key": {"b": 1, "a": -1}, "name": "b_1_a_-1"}],
            uuid: Some("00ff".into()),
        };
        let text = m.to_json();
        assert!(text.starts_with(r#"{"options":{"capped":true"#), "{text}");
        assert_eq!(
            CollectionMetadata::parse("db/orders.metadata.json", "x", text.as_bytes()).unwrap(),
            m
        );
    }

    #[test]
    fn metadata_shape_is_checked() {
        let bad =
            |t: &str| CollectionMetadata::parse("m", "c", t.as_bytes()).unwrap_err().to_string();
        assert!(bad("[]").contains("not a JSON object"));
        assert!(bad(r#"{"indexes":{}}"#).contains("not a list"));
        assert!(bad(r#"{"indexes":[{"name":"x"}]}"#).contains("no key"));
        assert!(
            bad(r#"{"indexes":[{"key":{"a":1},"name":"a","evil":1}]}"#).contains("unknown option")
        );
        let plain = CollectionMetadata::parse("m", "coll", b"{}").unwrap();
        assert_eq!((plain.name.as_str(), plain.kind.as_str()), ("coll", "collection"));
        assert!(!plain.is_view());
    }

    /// mongodump writes a view's metadata with `"type":"view"` (its pipeline in the options):
    /// read back as a view, which a restore creates instead of inserting into.
    #[test]
    fn a_view_is_known_by_its_type() {
        let text = r#"{"options":{"viewOn":"orders","pipeline":[{"$match":{"paid":true}}]},"indexes":[],"collectionName":"paid","type":"view"}"#;
        let view =
            CollectionMetadata::parse("db/paid.metadata.json", "paid", text.as_bytes()).unwrap();
        assert!(view.is_view());
        let timeseries = text.replace(r#""type":"view""#, r#""type":"timeseries""#);
        assert!(!CollectionMetadata::parse("m", "paid", timeseries.as_bytes()).unwrap().is_view());
    }
}
