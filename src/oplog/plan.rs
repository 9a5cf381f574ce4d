//! Oplog entries, in timestamp order, turned into actions on one database's collections.
//!
//! - inserts become puts (an insert replayed over a document the backup already holds
//!   replaces it: replay is idempotent), updates and deletes name the document's `_id`;
//! - `applyOps` is unpacked, recursively; inside a transaction (entries with a session and a
//!   transaction number) its operations wait until the transaction commits: an `applyOps`
//!   without `partialTxn` or `prepare`, or a `commitTransaction`. A transaction aborted, or
//!   still open at the end of the window, is not applied;
//! - commands on the database: `create`, `drop`, `renameCollection` within it,
//!   `createIndexes`, `commitIndexBuild`, `dropIndexes`, `collMod`; `startIndexBuild` and
//!   `abortIndexBuild` change nothing and are skipped. Any other command (`dropDatabase`, a
//!   rename from or to another database, ...) stops the replay naming it: applying the rest
//!   around it would give a database that never existed.

use std::collections::HashMap;

use bson::{Bson, Document};

use super::{Entry, OplogError, Ts, split_ns};

/// One change to a collection.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Insert, replacing a document with the same `_id`.
    Put {
        coll: String,
        doc: Document,
    },
    /// Apply update `o` to the document `id` (see [`super::diff`]).
    Update {
        coll: String,
        id: Bson,
        o: Document,
    },
    Delete {
        coll: String,
        id: Bson,
    },
    Create {
        coll: String,
        options: Document,
    },
    Drop {
        coll: String,
    },
    Rename {
        from: String,
        to: String,
    },
    /// Index specs (`key`, `name`, options) to build.
    CreateIndexes {
        coll: String,
        specs: Vec<Document>,
    },
    DropIndexes {
        coll: String,
        names: Vec<String>,
    },
    /// `collMod`'s fields (the collection name removed).
    CollMod {
        coll: String,
        changes: Document,
    },
}

impl Action {
    /// The collection a document change applies to (None for commands).
    pub fn document_of(&self) -> Option<(&str, &Bson)> {
        match self {
            Action::Put { coll, doc } => doc.get("_id").map(|id| (coll.as_str(), id)),
            Action::Update { coll, id, .. } | Action::Delete { coll, id } => Some((coll, id)),
            _ => None,
        }
    }
}

/// What a replay skipped, for its report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Entries of other databases inside transactions and `applyOps`.
    pub other_databases: u64,
    /// `startIndexBuild`, `abortIndexBuild`.
    pub index_build_markers: u64,
    /// Operations of transactions aborted or not committed within the window.
    pub uncommitted: u64,
}

/// Turns entries into actions; see the module's documentation.
#[derive(Debug)]
pub struct Planner {
    db: String,
    open: HashMap<(Vec<u8>, i64), Vec<Document>>,
    pub actions: Vec<(Ts, Action)>,
    pub skipped: Skipped,
}

impl Planner {
    pub fn new(db: &str) -> Self {
        Planner {
            db: db.to_owned(),
            open: HashMap::new(),
            actions: Vec::new(),
            skipped: Skipped::default(),
        }
    }

    /// Plans one entry (entries come in timestamp order).
    pub fn push(&mut self, e: &Entry) -> Result<(), OplogError> {
        match e.op.as_str() {
            "n" => Ok(()),
            "i" | "u" | "d" => self.crud(e),
            "c" => self.command(e),
            other => Err(OplogError(format!(
                "oplog entry {} has op {other:?} on {}, which a replay cannot apply",
                e.ts, e.ns
            ))),
        }
    }

    /// Operations of transactions still open: not applied.
    pub fn finish(mut self) -> (Vec<(Ts, Action)>, Skipped) {
        self.skipped.uncommitted += self.open.values().map(|ops| ops.len() as u64).sum::<u64>();
        (self.actions, self.skipped)
    }

    fn crud(&mut self, e: &Entry) -> Result<(), OplogError> {
        let (db, coll) = e.namespace();
        if db != self.db {
            self.skipped.other_databases += 1;
            return Ok(());
        }
        let coll = coll.to_owned();
        let id_of = |d: Option<&Document>| d.and_then(|d| d.get("_id")).cloned();
        let action = match e.op.as_str() {
            "i" => {
                if !e.o.contains_key("_id") {
                    return Err(OplogError(format!(
                        "oplog entry {}: an insert into {} without _id",
                        e.ts, e.ns
                    )));
                }
                Action::Put { coll, doc: e.o.clone() }
            }
            "u" => {
                let id = id_of(e.o2.as_ref()).or_else(|| id_of(Some(&e.o))).ok_or_else(|| {
                    OplogError(format!("oplog entry {}: an update of {} names no _id", e.ts, e.ns))
                })?;
                Action::Update { coll, id, o: e.o.clone() }
            }
            _ => {
                let id = id_of(Some(&e.o)).ok_or_else(|| {
                    OplogError(format!("oplog entry {}: a delete from {} names no _id", e.ts, e.ns))
                })?;
                Action::Delete { coll, id }
            }
        };
        self.actions.push((e.ts, action));
        Ok(())
    }

