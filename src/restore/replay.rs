//! Step 1b of a restore: the backup's oplog (the entries written while its dump ran) replayed
//! into the temporary collections before indexes are built and anything is swapped, so the
//! restored database stands for one point in time, the oplog's `until` (docs/pitr.md).
//!
//! Entries are parsed, put in timestamp order (a re-read entry, same `ts` and `_id`, counts
//! once), kept when they belong to the backup's database, and planned by `crate::oplog::plan`
//! (transactions applied when they commit). Per collection, the documents the plan touches
//! are read from the temporary collection, taken through every change in order
//! (`oplog::state::Run`), deleted and written back. Index builds and drops in the window change
//! the metadata the indexes are built from; a collection created in the window is created.
//! A collection dropped or renamed in the window is refused: the backup records no oplog for
//! such a window (`backup::oplog`), so only a changed archive meets it.
//!
//! Each touched collection's digest (what a drill compares the server with) is moved along:
//! the documents read are taken out of it, the documents written put in.

use std::collections::BTreeMap;

use anyhow::Context as _;
use bson::{Bson, Document, RawDocumentBuf};
use mongodb::Database;
use serde::Serialize;

use super::temps::{Mode, Phase, Target, Temps};
use super::{Action as Done, CollectionReport, Options};
use crate::archive::CollectionMetadata;
use crate::digest::SetDigest;
use crate::error::{CliError, Outcome};
use crate::mongo::load;
use crate::oplog::plan::{Action, Planner, Skipped};
use crate::oplog::{Entry, Ts, diff, keep, state};

/// What the replay did, for the restore's report.
#[derive(Debug, Clone, Serialize)]
pub struct Replayed {
    /// The point in time the restored data stands for, as an oplog timestamp (`T,I`).
    pub until: String,
    /// Entries of the backup's database in the oplog member.
    pub entries: u64,
    /// Document changes applied (inserts, updates, deletes, those of transactions included).
    pub changes: u64,
    /// False when the entries were not applied (see `note`): the collections are as dumped.
    pub applied: bool,
    pub skipped: Skipped,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The collection changes of a replay, and the collections it creates.
#[derive(Default)]
struct Changes {
    documents: BTreeMap<String, Vec<Action>>,
    created: BTreeMap<String, Document>,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn replay(
    db: &Database,
    temps: &Temps,
    opts: &Options,
    database: &str,
    until: Ts,
    raw: &[RawDocumentBuf],
    collections: &mut Vec<CollectionReport>,
    metadata: &mut BTreeMap<String, CollectionMetadata>,
) -> anyhow::Result<Replayed> {
    let (actions, skipped, entries) = plan(raw, database, until)?;
    let mut report = Replayed {
        until: until.pair(),
        entries,
        changes: actions.iter().filter(|a| a.document_of().is_some()).count() as u64,
        applied: true,
        skipped,
        note: None,
    };
    if opts.mask.is_some()
        && actions.iter().any(|a| matches!(a, Action::Update { o, .. } if !diff::is_replacement(o)))
    {
        // A change in place would be applied to a masked document and masked again: the
        // collections are restored as dumped instead; to a point in time that would be a
        // false claim, so it is refused.
        if opts.point_in_time.is_some() {
            return Err(CliError::usage(
                "--mask with --to-time: the oplog changes documents in place, which cannot be applied to masked documents",
            )
            .with_hint("restore to the point in time unmasked into a protected staging database, or restore the backup masked without --to-time")
            .into());
        }
        let note = "not replayed: the oplog changes documents in place, which cannot be applied to masked documents; the masked collections are as dumped, not one point in time";
        tracing::warn!("{note}");
        report.applied = false;
        report.note = Some(note.into());
        return Ok(report);
    }
    let changes = sort(actions, metadata)?;
    for (coll, options) in &changes.created {
        if opts.wanted(coll) && !collections.iter().any(|c| &c.name == coll) {
            create(db, temps, coll, options, collections, metadata).await?;
        }
    }
    for (coll, acts) in &changes.documents {
        if !opts.wanted(coll) {
            continue;
        }
        if !collections.iter().any(|c| &c.name == coll) {
            create(db, temps, coll, &Document::new(), collections, metadata).await?;
        }
        let r = collections.iter_mut().find(|c| &c.name == coll).expect("created above");
        if r.action == Done::Skipped {
            continue;
        }
        apply(db, temps, opts, r, acts).await.with_context(|| {
            format!("replaying the oplog into collection {coll} (until {until})")
        })?;
    }
    Ok(report)
}

/// The backup's entries as actions, in timestamp order; and how many entries were read.
fn plan(
    raw: &[RawDocumentBuf],
    database: &str,
    until: Ts,
) -> anyhow::Result<(Vec<Action>, Skipped, u64)> {
    let mut entries = Vec::with_capacity(raw.len());
    for r in raw {
        entries.push(Entry::parse(r).map_err(|e| bad_oplog(&e.to_string()))?);
    }
    entries.sort_by_key(|e| e.ts);
    entries.dedup_by(|a, b| a.ts == b.ts && a.id.is_some() && a.id == b.id);
    entries.retain(|e| e.ts <= until && keep(e, database));
    let mut planner = Planner::new(database);
    for e in &entries {
        planner.push(e).map_err(|e| bad_oplog(&e.to_string()))?;
    }
    let (actions, skipped) = planner.finish();
    Ok((actions.into_iter().map(|(_, a)| a).collect(), skipped, entries.len() as u64))
}

fn bad_oplog(message: &str) -> anyhow::Error {
    CliError::new(Outcome::Failed, format!("the backup's oplog cannot be replayed: {message}"))
        .with_hint(super::UNCHANGED)
        .into()
}

/// Document changes by collection; index and collection changes applied to the metadata.
fn sort(
    actions: Vec<Action>,
    metadata: &mut BTreeMap<String, CollectionMetadata>,
) -> anyhow::Result<Changes> {
    let mut out = Changes::default();
    for a in actions {
        match a {
            Action::Put { ref coll, .. }
            | Action::Update { ref coll, .. }
            | Action::Delete { ref coll, .. } => {
                out.documents.entry(coll.clone()).or_default().push(a);
            }
            Action::Create { coll, options } => {
                out.created.insert(coll, options);
            }
            Action::CreateIndexes { coll, specs } => {
                let indexes = &mut metadata_of(metadata, &coll).indexes;
                for spec in specs {
                    let name = spec.get_str("name").unwrap_or_default().to_owned();
                    indexes.retain(|i| i.get_str("name").unwrap_or_default() != name);
                    indexes.push(spec);
                }
            }
            Action::DropIndexes { coll, names } => {
                let indexes = &mut metadata_of(metadata, &coll).indexes;
                indexes.retain(|i| {
                    let name = i.get_str("name").unwrap_or_default();
                    name == "_id_" || !names.iter().any(|n| n == name || n == "*")
                });
            }
            Action::CollMod { coll, changes } => {
                // An index's TTL or hidden flag; other changes (validators) are the
                // collection's options, which the restore takes from the dump.
                if let Ok(ix) = changes.get_document("index") {
                    let name = ix.get_str("name").unwrap_or_default();
                    for i in &mut metadata_of(metadata, &coll).indexes {
                        if i.get_str("name").unwrap_or_default() == name {
                            for (k, v) in
                                ix.iter().filter(|(k, _)| *k != "name" && *k != "keyPattern")
                            {
                                i.insert(k.clone(), v.clone());
                            }
                        }
                    }
                }
            }
            Action::Drop { coll } | Action::Rename { from: coll, .. } => {
                return Err(bad_oplog(&format!(
                    "collection {coll} is dropped or renamed within the replayed window, which this daraa-ops does not replay; restore to a time before that change"
                )));
            }
        }
    }
    Ok(out)
}

fn metadata_of<'a>(
    metadata: &'a mut BTreeMap<String, CollectionMetadata>,
    coll: &str,
) -> &'a mut CollectionMetadata {
    metadata.entry(coll.to_owned()).or_insert_with(|| CollectionMetadata {
        name: coll.to_owned(),
        kind: "collection".into(),
        options: Document::new(),
        indexes: vec![bson::doc! {"v": 2, "key": {"_id": 1}, "name": "_id_"}],
        uuid: None,
    })
}

