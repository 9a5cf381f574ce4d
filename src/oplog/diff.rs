//! What an update entry's `o` does to a document. Three shapes (docs/pitr.md):
//!
//! - a **replacement**: `o` is the whole new document (no `$v`, first key not an operator);
//! - a **`$v: 2` diff** (MongoDB 5.0 and later): sections `d` (delete fields), `u` (update in
//!   place, or append when missing), `i` (remove, then append), and `s<field>` sub-diffs of
//!   sub-documents and arrays (`a: true`, `l` new length, `u<index>`, `s<index>`);
//! - **`$v: 1`**: FerretDB writes every update as `{$v: 1, $set: <the whole new document>}`,
//!   which is a replacement (a field the update removed is missing from it, and a `$set` of
//!   the fields would keep it); older MongoDB wrote `$set`/`$unset` modifiers with dotted
//!   paths, applied as such.
//!
//! Every rule follows MongoDB 7's update applier, so applying a diff twice gives the same
//! document (a replay may meet an entry the backup already holds).

use bson::{Bson, Document};

use super::OplogError;

/// The document after the update `o` (None: the update does not apply, the document is not
/// there). `id` is the document's `_id` (from `o2`).
pub fn apply(
    pre: Option<&Document>,
    o: &Document,
    id: &Bson,
) -> Result<Option<Document>, OplogError> {
    match version(o) {
        Some(2) => {
            let diff = o
                .get_document("diff")
                .map_err(|_| OplogError("a $v: 2 update has no diff".into()))?;
            let Some(pre) = pre else { return Ok(None) };
            let mut doc = pre.clone();
            apply_diff(&mut doc, diff)?;
            Ok(Some(doc))
        }
        Some(1) if is_whole_document_set(o) => {
            Ok(Some(replacement(o.get_document("$set").expect("checked"), id)))
        }
        Some(1) => legacy(pre, o),
        Some(v) => Err(OplogError(format!(
            "an update of oplog version $v: {v}, which this daraa-ops does not read"
        ))),
        None if o.keys().next().is_some_and(|k| k.starts_with('$')) => legacy(pre, o),
        None => Ok(Some(replacement(o, id))),
    }
}

/// Whether `o` gives the whole new document (a replacement, or FerretDB's whole-document
/// `$set`): the result does not depend on the document before it.
pub fn is_replacement(o: &Document) -> bool {
    match version(o) {
        Some(1) => is_whole_document_set(o),
        None => !o.keys().next().is_some_and(|k| k.starts_with('$')),
        Some(_) => false,
    }
}

fn version(o: &Document) -> Option<i64> {
    match o.get("$v")? {
        Bson::Int32(v) => Some(i64::from(*v)),
        Bson::Int64(v) => Some(*v),
        Bson::Double(v) => Some(*v as i64),
        _ => Some(-1),
    }
}

/// FerretDB's shape: `$set` of a document holding `_id`, and nothing else.
fn is_whole_document_set(o: &Document) -> bool {
    o.keys().all(|k| k == "$v" || k == "$set")
        && o.get_document("$set").is_ok_and(|s| s.contains_key("_id"))
}

/// The new document with its `_id` first (taken from `o2` when the replacement lacks it).
fn replacement(o: &Document, id: &Bson) -> Document {
    let mut doc = Document::new();
    doc.insert("_id", o.get("_id").cloned().unwrap_or_else(|| id.clone()));
    for (k, v) in o {
        if k != "_id" {
            doc.insert(k.clone(), v.clone());
        }
    }
    doc
}

/// Applies a document diff in place.
pub fn apply_diff(doc: &mut Document, diff: &Document) -> Result<(), OplogError> {
    let mut appended: Vec<(String, Bson)> = Vec::new();
    for (section, value) in diff {
        match section.as_str() {
            "d" => {
                for field in as_doc(value, "d")?.keys() {
                    doc.remove(field);
                }
            }
            "u" => {
                for (field, v) in as_doc(value, "u")? {
                    if doc.contains_key(field) {
                        doc.insert(field.clone(), v.clone());
                    } else {
                        appended.push((field.clone(), v.clone()));
                    }
                }
            }
            "i" => {
                for (field, v) in as_doc(value, "i")? {
                    doc.remove(field);
                    appended.push((field.clone(), v.clone()));
                }
            }
            "b" => {
                return Err(OplogError(
                    "a binary diff (section b, written by MongoDB 8 for time-series buckets) is not supported".into(),
                ));
            }
            s if s.starts_with('s') && s.len() > 1 => {
                let field = &s[1..];
                let sub = as_doc(value, s)?;
                let Some(current) = doc.get_mut(field) else { continue };
                apply_sub(current, sub)?;
            }
            other => {
                return Err(OplogError(format!("unexpected section {other:?} in a $v: 2 diff")));
            }
        }
    }
    for (k, v) in appended {
        doc.insert(k, v);
    }
    Ok(())
}

