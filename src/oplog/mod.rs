//! MongoDB's oplog, read and replayed: pure code over BSON (no server, no I/O), so every rule
//! is unit-tested on fixtures (`tests/fixtures/mongodb7/oplog/`, written from MongoDB 7's
//! documentation; docs/pitr.md).
//!
//! - [`Ts`]: an oplog timestamp (seconds, increment), ordered as the server orders them;
//! - [`Entry`]: one oplog entry, the fields a replay needs;
//! - [`keep`]: which entries belong to a database's history;
//! - [`plan`]: entries → [`plan::Action`]s on collections (transactions buffered until they
//!   commit, `applyOps` unpacked, commands recognised or refused);
//! - [`diff`]: update documents applied to a document (`$v: 2` diffs, replacements, FerretDB's
//!   whole-document `$set`);
//! - [`state`]: actions applied to documents held in memory, the one place that decides what a
//!   document becomes (the MongoDB executor and the tests both use it).

pub mod diff;
pub mod plan;
pub mod state;

use bson::{Bson, Document, RawDocument};
use serde::{Deserialize, Serialize};

/// An oplog timestamp: seconds since the epoch and an increment within them. Ordered by
/// seconds, then increment (as unsigned 64-bit values, as the server compares them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ts {
    pub t: u32,
    pub i: u32,
}

impl Ts {
    pub const ZERO: Ts = Ts { t: 0, i: 0 };

    pub fn bson(self) -> bson::Timestamp {
        bson::Timestamp { time: self.t, increment: self.i }
    }

    /// The time of day it names, to the second.
    pub fn time(self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(i64::from(self.t)).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// `T,I` (the form `restore --to-time` takes) or an RFC 3339 time, which means its last
    /// increment: every entry of that second and before.
    pub fn parse(text: &str) -> Result<Ts, String> {
        if let Some((t, i)) = text.split_once(',') {
            let num = |s: &str| {
                s.trim().parse::<u32>().map_err(|_| format!("{text:?}: {s:?} is not a number"))
            };
            return Ok(Ts { t: num(t)?, i: num(i)? });
        }
        let when: jiff::Timestamp = text
            .parse()
            .map_err(|_| format!("{text:?} is neither an RFC 3339 time nor SECONDS,INCREMENT"))?;
        let t = u32::try_from(when.as_second())
            .map_err(|_| format!("{text:?} is outside the oplog's range of times"))?;
        Ok(Ts { t, i: u32::MAX })
    }

    /// Chunk names and log lines: `1733131200.42`.
    pub fn dotted(self) -> String {
        format!("{}.{}", self.t, self.i)
    }

    /// `T,I`, as `--to-time` and the JSON summaries write an oplog timestamp.
    pub fn pair(self) -> String {
        format!("{},{}", self.t, self.i)
    }

    /// Sortable in file names: ten digits each.
    pub fn sortable(self) -> String {
        format!("{:010}.{:010}", self.t, self.i)
    }

    pub fn parse_sortable(text: &str) -> Option<Ts> {
        let (t, i) = text.split_once('.')?;
        Some(Ts { t: t.parse().ok()?, i: i.parse().ok()? })
    }
}

impl From<crate::archive::manifest::ClusterTime> for Ts {
    fn from(c: crate::archive::manifest::ClusterTime) -> Ts {
        Ts { t: c.t, i: c.i }
    }
}

impl From<Ts> for crate::archive::manifest::ClusterTime {
    fn from(t: Ts) -> Self {
        crate::archive::manifest::ClusterTime { t: t.t, i: t.i }
    }
}

impl From<bson::Timestamp> for Ts {
    fn from(t: bson::Timestamp) -> Self {
        Ts { t: t.time, i: t.increment }
    }
}

impl std::fmt::Display for Ts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let when = self.time().strftime("%Y-%m-%dT%H:%M:%SZ");
        write!(f, "{when} ({},{})", self.t, self.i)
    }
}

/// What is wrong with an entry or a replay: exit 6 (the history cannot be trusted or
/// applied), naming the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OplogError(pub String);

fn bad(msg: impl Into<String>) -> OplogError {
    OplogError(msg.into())
}

/// One oplog entry: the fields a replay reads. Sub-operations of `applyOps` have no `ts` of
/// their own: they carry their container's.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub ts: Ts,
    pub op: String,
    pub ns: String,
    pub o: Document,
    pub o2: Option<Document>,
    /// Session and transaction number, for transactions.
    pub txn: Option<(Vec<u8>, i64)>,
    /// FerretDB's entry `_id` (MongoDB's entries have none): how a re-read is deduplicated.
    pub id: Option<Bson>,
}

impl Entry {
    pub fn parse(raw: &RawDocument) -> Result<Entry, OplogError> {
        let doc = Document::try_from(raw)
            .map_err(|e| bad(format!("an oplog entry is not valid BSON: {e}")))?;
        let ts = match doc.get("ts") {
            Some(Bson::Timestamp(t)) => Ts::from(*t),
            _ => return Err(bad("an oplog entry has no ts")),
        };
        Entry::from_doc(&doc, ts)
    }

