//! Masking: the config's `masking:` rules applied to documents as a restore streams them
//! (`restore --mask`, `drill --mask`), and the personal-data detector behind `mask check`.
//!
//! Every rule that derives a value does so with HMAC-SHA-256 under the masking key, over the
//! value alone (not its collection or field): the same value masks to the same result in every
//! collection, so joins and denormalised copies stay consistent, and without the key nothing
//! can be recomputed or reversed. Pure code: no I/O.

pub mod check;
pub mod detect;
mod names;
pub mod scan;

use std::collections::{BTreeMap, HashMap};

use bson::{Bson, Document, RawDocument, RawDocumentBuf};
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde::Serialize;
use sha2::Sha256;

use crate::config::{MaskKind, MaskRuleSpec, MaskingConfig};
use crate::error::CliError;

/// A rule with its options resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Hash,
    Fake,
    Redact(String),
    Null,
    Remove,
    ShiftDate { max_days: u32 },
    RoundGeo { grid: f64 },
    Keep,
}

impl Rule {
    pub fn from_spec(spec: &MaskRuleSpec) -> Rule {
        let (kind, full) = match spec {
            MaskRuleSpec::Short(k) => (*k, None),
            MaskRuleSpec::Full(f) => (f.rule, Some(f)),
        };
        match kind {
            MaskKind::Hash => Rule::Hash,
            MaskKind::Fake => Rule::Fake,
            MaskKind::Redact => Rule::Redact(
                full.and_then(|f| f.value.clone()).unwrap_or_else(|| "REDACTED".into()),
            ),
            MaskKind::Null => Rule::Null,
            MaskKind::Remove => Rule::Remove,
            MaskKind::ShiftDate => {
                Rule::ShiftDate { max_days: full.and_then(|f| f.max_days).unwrap_or(30) }
            }
            MaskKind::RoundGeo => {
                Rule::RoundGeo { grid: full.and_then(|f| f.grid).unwrap_or(0.01) }
            }
            MaskKind::Keep => Rule::Keep,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Rule::Hash => "hash",
            Rule::Fake => "fake",
            Rule::Redact(_) => "redact",
            Rule::Null => "null",
            Rule::Remove => "remove",
            Rule::ShiftDate { .. } => "shift_date",
            Rule::RoundGeo { .. } => "round_geo",
            Rule::Keep => "keep",
        }
    }
}

/// How many values one rule changed in one collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    pub rule: &'static str,
    pub values: u64,
}

/// Per field path of one collection.
pub type Counts = BTreeMap<String, RuleCount>;

/// One collection's rules: field paths split at dots, in config order.
type Rules = Vec<(String, Vec<String>, Rule)>;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MaskError(pub String);

/// The configured rules and the key; cheap to share between threads.
pub struct Masker {
    mac: Hmac<Sha256>,
    collections: HashMap<String, Rules>,
    copy_as_is: std::collections::HashSet<String>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("collections", &self.collections.len())
            .finish_non_exhaustive()
    }
}

/// The configured masker: rules and key (`masking.key_file`, read now). Exit 2 when masking
/// is not configured or the key cannot be read.
pub fn load(cfg: &MaskingConfig) -> anyhow::Result<std::sync::Arc<Masker>> {
    use secrecy::ExposeSecret as _;
    let Some(key_file) = &cfg.key_file else {
        return Err(CliError::usage(
            "--mask needs masking rules and masking.key_file in the config",
        )
        .with_hint("see docs/masking.md")
        .into());
    };
    if cfg.collections.is_empty() {
        return Err(CliError::usage("--mask needs rules in masking.collections")
            .with_hint("see docs/masking.md")
            .into());
    }
    let key = key_file.read("masking.key_file")?;
    let masker = Masker::new(cfg, key.expose_secret().as_bytes())
        .map_err(|e| CliError::usage(format!("masking.key_file: {e}")))?;
    Ok(std::sync::Arc::new(masker))
}

/// A masked restore refuses collections the masking configuration does not name (neither
/// rules nor `copy_as_is`): exit 2 naming them, before anything is written.
pub fn check_known<'a>(
    masker: &Masker,
    collections: impl IntoIterator<Item = &'a str>,
) -> Result<(), CliError> {
    let unknown: Vec<&str> = collections.into_iter().filter(|c| !masker.knows(c)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "masking: {} in the backup {} no rules under masking.collections and {} not in masking.copy_as_is; nothing was restored",
        unknown.join(", "),
        if unknown.len() == 1 { "has" } else { "have" },
        if unknown.len() == 1 { "is" } else { "are" },
    ))
    .with_hint(
        "add rules for their personal fields under masking.collections, or list them under masking.copy_as_is (their strings are still scanned for e-mail addresses, phone, card and IBAN numbers); `daraa-ops mask check --backup ID` shows what they hold",
    ))
}

