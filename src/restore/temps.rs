//! Temporary collections of a restore, in one place: their names, the run's journal, dropping
//! them after a failure, and recovering what a killed restore left behind.
//!
//! Each run has a random token; its collections are `daraa_restore_<token>_new_<name>` (new
//! data), during a swap `daraa_restore_<token>_old_<name>` (the live collection set aside), and
//! `daraa_restore_<token>_journal`, which records every step that a rename cannot make atomic
//! (docs/operations.md, "Collections with dots in their names"):
//!
//! - `in-place`: a collection that did not exist is loaded under its own name (a server that
//!   cannot rename dotted names); until the swap marks it `done`, it is dropped by recovery;
//! - `copy`: a live collection replaced by copying (the same servers): `aside` while the live
//!   data is copied to its aside name (live untouched), `replacing` while the live name is
//!   refilled from the new data (both complete copies exist: recovery puts the aside copy
//!   back), `done` once the live name holds all the new data.

use std::collections::HashSet;

use bson::{Document, doc};
use futures_util::TryStreamExt as _;
use mongodb::Database;
use serde::{Deserialize, Serialize};

use crate::mongo::load;

pub const TEMP_PREFIX: &str = "daraa_restore_";

/// How a collection that a rename cannot move is being restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    InPlace,
    Copy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// In place: being loaded. Copy: the live data is being copied aside.
    Loading,
    /// Copy: the aside copy is complete; the live name is being refilled.
    Replacing,
    /// The live name holds the complete new data.
    Done,
}

/// One journal entry: a collection and how far its restore got.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    #[serde(rename = "_id")]
    pub name: String,
    pub mode: Mode,
    pub phase: Phase,
}

/// What the server can rename, found out by probing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renames {
    /// `renameCollection` of names with a dot (FerretDB refuses every dotted namespace).
    pub dotted: bool,
}

/// Where a collection's new data is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A temporary collection, renamed or copied into place by the swap.
    Temp(String),
    /// The collection's own name: it does not exist and cannot be renamed into place.
    InPlace(String),
}

impl Target {
    pub fn name(&self) -> &str {
        match self {
            Target::Temp(n) | Target::InPlace(n) => n,
        }
    }
}

/// The temporary names of one restore run, and where each collection is loaded.
#[derive(Debug, Clone)]
pub struct Temps {
    token: String,
    renames: Renames,
    /// Collections of the target when the run started.
    live: HashSet<String>,
}

impl Default for Temps {
    fn default() -> Self {
        Self::new()
    }
}

impl Temps {
    /// A run with a fresh random token; every name is loaded into a temporary collection until
    /// [`Temps::plan`] says otherwise.
    pub fn new() -> Self {
        let mut token = [0u8; 3];
        rand::fill(&mut token);
        Temps {
            token: crate::files::hex(&token),
            renames: Renames { dotted: true },
            live: HashSet::new(),
        }
    }

    /// Records what the server renames and which collections exist, for [`Temps::target`].
    pub fn plan(&mut self, renames: Renames, live: &[String]) {
        self.renames = renames;
        self.live = live.iter().cloned().collect();
    }

    pub fn renames(&self) -> Renames {
        self.renames
    }

    /// Where a collection's new data goes: its own name when it does not exist yet and the
    /// server could not rename it into place, else a temporary collection.
    pub fn target(&self, collection: &str) -> Target {
        if self.needs_copy(collection) && !self.live.contains(collection) {
            Target::InPlace(collection.to_owned())
        } else {
            Target::Temp(self.loading(collection))
        }
    }

    /// Whether the server cannot rename this collection (so the swap copies).
    pub fn needs_copy(&self, collection: &str) -> bool {
        collection.contains('.') && !self.renames.dotted
    }

    /// The temporary collection a collection's new data is loaded into.
    pub fn loading(&self, collection: &str) -> String {
        format!("{TEMP_PREFIX}{}_new_{collection}", self.token)
    }

    /// Where the live collection waits during its swap.
    pub fn aside(&self, collection: &str) -> String {
        format!("{TEMP_PREFIX}{}_old_{collection}", self.token)
    }

    /// Scratch collections of the probes.
    pub fn probe(&self, what: &str) -> String {
        format!("{TEMP_PREFIX}{}_probe_{what}", self.token)
    }

    fn journal_name(&self) -> String {
        journal_of(&self.token)
    }

    /// Records (or moves on) a collection's step; written before the step it names.
    pub async fn journal(
        &self,
        db: &Database,
        name: &str,
        mode: Mode,
        phase: Phase,
    ) -> mongodb::error::Result<()> {
        let entry = Entry { name: name.to_owned(), mode, phase };
        let doc = bson::serialize_to_document(&entry).map_err(mongodb::error::Error::custom)?;
        db.collection::<Document>(&self.journal_name())
            .replace_one(doc! {"_id": name}, doc)
            .upsert(true)
            .await
            .map(|_| ())
    }

    /// Marks every collection loaded in place as complete: the swap has begun.
    pub async fn commit_in_place(&self, db: &Database) -> mongodb::error::Result<()> {
        db.collection::<Document>(&self.journal_name())
            .update_many(doc! {"mode": "in-place"}, doc! {"$set": {"phase": "done"}})
            .await
            .map(|_| ())
    }

    /// Forgets a collection whose step finished.
    pub async fn forget(&self, db: &Database, name: &str) -> mongodb::error::Result<()> {
        db.collection::<Document>(&self.journal_name())
            .delete_one(doc! {"_id": name})
            .await
            .map(|_| ())
    }