/// A sub-diff applied to a value: an array diff to an array, a document diff to a document;
/// a value of another type becomes null (a later entry sets it, as MongoDB's applier assumes).
fn apply_sub(value: &mut Bson, sub: &Document) -> Result<(), OplogError> {
    let array_diff = matches!(sub.iter().next(), Some((k, Bson::Boolean(true))) if k == "a");
    match (value, array_diff) {
        (Bson::Array(items), true) => apply_array_diff(items, sub),
        (Bson::Document(d), false) => apply_diff(d, sub),
        (v, _) => {
            *v = Bson::Null;
            Ok(())
        }
    }
}

fn apply_array_diff(items: &mut Vec<Bson>, diff: &Document) -> Result<(), OplogError> {
    if let Some(l) = diff.get("l") {
        let len = match l {
            Bson::Int32(n) => usize::try_from(*n).ok(),
            Bson::Int64(n) => usize::try_from(*n).ok(),
            _ => None,
        }
        .ok_or_else(|| OplogError("an array diff's new length l is not a length".into()))?;
        items.resize(len, Bson::Null);
    }
    for (key, value) in diff {
        if key == "a" || key == "l" {
            continue;
        }
        let (kind, index) = key.split_at(1);
        let index: usize = index
            .parse()
            .map_err(|_| OplogError(format!("unexpected key {key:?} in an array diff")))?;
        if index >= items.len() {
            items.resize(index + 1, Bson::Null);
        }
        match kind {
            "u" => items[index] = value.clone(),
            "s" => apply_sub(&mut items[index], as_doc(value, key)?)?,
            _ => return Err(OplogError(format!("unexpected key {key:?} in an array diff"))),
        }
    }
    Ok(())
}

fn as_doc<'a>(value: &'a Bson, section: &str) -> Result<&'a Document, OplogError> {
    value
        .as_document()
        .ok_or_else(|| OplogError(format!("section {section:?} of a $v: 2 diff is not a document")))
}

/// `$set` and `$unset` with dotted paths (MongoDB before 5.0; 7.0 never writes them).
fn legacy(pre: Option<&Document>, o: &Document) -> Result<Option<Document>, OplogError> {
    let Some(pre) = pre else { return Ok(None) };
    let mut doc = pre.clone();
    for (op, fields) in o {
        match op.as_str() {
            "$v" => {}
            "$set" => {
                for (path, v) in as_doc(fields, "$set")? {
                    set_path(&mut doc, path, v.clone());
                }
            }
            "$unset" => {
                for path in as_doc(fields, "$unset")?.keys() {
                    unset_path(&mut doc, path);
                }
            }
            other => return Err(OplogError(format!("update operator {other} in an oplog entry"))),
        }
    }
    Ok(Some(doc))
}

fn set_path(doc: &mut Document, path: &str, value: Bson) {
    match path.split_once('.') {
        None => {
            doc.insert(path, value);
        }
        Some((head, rest)) => {
            if !matches!(doc.get(head), Some(Bson::Document(_) | Bson::Array(_))) {
                doc.insert(head, Document::new());
            }
            match doc.get_mut(head) {
                Some(Bson::Document(d)) => set_path(d, rest, value),
                Some(Bson::Array(a)) => set_in_array(a, rest, value),
                _ => {}
            }
        }
    }
}

fn set_in_array(items: &mut Vec<Bson>, path: &str, value: Bson) {
    let (head, rest) = path.split_once('.').map_or((path, None), |(h, r)| (h, Some(r)));
    let Ok(index) = head.parse::<usize>() else { return };
    if index >= items.len() {
        items.resize(index + 1, Bson::Null);
    }
    match rest {
        None => items[index] = value,
        Some(rest) => {
            if !matches!(items[index], Bson::Document(_)) {
                items[index] = Bson::Document(Document::new());
            }
            if let Bson::Document(d) = &mut items[index] {
                set_path(d, rest, value);
            }
        }
    }
}

fn unset_path(doc: &mut Document, path: &str) {
    match path.split_once('.') {
        None => {
            doc.remove(path);
        }
        Some((head, rest)) => match doc.get_mut(head) {
            Some(Bson::Document(d)) => unset_path(d, rest),
            Some(Bson::Array(a)) => {
                // $unset of an array element sets it to null.
                if let Ok(i) = rest.parse::<usize>()
                    && i < a.len()
                {
                    a[i] = Bson::Null;
                }
            }
            _ => {}
        },
    }
}
