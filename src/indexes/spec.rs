//! The index spec file (`config/indexes.yaml`): parsing with line numbers, the checks that
//! refuse an index MongoDB would refuse, and the names MongoDB derives.
//!
//! ```yaml
//! collections:
//!   notifications:
//!     - keys: {recipientId: 1, isRead: 1, createdAt: -1}
//!     - keys: {createdAt: 1}
//!       expireAfterSeconds: 7776000
//! ```

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

use crate::config::ConfigError;

/// One key of an index, in order: ascending, descending, or a special index type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    Asc,
    Desc,
    /// `2dsphere`, `2d`, `text`, `hashed`.
    Special(String),
}

pub const SPECIAL_KINDS: [&str; 4] = ["2dsphere", "2d", "text", "hashed"];

impl KeyKind {
    /// From a spec value or a live `key` value (`1`, `-1.0`, `NumberLong(1)`, `"2dsphere"`).
    pub fn from_json(v: &Value) -> Option<KeyKind> {
        match v {
            Value::Number(n) => {
                let f = n.as_f64()?;
                if f > 0.0 {
                    Some(KeyKind::Asc)
                } else if f < 0.0 {
                    Some(KeyKind::Desc)
                } else {
                    None
                }
            }
            Value::String(s) if SPECIAL_KINDS.contains(&s.as_str()) => {
                Some(KeyKind::Special(s.clone()))
            }
            _ => None,
        }
    }

    /// How MongoDB writes it inside a derived index name, and how the spec writes it.
    pub fn token(&self) -> &str {
        match self {
            KeyKind::Asc => "1",
            KeyKind::Desc => "-1",
            KeyKind::Special(s) => s,
        }
    }

    pub fn to_bson(&self) -> bson::Bson {
        match self {
            KeyKind::Asc => bson::Bson::Int32(1),
            KeyKind::Desc => bson::Bson::Int32(-1),
            KeyKind::Special(s) => bson::Bson::String(s.clone()),
        }
    }
}

/// One declared index, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    pub keys: Vec<(String, KeyKind)>,
    /// As written; `None` means "the name MongoDB derives" (see [`IndexSpec::name`]).
    pub explicit_name: Option<String>,
    pub unique: bool,
    pub sparse: bool,
    pub partial_filter_expression: Option<Value>,
    pub expire_after_seconds: Option<i64>,
    pub collation: Option<Value>,
    /// Line in the spec file (1-based), for messages.
    pub line: usize,
}

impl IndexSpec {
    pub fn name(&self) -> String {
        self.explicit_name.clone().unwrap_or_else(|| derived_name(&self.keys))
    }

    pub fn is_text(&self) -> bool {
        self.keys.iter().any(|(_, k)| matches!(k, KeyKind::Special(s) if s == "text"))
    }

    /// The `createIndexes` entry for this index.
    pub fn to_create_doc(&self) -> anyhow::Result<bson::Document> {
        let mut key = bson::Document::new();
        for (field, kind) in &self.keys {
            key.insert(field.clone(), kind.to_bson());
        }
        let mut d = bson::doc! {"key": key, "name": self.name()};
        if self.unique {
            d.insert("unique", true);
        }
        if self.sparse {
            d.insert("sparse", true);
        }
        if let Some(p) = &self.partial_filter_expression {
            d.insert("partialFilterExpression", bson::Bson::try_from(p.clone())?);
        }
        if let Some(s) = self.expire_after_seconds {
            d.insert("expireAfterSeconds", s);
        }
        if let Some(c) = &self.collation {
            d.insert("collation", bson::Bson::try_from(c.clone())?);
        }
        Ok(d)
    }
}

/// The name MongoDB gives an index created without one: `field_value` pairs joined by `_`.
pub fn derived_name(keys: &[(String, KeyKind)]) -> String {
    if let [(field, KeyKind::Asc)] = keys
        && field == "_id"
    {
        return "_id_".into();
    }
    keys.iter().map(|(f, k)| format!("{f}_{}", k.token())).collect::<Vec<_>>().join("_")
}

/// A parsed spec file: collections in file order, each with its indexes.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub path: PathBuf,
    pub collections: IndexMap<String, Vec<IndexSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    collections: IndexMap<String, Vec<serde_saphyr::Spanned<RawIndex>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawIndex {
    keys: IndexMap<String, Value>,
    name: Option<String>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    sparse: bool,
    partial_filter_expression: Option<IndexMap<String, Value>>,
    expire_after_seconds: Option<i64>,
    collation: Option<IndexMap<String, Value>>,
}