    /// Drops the journal of a run that finished.
    pub async fn close(&self, db: &Database) -> mongodb::error::Result<()> {
        db.collection::<Document>(&self.journal_name()).drop().await
    }

    /// After a failure: undoes this run's steps as recovery would after a kill (collections
    /// loaded in place dropped, copies rolled back, loading collections dropped). Never
    /// drops a collection set aside by a rename: until the swap finishes that may be the only
    /// copy of the live data.
    pub async fn undo(&self, db: &Database) {
        match recover_runs(db, Some(&self.token)).await {
            Ok(actions) => {
                for a in actions {
                    tracing::info!("{}: {a}", db.name());
                }
            }
            Err(e) => tracing::warn!(
                "cannot clean up the temporary collections of this restore in {}: {}; the next restore does",
                db.name(),
                crate::mongo::describe_chain(&e)
            ),
        }
    }
}

fn journal_of(token: &str) -> String {
    format!("{TEMP_PREFIX}{token}_journal")
}

/// A temporary name split into its run's token and the rest.
fn split(name: &str) -> Option<(&str, &str)> {
    name.strip_prefix(TEMP_PREFIX)?.split_once('_')
}

/// Cleans up after a restore that was killed: journalled steps are finished or undone (see
/// the module's description), loading collections are dropped, and a live collection that was
/// moved aside while its replacement had not yet taken its name is renamed back. Returns what
/// was done, for the log.
pub async fn recover(db: &Database) -> anyhow::Result<Vec<String>> {
    recover_runs(db, None).await
}

/// [`recover`] for every run, or for one run's token.
async fn recover_runs(db: &Database, only: Option<&str>) -> anyhow::Result<Vec<String>> {
    let names = db.list_collection_names().await?;
    let ours = |n: &&String| split(n).is_some_and(|(t, _)| only.is_none_or(|o| o == t));
    let mut actions = Vec::new();
    let journals: Vec<&String> = names
        .iter()
        .filter(ours)
        .filter(|n| split(n).is_some_and(|(_, r)| r == "journal"))
        .collect();
    for journal in &journals {
        let token = split(journal).map(|(t, _)| t).unwrap_or_default();
        let entries: Vec<Document> =
            db.collection::<Document>(journal).find(doc! {}).await?.try_collect().await?;
        for raw in entries {
            let Ok(e) = bson::deserialize_from_document::<Entry>(raw) else { continue };
            let aside = format!("{TEMP_PREFIX}{token}_old_{}", e.name);
            match (e.mode, e.phase) {
                (Mode::InPlace, Phase::Loading | Phase::Replacing) => {
                    db.collection::<Document>(&e.name).drop().await?;
                    actions.push(format!(
                        "dropped the partly restored {} (it did not exist before the interrupted restore)",
                        e.name
                    ));
                }
                (Mode::Copy, Phase::Replacing) => {
                    db.collection::<Document>(&e.name).drop().await?;
                    load::copy_collection(db, &aside, &e.name).await?;
                    db.collection::<Document>(&aside).drop().await?;
                    actions.push(format!(
                        "put {} back from {aside}: the interrupted restore had not finished replacing it",
                        e.name
                    ));
                }
                (Mode::Copy, Phase::Loading | Phase::Done) => {
                    // The live collection is untouched, or complete with the new data: the
                    // aside copy is not needed.
                    db.collection::<Document>(&aside).drop().await?;
                }
                (Mode::InPlace, Phase::Done) => {}
            }
            db.collection::<Document>(journal).delete_one(doc! {"_id": &e.name}).await?;
        }
        db.collection::<Document>(journal).drop().await?;
    }
    let names = db.list_collection_names().await?;
    let present: HashSet<&str> = names.iter().map(String::as_str).collect();
    for n in names.iter().filter(ours) {
        let Some((_, rest)) = split(n) else { continue };
        match rest.strip_prefix("old_") {
            Some(orig) if !present.contains(orig) => {
                load::rename(db, n, orig).await?;
                actions.push(format!("renamed {n} back to {orig}"));
            }
            // Its name was taken again (a writer recreated the collection): this may be the
            // only copy of the original data, so it stays, and says so every time.
            Some(orig) => {
                actions.push(format!(
                    "kept {n}: it holds what {orig} had before an interrupted restore, and {orig} exists again; compare them and drop one by hand"
                ));
            }
            None => {
                db.collection::<Document>(n).drop().await?;
                if only.is_none() {
                    actions.push(format!("dropped {n}"));
                }
            }
        }
    }
    Ok(actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unambiguous() {
        let mut t = Temps::new();
        // A collection called `old_x` is loaded as `new_old_x`, never read as an aside.
        let l = t.loading("old_x");
        assert!(split(&l).is_some_and(|(_, r)| r == "new_old_x"));
        assert!(split(&t.aside("x")).is_some_and(|(_, r)| r == "old_x"));
        assert!(split(&t.journal_name()).is_some_and(|(_, r)| r == "journal"));
        // A user collection called `journal` loads as `new_journal`.
        assert!(split(&t.loading("journal")).is_some_and(|(_, r)| r == "new_journal"));
        // Dotted names go in place only where renames of them fail and they do not exist.
        assert_eq!(t.target("fs.files"), Target::Temp(t.loading("fs.files")));
        t.plan(Renames { dotted: false }, &["fs.chunks".to_owned()]);
        assert_eq!(t.target("fs.files"), Target::InPlace("fs.files".into()));
        assert_eq!(t.target("fs.chunks"), Target::Temp(t.loading("fs.chunks")));
        assert!(t.needs_copy("fs.chunks") && !t.needs_copy("orders"));
        assert_eq!(t.target("orders"), Target::Temp(t.loading("orders")));
    }
}