/// Shortest key accepted: 128 bits of secret.
pub const MIN_KEY_BYTES: usize = 16;

impl Masker {
    pub fn new(cfg: &MaskingConfig, key: &[u8]) -> Result<Masker, MaskError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(MaskError(format!(
                "the masking key is {} bytes; at least {MIN_KEY_BYTES} are needed (e.g. `openssl rand -hex 32`)",
                key.len()
            )));
        }
        let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|e| MaskError(e.to_string()))?;
        let collections = cfg
            .collections
            .iter()
            .map(|(c, fields)| {
                let rules = fields
                    .iter()
                    .map(|(path, spec)| {
                        (
                            path.clone(),
                            path.split('.').map(str::to_owned).collect(),
                            Rule::from_spec(spec),
                        )
                    })
                    .collect();
                (c.clone(), rules)
            })
            .collect();
        Ok(Masker { mac, collections, copy_as_is: cfg.copy_as_is.iter().cloned().collect() })
    }

    /// Whether the configuration says what to do with this collection: rules under
    /// `masking.collections`, or `masking.copy_as_is`. A masked restore refuses the others.
    pub fn knows(&self, collection: &str) -> bool {
        self.collections.contains_key(collection) || self.copy_as_is.contains(collection)
    }

    /// The masked document, or `None` when nothing in it changes: every rule of its
    /// collection applied, then every string no rule covers scanned for personal data in free
    /// text ([`scan`]), each match replaced in place by the keyed hash of its kind. Changed
    /// values are counted per field path in `counts` (rule `embedded` for the scan).
    pub fn mask(
        &self,
        collection: &str,
        raw: &RawDocument,
        counts: &mut Counts,
    ) -> Result<Option<RawDocumentBuf>, MaskError> {
        let rules = self.collections.get(collection);
        let active = rules.is_some_and(|r| r.iter().any(|(_, _, r)| *r != Rule::Keep));
        let covered = |path: &str| {
            rules.is_some_and(|r| {
                r.iter().any(|(p, _, _)| {
                    path.strip_prefix(p.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
                })
            })
        };
        if !active && !raw_has_embedded(raw, &mut Vec::new(), &covered) {
            return Ok(None);
        }
        let mut doc = Document::try_from(raw).map_err(|e| MaskError(e.to_string()))?;
        if let Some(rules) = rules.filter(|_| active) {
            // shift_date moves every date of a document by the same offset, keyed by its _id.
            let id_bytes =
                raw.get("_id").ok().flatten().map(|v| format!("{v:?}")).unwrap_or_default();
            for (path, parts, rule) in rules {
                if *rule == Rule::Keep {
                    continue;
                }
                let ctx = Ctx { masker: self, rule, id: &id_bytes };
                let n = apply(&mut doc, parts, &ctx);
                let c = counts
                    .entry(path.clone())
                    .or_insert(RuleCount { rule: rule.name(), values: 0 });
                c.values += n;
            }
        }
        scan_document(self, &mut doc, "", &covered, counts);
        RawDocumentBuf::try_from(&doc).map(Some).map_err(|e| MaskError(e.to_string()))
    }

    /// HMAC of `parts`, as a stream of bytes as long as needed (counter mode).
    fn stream(&self, tag: &[u8], value: &[u8], len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 32);
        let mut counter: u32 = 0;
        while out.len() < len {
            let mut mac = self.mac.clone();
            mac.update(tag);
            mac.update(&counter.to_be_bytes());
            mac.update(&[0]);
            mac.update(value);
            out.extend_from_slice(&mac.finalize().into_bytes());
            counter += 1;
        }
        out.truncate(len);
        out
    }
}

/// Whether a string of `doc` that no rule covers holds personal data in free text. Paths are
/// built only for strings that could (see [`scan::candidate`]).
fn raw_has_embedded<'a>(
    doc: &'a RawDocument,
    path: &mut Vec<&'a str>,
    covered: &dyn Fn(&str) -> bool,
) -> bool {
    for element in doc {
        let Ok((key, value)) = element else { continue };
        path.push(key.as_str());
        let hit = raw_value_has_embedded(value, path, covered);
        path.pop();
        if hit {
            return true;
        }
    }
    false
}

