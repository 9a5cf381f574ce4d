//! Live indexes (`listIndexes` replies) compared with the spec: ok, missing, extra, different.
//!
//! Only what the spec can say is compared: keys (in order; the fields of a text index as a
//! set), unique, sparse, partialFilterExpression, expireAfterSeconds and collation (the spec's
//! fields must match; the server fills in the rest). Version fields (`v`,
//! `2dsphereIndexVersion`, `textIndexVersion`) and text weights are not compared.

use std::collections::BTreeSet;

use bson::Document;
use serde::Serialize;
use serde_json::Value;

use super::spec::{IndexSpec, KeyKind};

/// An index as the server reports it, in the spec's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveIndex {
    pub name: String,
    pub keys: Vec<(String, KeyKind)>,
    pub unique: bool,
    pub sparse: bool,
    pub partial_filter_expression: Option<Value>,
    pub expire_after_seconds: Option<i64>,
    pub collation: Option<Value>,
}

impl LiveIndex {
    /// From one `listIndexes` document; a text index's `_fts`/`_ftsx` keys become its fields.
    pub fn from_doc(d: &Document) -> Option<LiveIndex> {
        let name = d.get_str("name").ok()?.to_owned();
        let key = d.get_document("key").ok()?;
        let mut keys = Vec::new();
        for (field, v) in key {
            match field.as_str() {
                "_fts" => {
                    if let Ok(w) = d.get_document("weights") {
                        keys.extend(w.keys().map(|f| (f.clone(), KeyKind::Special("text".into()))));
                    }
                }
                "_ftsx" => {}
                _ => keys.push((field.clone(), KeyKind::from_json(&to_json(v))?)),
            }
        }
        let truthy = |k: &str| match d.get(k) {
            Some(bson::Bson::Boolean(b)) => *b,
            Some(v) => to_json(v).as_f64().is_some_and(|f| f != 0.0),
            None => false,
        };
        Some(LiveIndex {
            name,
            keys,
            unique: truthy("unique"),
            sparse: truthy("sparse"),
            partial_filter_expression: d.get("partialFilterExpression").map(to_json),
            expire_after_seconds: d
                .get("expireAfterSeconds")
                .and_then(|v| to_json(v).as_f64())
                .map(|f| f as i64),
            collation: d.get("collation").map(to_json),
        })
    }

    /// The spec entry that describes this index exactly (for `indexes export`).
    pub fn to_spec(&self) -> IndexSpec {
        IndexSpec {
            keys: self.keys.clone(),
            explicit_name: Some(self.name.clone()),
            unique: self.unique,
            sparse: self.sparse,
            partial_filter_expression: self.partial_filter_expression.clone(),
            expire_after_seconds: self.expire_after_seconds,
            collation: self.collation.clone(),
            line: 0,
        }
    }
}

/// Relaxed Extended JSON with numbers made comparable (`1`, `1.0` and `NumberLong(1)` equal).
pub fn to_json(v: &bson::Bson) -> Value {
    canon(v.clone().into_relaxed_extjson())
}

pub fn canon(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(canon).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, canon(v))).collect()),
        other => other,
    }
}

/// Keys compared in order, except that the fields of a text index compare as a set.
pub fn keys_equal(a: &[(String, KeyKind)], b: &[(String, KeyKind)]) -> bool {
    fn signature(keys: &[(String, KeyKind)]) -> (Vec<(String, KeyKind)>, BTreeSet<String>) {
        let text = KeyKind::Special("text".into());
        let mut ordered = Vec::new();
        let mut texts = BTreeSet::new();
        for (f, k) in keys {
            if *k == text {
                if texts.is_empty() {
                    ordered.push(("$text".to_owned(), text.clone()));
                }
                texts.insert(f.clone());
            } else {
                ordered.push((f.clone(), k.clone()));
            }
        }
        (ordered, texts)
    }
    signature(a) == signature(b)
}

pub fn show_keys(keys: &[(String, KeyKind)]) -> String {
    format!(
        "{{{}}}",
        keys.iter().map(|(f, k)| format!("{f}: {}", k.token())).collect::<Vec<_>>().join(", ")
    )
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "none".to_owned(), Value::to_string)
}