    /// An entry, or a sub-operation of `applyOps` given its container's `ts`.
    pub fn from_doc(doc: &Document, ts: Ts) -> Result<Entry, OplogError> {
        let text = |k: &str| {
            doc.get_str(k).map(str::to_owned).map_err(|_| bad(format!("oplog entry {ts}: no {k}")))
        };
        let op = text("op")?;
        let ns = doc.get_str("ns").unwrap_or_default().to_owned();
        let o = doc.get_document("o").map_err(|_| bad(format!("oplog entry {ts}: no o")))?.clone();
        let o2 = doc.get_document("o2").ok().cloned();
        let txn = match (doc.get_document("lsid"), doc.get("txnNumber")) {
            (Ok(lsid), Some(n)) => {
                let id = bson::RawDocumentBuf::try_from(lsid)
                    .map(bson::RawDocumentBuf::into_bytes)
                    .unwrap_or_default();
                let n = match n {
                    Bson::Int64(n) => *n,
                    Bson::Int32(n) => i64::from(*n),
                    _ => return Err(bad(format!("oplog entry {ts}: txnNumber is not a number"))),
                };
                Some((id, n))
            }
            _ => None,
        };
        Ok(Entry { ts, op, ns, o, o2, txn, id: doc.get("_id").cloned() })
    }

    /// The database and collection of a CRUD entry, or the database of a command (`db.$cmd`).
    pub fn namespace(&self) -> (&str, &str) {
        split_ns(&self.ns)
    }

    /// A command's name: the first key of `o`.
    pub fn command(&self) -> Option<&str> {
        (self.op == "c").then(|| self.o.keys().next().map(String::as_str)).flatten()
    }
}

/// `db.coll` → (`db`, `coll`); database names hold no dot, collection names may.
pub fn split_ns(ns: &str) -> (&str, &str) {
    ns.split_once('.').unwrap_or((ns, ""))
}

/// Whether an entry belongs to `db`'s history: its CRUD and commands, and the transactions
/// (`admin.$cmd` `applyOps`, `commitTransaction`, `abortTransaction`) that may touch it. No-ops
/// and every other database (`admin`, `config`, `local`: users, sessions, the oplog itself)
/// are left out.
pub fn keep(entry: &Entry, db: &str) -> bool {
    if entry.op == "n" {
        return false;
    }
    let (d, _) = entry.namespace();
    if d == db {
        return true;
    }
    if entry.ns != "admin.$cmd" {
        return false;
    }
    match entry.command() {
        Some("applyOps") => touches(&entry.o, db),
        Some("commitTransaction" | "abortTransaction") => entry.txn.is_some(),
        _ => false,
    }
}

/// The entry without the operations on collections of `db` a backup does not take
/// (`takes` false): `None` when none of `db`'s operations is left. CRUD entries and commands
/// naming a collection are kept or left out whole; an `applyOps` keeps the operations on
/// taken collections (and on other databases, which a replay skips). Everything else, such as
/// `commitTransaction`, is kept.
pub fn only_taken(
    raw: &RawDocument,
    entry: &Entry,
    db: &str,
    takes: &dyn Fn(&str) -> bool,
) -> Result<Option<bson::RawDocumentBuf>, OplogError> {
    let whole = || bson::RawDocumentBuf::from_bytes(raw.as_bytes().to_vec()).ok();
    let target = |op: &str, ns: &str, o: &Document| -> Option<String> {
        let (d, coll) = split_ns(ns);
        if d != db {
            return None;
        }
        if op != "c" {
            return Some(coll.to_owned());
        }
        let (name, value) = o.iter().next()?;
        let value = value.as_str()?;
        Some(match name.as_str() {
            "renameCollection" => split_ns(value).1.to_owned(),
            _ => value.to_owned(),
        })
    };
    if entry.command() == Some("applyOps") {
        let mut doc =
            Document::try_from(raw).map_err(|e| bad(format!("oplog entry {}: {e}", entry.ts)))?;
        let Ok(o) = doc.get_document_mut("o") else { return Ok(whole()) };
        let Ok(ops) = o.get_array_mut("applyOps") else { return Ok(whole()) };
        let before = ops.len();
        ops.retain(|op| {
            let Some(op) = op.as_document() else { return true };
            let kind = op.get_str("op").unwrap_or_default();
            let o = op.get_document("o").cloned().unwrap_or_default();
            target(kind, op.get_str("ns").unwrap_or_default(), &o).is_none_or(|c| takes(&c))
        });
        if ops.len() == before {
            return Ok(whole());
        }
        if !touches(&doc.get_document("o").cloned().unwrap_or_default(), db) {
            return Ok(None);
        }
        return bson::RawDocumentBuf::try_from(&doc)
            .map(Some)
            .map_err(|e| bad(format!("oplog entry {}: {e}", entry.ts)));
    }
    Ok(match target(&entry.op, &entry.ns, &entry.o) {
        Some(c) if !takes(&c) => None,
        _ => whole(),
    })
}

/// Whether an `applyOps` (or a nested one) holds an operation on `db`.
fn touches(o: &Document, db: &str) -> bool {
    let Ok(ops) = o.get_array("applyOps") else { return false };
    ops.iter().filter_map(Bson::as_document).any(|op| {
        let ns = op.get_str("ns").unwrap_or_default();
        split_ns(ns).0 == db
            || (ns.ends_with(".$cmd") && op.get_document("o").is_ok_and(|o| touches(o, db)))
    })
}

#[cfg(test)]
mod tests;