pub fn load(path: &Path) -> Result<Spec, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read the index spec: {e}"),
    })?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<Spec, ConfigError> {
    let raw: RawFile = if text.trim().is_empty() {
        RawFile { collections: IndexMap::new() }
    } else {
        serde_saphyr::from_str(text).map_err(|e| crate::config::parse_error(&e, path))?
    };
    let mut spec = Spec { path: path.to_path_buf(), collections: IndexMap::new() };
    for (collection, indexes) in raw.collections {
        let bad = |line: usize, message: String| ConfigError::Parse {
            path: path.to_path_buf(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: 1,
            message: format!("collection {collection}: {message}"),
        };
        if collection.is_empty() || collection.starts_with("system.") || collection.contains('$') {
            let line = indexes.first().map_or(0, |i| i.referenced.line() as usize);
            return Err(bad(line, "not a collection name an index can be declared on".into()));
        }
        let mut checked: Vec<IndexSpec> = Vec::new();
        for raw in indexes {
            let line = raw.referenced.line() as usize;
            let index = check_index(raw.value, line).map_err(|m| bad(line, m))?;
            let name = index.name();
            if let Some(other) = checked.iter().find(|o| o.name() == name) {
                return Err(bad(
                    line,
                    format!("index name {name} is used twice (also line {})", other.line),
                ));
            }
            if let Some(other) = checked.iter().find(|o| {
                o.keys == index.keys
                    && o.collation == index.collation
                    && o.partial_filter_expression == index.partial_filter_expression
            }) {
                return Err(bad(
                    line,
                    format!(
                        "index {name} repeats the keys of line {} (MongoDB refuses it)",
                        other.line
                    ),
                ));
            }
            if index.is_text()
                && let Some(other) = checked.iter().find(|o| o.is_text())
            {
                return Err(bad(
                    line,
                    format!(
                        "a collection has at most one text index (another one at line {})",
                        other.line
                    ),
                ));
            }
            checked.push(index);
        }
        spec.collections.insert(collection, checked);
    }
    Ok(spec)
}

/// The checks MongoDB would make at `createIndexes`, made before anything is sent.
fn check_index(raw: RawIndex, line: usize) -> Result<IndexSpec, String> {
    if raw.keys.is_empty() {
        return Err("an index needs at least one key".into());
    }
    let mut keys = Vec::new();
    for (field, v) in &raw.keys {
        if field.is_empty() || field.starts_with('$') {
            return Err(format!("invalid key field {field:?}"));
        }
        let kind = KeyKind::from_json(v)
            .filter(|_| !v.is_number() || matches!(v.as_i64(), Some(1 | -1)))
            .ok_or_else(|| {
                format!("key {field}: {v} is not 1, -1, 2dsphere, 2d, text or hashed")
            })?;
        keys.push((field.clone(), kind));
    }
    let shown = format!(
        "{{{}}}",
        keys.iter().map(|(f, k)| format!("{f}: {}", k.token())).collect::<Vec<_>>().join(", ")
    );
    let hashed = keys.iter().filter(|(_, k)| *k == KeyKind::Special("hashed".into())).count();
    if hashed > 1 {
        return Err(format!("index {shown}: at most one hashed key"));
    }
    if hashed == 1 && raw.unique {
        return Err(format!("index {shown}: a hashed index cannot be unique"));
    }
    if raw.sparse && raw.partial_filter_expression.is_some() {
        return Err(format!(
            "index {shown}: sparse and partialFilterExpression cannot be combined; use one"
        ));
    }
    if let Some(s) = raw.expire_after_seconds {
        if keys.len() != 1 || matches!(keys[0].1, KeyKind::Special(_)) {
            return Err(format!(
                "index {shown}: expireAfterSeconds (TTL) needs a single-field ascending or descending index"
            ));
        }
        if !(0..=i64::from(i32::MAX)).contains(&s) {
            return Err(format!("index {shown}: expireAfterSeconds must be 0..=2147483647"));
        }
        if keys[0].0 == "_id" {
            return Err(format!("index {shown}: the _id index cannot have a TTL"));
        }
    }
    if let Some(c) = &raw.collation
        && !c.get("locale").is_some_and(Value::is_string)
    {
        return Err(format!("index {shown}: collation needs a locale (e.g. {{locale: ar}})"));
    }
    if let Some(name) = &raw.name {
        if name.is_empty() {
            return Err(format!("index {shown}: name is empty"));
        }
        if name == "_id_" && !(keys.len() == 1 && keys[0].0 == "_id") {
            return Err(format!("index {shown}: the name _id_ is reserved for the _id index"));
        }
    }
    let to_value = |m: IndexMap<String, Value>| Value::Object(m.into_iter().collect());
    Ok(IndexSpec {
        keys,
        explicit_name: raw.name,
        unique: raw.unique,
        sparse: raw.sparse,
        partial_filter_expression: raw.partial_filter_expression.map(to_value),
        expire_after_seconds: raw.expire_after_seconds,
        collation: raw.collation.map(to_value),
        line,
    })
}

/// YAML text for a spec: one flow mapping of keys per index, values as JSON (valid YAML).
pub fn to_yaml(collections: &IndexMap<String, Vec<IndexSpec>>, header: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    out.push_str("collections:\n");
    for (collection, indexes) in collections {
        let _ = writeln!(out, "  {}:", yaml_key(collection));
        if indexes.is_empty() {
            out.truncate(out.len() - 1);
            out.push_str(" []\n");
            continue;
        }
        for i in indexes {
            let keys: Vec<String> = i
                .keys
                .iter()
                .map(|(f, k)| {
                    let v = match k {
                        KeyKind::Asc => "1".to_owned(),
                        KeyKind::Desc => "-1".to_owned(),
                        KeyKind::Special(s) => s.clone(),
                    };
                    format!("{}: {v}", yaml_key(f))
                })
                .collect();
            let _ = writeln!(out, "    - keys: {{{}}}", keys.join(", "));
            let _ = writeln!(out, "      name: {}", yaml_key(&i.name()));
            if i.unique {
                out.push_str("      unique: true\n");
            }
            if i.sparse {
                out.push_str("      sparse: true\n");
            }
            if let Some(p) = &i.partial_filter_expression {
                let _ = writeln!(out, "      partialFilterExpression: {p}");
            }
            if let Some(s) = i.expire_after_seconds {
                let _ = writeln!(out, "      expireAfterSeconds: {s}");
            }
            if let Some(c) = &i.collation {
                let _ = writeln!(out, "      collation: {c}");
            }
        }
    }
    out
}

/// A mapping key or scalar written plain when YAML allows it, else as a JSON string.
fn yaml_key(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && !matches!(s, "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n");
    if plain { s.to_owned() } else { serde_json::to_string(s).unwrap_or_default() }
}