fn raw_value_has_embedded<'a>(
    value: bson::RawBsonRef<'a>,
    path: &mut Vec<&'a str>,
    covered: &dyn Fn(&str) -> bool,
) -> bool {
    match value {
        bson::RawBsonRef::String(s) => {
            scan::candidate(s) && !covered(&path.join(".")) && !scan::find(s).is_empty()
        }
        bson::RawBsonRef::Document(d) => raw_has_embedded(d, path, covered),
        bson::RawBsonRef::Array(a) => {
            a.into_iter().flatten().any(|v| raw_value_has_embedded(v, path, covered))
        }
        _ => false,
    }
}

/// Replaces personal data in the free text of every string no rule covers; returns how many
/// values were replaced, counted under their field paths (arrays add no segment).
fn scan_document(
    m: &Masker,
    doc: &mut Document,
    prefix: &str,
    covered: &dyn Fn(&str) -> bool,
    counts: &mut Counts,
) {
    for (key, value) in doc.iter_mut() {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        scan_value(m, value, &path, covered, counts);
    }
}

fn scan_value(
    m: &Masker,
    value: &mut Bson,
    path: &str,
    covered: &dyn Fn(&str) -> bool,
    counts: &mut Counts,
) {
    match value {
        Bson::String(s) if scan::candidate(s) && !covered(path) => {
            let found = scan::find(s);
            if found.is_empty() {
                return;
            }
            let mut out = String::with_capacity(s.len() + 16);
            let mut at = 0;
            for f in &found {
                out.push_str(&s[at..f.start]);
                out.push_str(&hash_string(m, &s[f.start..f.end]));
                at = f.end;
            }
            out.push_str(&s[at..]);
            *s = out;
            let c =
                counts.entry(path.to_owned()).or_insert(RuleCount { rule: "embedded", values: 0 });
            c.values += found.len() as u64;
        }
        Bson::Document(d) => scan_document(m, d, path, covered, counts),
        Bson::Array(items) => {
            for item in items {
                scan_value(m, item, path, covered, counts);
            }
        }
        _ => {}
    }
}

struct Ctx<'a> {
    masker: &'a Masker,
    rule: &'a Rule,
    id: &'a str,
}

/// Applies a rule at `path` (MongoDB-style: an array on the way applies to each element);
/// returns how many values changed.
fn apply(doc: &mut Document, path: &[String], ctx: &Ctx<'_>) -> u64 {
    let (first, rest) = path.split_first().expect("a non-empty path");
    if rest.is_empty() {
        if *ctx.rule == Rule::Remove {
            return u64::from(doc.remove(first).is_some());
        }
        return doc.get_mut(first).map_or(0, |v| mask_value(v, ctx, true));
    }
    match doc.get_mut(first) {
        Some(Bson::Document(d)) => apply(d, rest, ctx),
        Some(Bson::Array(items)) => items
            .iter_mut()
            .map(|i| if let Bson::Document(d) = i { apply(d, rest, ctx) } else { 0 })
            .sum(),
        _ => 0,
    }
}

/// Masks one value in place; returns how many values changed. `top`: the value a path names
/// (an array there masks each element).
fn mask_value(v: &mut Bson, ctx: &Ctx<'_>, top: bool) -> u64 {
    let m = ctx.masker;
    if let Rule::RoundGeo { grid } = ctx.rule {
        if let Some(rounded) = round_geo(v, *grid) {
            let changed = u64::from(*v != rounded);
            *v = rounded;
            return changed;
        }
        if let (Bson::Array(items), true) = (&mut *v, top) {
            return items.iter_mut().map(|i| mask_value(i, ctx, false)).sum();
        }
        return 0;
    }
    match v {
        Bson::Null => 0,
        Bson::Array(items) if top => items.iter_mut().map(|i| mask_value(i, ctx, false)).sum(),
        _ => {
            let new = match ctx.rule {
                Rule::Hash => hash_value(m, v),
                Rule::Fake => match v {
                    Bson::String(s) => Some(Bson::String(names::fake(m, s))),
                    _ => None,
                },
                Rule::Redact(text) => Some(Bson::String(text.clone())),
                Rule::Null => Some(Bson::Null),
                Rule::ShiftDate { max_days } => match v {
                    Bson::DateTime(d) => {
                        let offset = shift_ms(m, ctx.id, *max_days);
                        Some(Bson::DateTime(bson::DateTime::from_millis(
                            d.timestamp_millis().saturating_add(offset),
                        )))
                    }
                    _ => None,
                },
                Rule::Remove | Rule::Keep | Rule::RoundGeo { .. } => None,
            };
            match new {
                Some(n) if n != *v => {
                    *v = n;
                    1
                }
                _ => 0,
            }
        }
    }
}