/// A collection the oplog creates: an empty temporary one, reported as created.
async fn create(
    db: &Database,
    temps: &Temps,
    coll: &str,
    options: &Document,
    collections: &mut Vec<CollectionReport>,
    metadata: &mut BTreeMap<String, CollectionMetadata>,
) -> anyhow::Result<()> {
    let target = temps.target(coll);
    if let Target::InPlace(name) = &target {
        temps
            .journal(db, name, Mode::InPlace, Phase::Loading)
            .await
            .context("recording the restore's progress")?;
    }
    load::create_collection(db, target.name(), options)
        .await
        .with_context(|| format!("creating collection {coll}, which the oplog creates"))?;
    metadata_of(metadata, coll).options = options.clone();
    collections.push(CollectionReport {
        name: coll.to_owned(),
        digest: SetDigest::default().hex(),
        after_replay: Some(0),
        ..CollectionReport::default()
    });
    collections.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(())
}

/// One collection's changes: the touched documents read, changed in order, written back.
async fn apply(
    db: &Database,
    temps: &Temps,
    opts: &Options,
    report: &mut CollectionReport,
    actions: &[Action],
) -> anyhow::Result<()> {
    let temp = temps.target(&report.name).name().to_owned();
    let mut ids: Vec<Bson> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in actions {
        if let Some((_, id)) = a.document_of()
            && seen.insert(state::key(id))
        {
            ids.push(id.clone());
        }
    }
    let before = load::find_by_ids(db, &temp, &ids).await?;
    let mut digest = SetDigest::from_hex(&report.digest).unwrap_or_default();
    let mut current = Vec::with_capacity(before.len());
    for raw in &before {
        digest.remove(raw.as_bytes());
        current.push(Document::try_from(raw.as_ref())?);
    }
    let mut run = state::Run::new(current);
    for a in actions {
        run.apply(a).map_err(|e| bad_oplog(&e.to_string()))?;
    }
    let (touched, after) = run.writes();
    let mut written = Vec::with_capacity(after.len());
    let mut counts = report.masked.take().unwrap_or_default();
    for doc in &after {
        let raw = RawDocumentBuf::try_from(doc)?;
        let raw = match &opts.mask {
            Some(m) => m.mask(&report.name, &raw, &mut counts)?.unwrap_or(raw),
            None => raw,
        };
        digest.add(raw.as_bytes());
        written.push(raw);
    }
    if opts.mask.is_some() {
        report.masked = Some(counts);
    }
    load::delete_by_ids(db, &temp, &touched).await?;
    let n = written.len() as u64;
    if n > 0 {
        let (inserted, failures) = load::insert_batch(db, &temp, written).await;
        if inserted != n {
            anyhow::bail!(
                "{} of {n} replayed documents were refused: {}",
                n - inserted,
                failures.join("; ")
            );
        }
    }
    let had = report.after_replay.unwrap_or(report.inserted);
    report.after_replay = Some(had - before.len() as u64 + n);
    report.digest = digest.hex();
    Ok(())
}