/// The option differences between a spec entry and a live index with the same keys.
pub fn option_differences(spec: &IndexSpec, live: &LiveIndex) -> Vec<String> {
    let mut out = Vec::new();
    if spec.unique != live.unique {
        out.push(format!("unique: live {}, spec {}", live.unique, spec.unique));
    }
    if spec.sparse != live.sparse {
        out.push(format!("sparse: live {}, spec {}", live.sparse, spec.sparse));
    }
    let spec_pfe = spec.partial_filter_expression.clone().map(canon);
    if spec_pfe != live.partial_filter_expression {
        out.push(format!(
            "partialFilterExpression: live {}, spec {}",
            show(live.partial_filter_expression.as_ref()),
            show(spec_pfe.as_ref())
        ));
    }
    if spec.expire_after_seconds != live.expire_after_seconds {
        let s = |v: Option<i64>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
        out.push(format!(
            "expireAfterSeconds: live {}, spec {}",
            s(live.expire_after_seconds),
            s(spec.expire_after_seconds)
        ));
    }
    let collation_matches = match (&spec.collation, &live.collation) {
        (None, None) => true,
        (Some(Value::Object(want)), Some(Value::Object(have))) => {
            want.iter().all(|(k, v)| have.get(k) == Some(&canon(v.clone())))
        }
        _ => false,
    };
    if !collation_matches {
        out.push(format!(
            "collation: live {}, spec {}",
            show(live.collation.as_ref()),
            show(spec.collation.as_ref())
        ));
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Missing,
    Extra,
    Different,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Missing => "missing",
            Status::Extra => "extra",
            Status::Different => "different",
        }
    }
}

/// One line of `indexes validate`.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub name: String,
    pub status: Status,
    pub keys: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    #[serde(skip)]
    pub spec: Option<IndexSpec>,
    #[serde(skip)]
    pub live: Option<LiveIndex>,
}

impl Finding {
    /// A difference `collMod` can fix in place: only the TTL value of a TTL index.
    pub fn ttl_only(&self) -> bool {
        match (&self.spec, &self.live) {
            (Some(s), Some(l)) => {
                self.status == Status::Different
                    && s.name() == l.name
                    && keys_equal(&s.keys, &l.keys)
                    && s.expire_after_seconds.is_some()
                    && l.expire_after_seconds.is_some()
                    && option_differences(s, l).len() == 1
            }
            _ => false,
        }
    }
}

/// Compares one collection. Spec entries match a live index by name first, then (when the
/// spec gives no name) by keys; live indexes nothing matched are `extra`, except `_id_`.
pub fn compare_collection(spec: &[IndexSpec], live: &[LiveIndex]) -> Vec<Finding> {
    let mut used = vec![false; live.len()];
    let mut out = Vec::new();
    for s in spec {
        let name = s.name();
        let by_name = live.iter().position(|l| l.name == name);
        let finding = if let Some(j) = by_name.filter(|j| !used[*j]) {
            used[j] = true;
            let l = &live[j];
            let details = if keys_equal(&s.keys, &l.keys) {
                option_differences(s, l)
            } else {
                vec![format!("same name, other keys: live {}", show_keys(&l.keys))]
            };
            (details, Some(l.clone()))
        } else {
            // Same keys under another name: prefer one whose options match too.
            let candidates: Vec<usize> = (0..live.len())
                .filter(|j| !used[*j] && keys_equal(&s.keys, &live[*j].keys))
                .collect();
            let pick = candidates
                .iter()
                .copied()
                .find(|j| option_differences(s, &live[*j]).is_empty())
                .or_else(|| candidates.first().copied());
            match pick {
                Some(j) => {
                    used[j] = true;
                    let l = &live[j];
                    let mut details = option_differences(s, l);
                    if s.explicit_name.is_some() {
                        details.insert(0, format!("name: live {}, spec {name}", l.name));
                    }
                    (details, Some(l.clone()))
                }
                None => {
                    out.push(Finding {
                        name,
                        status: Status::Missing,
                        keys: show_keys(&s.keys),
                        details: Vec::new(),
                        spec: Some(s.clone()),
                        live: None,
                    });
                    continue;
                }
            }
        };
        let (details, l) = finding;
        out.push(Finding {
            name,
            status: if details.is_empty() { Status::Ok } else { Status::Different },
            keys: show_keys(&s.keys),
            details,
            spec: Some(s.clone()),
            live: l,
        });
    }
    for (j, l) in live.iter().enumerate() {
        if !used[j] && l.name != "_id_" {
            out.push(Finding {
                name: l.name.clone(),
                status: Status::Extra,
                keys: show_keys(&l.keys),
                details: Vec::new(),
                spec: None,
                live: Some(l.clone()),
            });
        }
    }
    out
}
