//! What documents become under a run of actions: the one implementation of a document's
//! history, used by the MongoDB executor (on the documents a run touches, read first) and by
//! [`Memory`], a whole database held in memory for the tests.

use std::collections::{BTreeMap, HashMap};

use bson::{Bson, Document};

use super::OplogError;
use super::diff;
use super::plan::Action;

/// A document key: the `_id` value's BSON bytes (values of different types never collide).
pub fn key(id: &Bson) -> Vec<u8> {
    bson::RawDocumentBuf::try_from(&bson::doc! {"": id.clone()})
        .map(bson::RawDocumentBuf::into_bytes)
        .unwrap_or_default()
}

/// A document after one document action (None: it does not exist).
pub fn step(current: Option<Document>, action: &Action) -> Result<Option<Document>, OplogError> {
    Ok(match action {
        Action::Put { doc, .. } => Some(doc.clone()),
        Action::Delete { .. } => None,
        Action::Update { id, o, .. } => match diff::apply(current.as_ref(), o, id)? {
            Some(d) => Some(d),
            None => current,
        },
        _ => current,
    })
}

/// The documents a run of actions on one collection touches: their state before (as read),
/// then after each action. `writes()` says what to put back.
#[derive(Debug, Default)]
pub struct Run {
    docs: HashMap<Vec<u8>, (Bson, Option<Document>)>,
    order: Vec<Vec<u8>>,
}

impl Run {
    /// The `_id`s whose current documents the run needs (an update comes before any put or
    /// delete of them).
    pub fn needs(actions: &[&Action]) -> Vec<Bson> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for a in actions {
            let Some((_, id)) = a.document_of() else { continue };
            if !seen.insert(key(id)) {
                continue;
            }
            if matches!(a, Action::Update { .. }) {
                out.push(id.clone());
            }
        }
        out
    }

    /// Starts from the documents read (by `_id`).
    pub fn new(current: Vec<Document>) -> Self {
        let mut run = Run::default();
        for d in current {
            if let Some(id) = d.get("_id").cloned() {
                let k = key(&id);
                run.order.push(k.clone());
                run.docs.insert(k, (id, Some(d)));
            }
        }
        run
    }

    pub fn apply(&mut self, action: &Action) -> Result<(), OplogError> {
        let Some((_, id)) = action.document_of() else { return Ok(()) };
        let k = key(id);
        let current = match self.docs.remove(&k) {
            Some((_, d)) => d,
            None => {
                self.order.push(k.clone());
                None
            }
        };
        let next = step(current, action)?;
        self.docs.insert(k, (id.clone(), next));
        Ok(())
    }

    /// Every `_id` the run touched (to delete first), and the documents to insert then.
    pub fn writes(self) -> (Vec<Bson>, Vec<Document>) {
        let mut ids = Vec::new();
        let mut docs = Vec::new();
        let mut all = self.docs;
        for k in self.order {
            if let Some((id, d)) = all.remove(&k) {
                ids.push(id);
                docs.extend(d);
            }
        }
        (ids, docs)
    }
}

/// A database in memory: collections of documents by key, and their index names.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Memory {
    pub collections: BTreeMap<String, BTreeMap<Vec<u8>, Document>>,
    pub indexes: BTreeMap<String, Vec<String>>,
}

impl Memory {
    pub fn apply(&mut self, action: &Action) -> Result<(), OplogError> {
        match action {
            Action::Create { coll, .. } => {
                self.collections.entry(coll.clone()).or_default();
            }
            Action::Drop { coll } => {
                self.collections.remove(coll);
                self.indexes.remove(coll);
            }
            Action::Rename { from, to } => {
                let docs = self.collections.remove(from).unwrap_or_default();
                self.collections.insert(to.clone(), docs);
                if let Some(ix) = self.indexes.remove(from) {
                    self.indexes.insert(to.clone(), ix);
                }
            }
            Action::CreateIndexes { coll, specs } => {
                let names = self.indexes.entry(coll.clone()).or_default();
                names
                    .extend(specs.iter().filter_map(|s| s.get_str("name").ok().map(str::to_owned)));
            }
            Action::DropIndexes { coll, names } => {
                if let Some(ix) = self.indexes.get_mut(coll) {
                    ix.retain(|n| !names.contains(n));
                }
            }
            Action::CollMod { .. } => {}
            doc_action => {
                let (coll, id) = doc_action.document_of().expect("a document action");
                let docs = self.collections.entry(coll.to_owned()).or_default();
                let k = key(id);
                let next = step(docs.remove(&k), doc_action)?;
                if let Some(d) = next {
                    docs.insert(k, d);
                }
            }
        }
        Ok(())
    }

    /// A collection's documents in `_id` order of their keys.
    pub fn docs(&self, coll: &str) -> Vec<&Document> {
        self.collections.get(coll).map(|c| c.values().collect()).unwrap_or_default()
    }
}