/// A GeoJSON point (`{type: "Point", coordinates: [x, y]}`) or a legacy `[x, y]` pair,
/// rounded to the grid; `None` for anything else.
fn round_geo(v: &Bson, grid: f64) -> Option<Bson> {
    if grid <= 0.0 {
        return None;
    }
    let round = |x: f64| ((x / grid).round() * grid * 1e9).round() / 1e9;
    let pair = |a: &Vec<Bson>| -> Option<Vec<Bson>> {
        if a.len() != 2 {
            return None;
        }
        a.iter()
            .map(|c| match c {
                Bson::Double(x) => Some(Bson::Double(round(*x))),
                Bson::Int32(x) => Some(Bson::Double(round(f64::from(*x)))),
                Bson::Int64(x) => Some(Bson::Double(round(*x as f64))),
                _ => None,
            })
            .collect()
    };
    match v {
        Bson::Document(d) if d.get_str("type").is_ok_and(|t| t == "Point") => {
            let coords = d.get_array("coordinates").ok()?;
            let mut out = d.clone();
            out.insert("coordinates", pair(coords)?);
            Some(Bson::Document(out))
        }
        Bson::Array(a) => pair(a).map(Bson::Array),
        _ => None,
    }
}

/// A per-document offset in milliseconds, whole seconds within ±`max_days`.
fn shift_ms(m: &Masker, id: &str, max_days: u32) -> i64 {
    let b = m.stream(b"shift_date", id.as_bytes(), 8);
    let span = i64::from(max_days) * 86_400;
    let x = u64::from_be_bytes(b[..8].try_into().expect("8 bytes"));
    let seconds = (x % (2 * span as u64 + 1)) as i64 - span;
    seconds * 1000
}

/// The hash rule: a value of the same type and shape, derived from the value alone.
fn hash_value(masker: &Masker, value: &Bson) -> Option<Bson> {
    Some(match value {
        Bson::String(s) => Bson::String(hash_string(masker, s)),
        // The same number of digits (at most, as with any leading zero) and the same sign.
        // The modulus is capped at the type's largest power of ten: a 10-digit i32 (or a
        // 19-digit i64) masks to at most 9 (18) digits rather than to a value whose cast
        // would flip its sign.
        Bson::Int32(n32) => {
            let b = masker.stream(b"i32", &n32.to_le_bytes(), 4);
            let digits = n32.unsigned_abs().max(1).ilog10() + 1;
            let modulus = 10_u32.pow(digits.min(9)).max(10);
            let n = (u32::from_be_bytes(b[..4].try_into().expect("4")) % modulus) as i32;
            Bson::Int32(if *n32 < 0 { -n } else { n })
        }
        Bson::Int64(n64) => {
            let b = masker.stream(b"i64", &n64.to_le_bytes(), 8);
            let digits = n64.unsigned_abs().max(1).ilog10() + 1;
            let modulus = 10_u64.pow(digits.min(18)).max(10);
            let n = (u64::from_be_bytes(b[..8].try_into().expect("8")) % modulus) as i64;
            Bson::Int64(if *n64 < 0 { -n } else { n })
        }
        Bson::ObjectId(o) => {
            let b = masker.stream(b"oid", &o.bytes(), 12);
            Bson::ObjectId(bson::oid::ObjectId::from_bytes(b[..12].try_into().expect("12")))
        }
        _ => return None,
    })
}

/// An e-mail stays an e-mail (on the reserved `example.com`, unique by 64 bits of HMAC), a
/// phone number keeps its length, separators and leading `+`, anything else keeps its length
/// and character classes (lower, upper, digit; other characters stay).
pub fn hash_string(m: &Masker, s: &str) -> String {
    if detect::is_email(s) {
        let b = m.stream(b"email", s.to_lowercase().as_bytes(), 8);
        return format!("u{}@example.com", crate::files::hex(&b));
    }
    let b = m.stream(b"string", s.as_bytes(), s.chars().count());
    s.chars()
        .zip(b)
        .map(|(c, r)| {
            if c.is_ascii_digit() {
                char::from(b'0' + r % 10)
            } else if c.is_ascii_uppercase() {
                char::from(b'A' + r % 26)
            } else if c.is_alphabetic() {
                char::from(b'a' + r % 26)
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