    fn command(&mut self, e: &Entry) -> Result<(), OplogError> {
        let name = e.command().unwrap_or_default().to_owned();
        match name.as_str() {
            "applyOps" => return self.apply_ops(e),
            "commitTransaction" => {
                let ops = e.txn.as_ref().and_then(|k| self.open.remove(k)).unwrap_or_default();
                return self.unpack(&ops, e.ts);
            }
            "abortTransaction" => {
                let ops = e.txn.as_ref().and_then(|k| self.open.remove(k)).unwrap_or_default();
                self.skipped.uncommitted += ops.len() as u64;
                return Ok(());
            }
            _ => {}
        }
        let (db, _) = e.namespace();
        if db != self.db {
            self.skipped.other_databases += 1;
            return Ok(());
        }
        let coll_of = |key: &str| {
            e.o.get_str(key).map(str::to_owned).map_err(|_| {
                OplogError(format!("oplog entry {}: {name} without a collection name", e.ts))
            })
        };
        let without = |keys: &[&str]| {
            let mut d = e.o.clone();
            for k in keys {
                d.remove(*k);
            }
            d
        };
        let action = match name.as_str() {
            "create" => Action::Create {
                coll: coll_of("create")?,
                options: without(&["create", "idIndex"]),
            },
            "drop" => Action::Drop { coll: coll_of("drop")? },
            "renameCollection" => return self.rename(e),
            "createIndexes" => Action::CreateIndexes {
                coll: coll_of("createIndexes")?,
                specs: vec![without(&["createIndexes"])],
            },
            "commitIndexBuild" => Action::CreateIndexes {
                coll: coll_of("commitIndexBuild")?,
                specs: e.o.get_array("indexes").map(|a| docs(a)).unwrap_or_default(),
            },
            "startIndexBuild" | "abortIndexBuild" => {
                self.skipped.index_build_markers += 1;
                return Ok(());
            }
            "dropIndexes" | "deleteIndexes" => {
                let names = match e.o.get("index") {
                    Some(Bson::String(n)) => vec![n.clone()],
                    Some(Bson::Array(a)) => {
                        a.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect()
                    }
                    _ => {
                        return Err(OplogError(format!(
                            "oplog entry {}: dropIndexes on {} names its index by key pattern, which a replay cannot resolve",
                            e.ts, e.ns
                        )));
                    }
                };
                Action::DropIndexes { coll: coll_of(&name)?, names }
            }
            "collMod" => {
                Action::CollMod { coll: coll_of("collMod")?, changes: without(&["collMod"]) }
            }
            other => {
                return Err(OplogError(format!(
                    "oplog entry {}: command {other} on {} cannot be replayed; restore to a time before it",
                    e.ts, e.ns
                )));
            }
        };
        self.actions.push((e.ts, action));
        Ok(())
    }

    fn rename(&mut self, e: &Entry) -> Result<(), OplogError> {
        let from = e.o.get_str("renameCollection").unwrap_or_default();
        let to = e.o.get_str("to").unwrap_or_default();
        let ((fdb, fcoll), (tdb, tcoll)) = (split_ns(from), split_ns(to));
        if fdb != self.db || tdb != self.db || fcoll.is_empty() || tcoll.is_empty() {
            return Err(OplogError(format!(
                "oplog entry {}: renameCollection from {from} to {to} crosses databases; restore to a time before it",
                e.ts
            )));
        }
        if e.o.contains_key("dropTarget")
            && !matches!(e.o.get("dropTarget"), Some(Bson::Boolean(false)))
        {
            self.actions.push((e.ts, Action::Drop { coll: tcoll.to_owned() }));
        }
        self.actions.push((e.ts, Action::Rename { from: fcoll.to_owned(), to: tcoll.to_owned() }));
        Ok(())
    }

    fn apply_ops(&mut self, e: &Entry) -> Result<(), OplogError> {
        let ops = e.o.get_array("applyOps").map(|a| docs(a)).unwrap_or_default();
        let Some(key) = e.txn.clone() else { return self.unpack(&ops, e.ts) };
        let partial = e.o.get_bool("partialTxn").unwrap_or(false);
        let prepare = e.o.get_bool("prepare").unwrap_or(false);
        let buffered = self.open.entry(key.clone()).or_default();
        buffered.extend(ops);
        if partial || prepare {
            return Ok(());
        }
        let ops = self.open.remove(&key).unwrap_or_default();
        self.unpack(&ops, e.ts)
    }

    fn unpack(&mut self, ops: &[Document], ts: Ts) -> Result<(), OplogError> {
        for op in ops {
            self.push(&Entry::from_doc(op, ts)?)?;
        }
        Ok(())
    }
}

fn docs(items: &[Bson]) -> Vec<Document> {
    items.iter().filter_map(Bson::as_document).cloned().collect()
}
