//! The restore engine shared by `restore` and `drill`.
//!
//! Scheme (docs/operations.md, "Restore"), one step per module:
//! 1. [`pump`]: while the archive streams, every collection is loaded into a temporary
//!    collection ([`temps`]); checksums and counts are verified as each member ends and
//!    against the manifest at the end of the stream;
//! 2. [`swap`]: indexes are built on the complete temporary collections; only then is each
//!    live collection moved aside, the new one renamed into its place, the old one dropped;
//!    views are created last.
//!
//! Any failure before the swap drops the temporary collections and leaves the target as it
//! was. Where the server cannot rename a collection (FerretDB and dotted names), a new one is
//! loaded under its own name and an existing one replaced by copying, journalled so that a
//! kill is undone by the next run ([`temps`]).

pub mod job;
mod pump;
pub mod replay;
pub mod swap;
pub mod temps;

use std::collections::BTreeMap;

use anyhow::Context as _;
use mongodb::Database;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::archive::{ArchiveError, Event, walk};
use crate::archive::{CollectionMetadata, Manifest, SourceFormat};
use crate::repo::Resolved;

#[derive(Debug, Clone)]
pub struct Options {
    /// Only these collections (None: all).
    pub collections: Option<Vec<String>>,
    /// Replace existing collections (the caller has checked `--drop` and confirmation).
    pub replace: bool,
    pub parallel_collections: usize,
    pub insertion_workers: usize,
    /// Masking rules applied to documents before they are inserted (`--mask`).
    pub mask: Option<std::sync::Arc<crate::mask::Masker>>,
    /// A bar per collection being loaded (documents, bytes, rate, ETA) on a terminal.
    pub progress: crate::output::progress::Progress,
    /// `--to-time`: oplog entries archived after the backup, replayed after its own.
    pub point_in_time: Option<std::sync::Arc<PointInTime>>,
}

/// A restore to a point in time (`--to-time`, docs/pitr.md): the entries of the archived
/// chunks after the base backup, and the point, which the replay stops at.
#[derive(Debug)]
pub struct PointInTime {
    pub entries: Vec<bson::RawDocumentBuf>,
    pub until: crate::oplog::Ts,
    pub chunks: usize,
    /// The chunks' manifest names, in chain order.
    pub chunk_names: Vec<String>,
}

impl PointInTime {
    /// The chunks of a plan read (and checked) for the replay.
    pub async fn of(cfg: &crate::config::Config, plan: &crate::pitr::Plan) -> anyhow::Result<Self> {
        Ok(PointInTime {
            entries: crate::pitr::entries(cfg, plan).await?,
            until: plan.target,
            chunks: plan.chunks.len(),
            chunk_names: plan.chunks.iter().map(|c| crate::pitr::manifest_name(cfg, c)).collect(),
        })
    }

    /// How many entries a replay after a base ending at `base_end` applies: those after it
    /// and at or before the point.
    pub fn replayed_after(&self, base_end: crate::oplog::Ts) -> u64 {
        self.entries
            .iter()
            .filter_map(|e| e.get_timestamp("ts").ok())
            .map(crate::oplog::Ts::from)
            .filter(|t| *t > base_end && *t <= self.until)
            .count() as u64
    }
}

impl Options {
    fn wanted(&self, name: &str) -> bool {
        self.collections.as_ref().is_none_or(|c| c.iter().any(|x| x == name))
    }
}

/// What a restore did with a collection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Created where nothing (or an empty collection) was.
    #[default]
    Created,
    /// A live collection was replaced.
    Replaced,
    /// In the archive, filtered out by `--collections`.
    Skipped,
}

/// A collection or a view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Collection,
    View,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CollectionReport {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Documents in the archive.
    pub documents: u64,
    pub inserted: u64,
    pub failed: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// With `--mask`: per field path, the rule and how many values it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked: Option<crate::mask::Counts>,
    pub indexes: usize,
    pub action: Action,
    /// Documents once the backup's oplog was replayed (None: it changed nothing here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_replay: Option<u64>,
    /// Order-independent digest of the documents restored: the archived ones, moved along by
    /// the oplog's changes (see `digest::SetDigest`).
    #[serde(skip)]
    pub digest: String,
}

#[derive(Debug)]
pub struct Report {
    pub manifest: Manifest,
    pub collections: Vec<CollectionReport>,
    /// Each collection's `metadata.json`.
    pub metadata: BTreeMap<String, CollectionMetadata>,
    /// How collections were replaced (atomic where the server has `dropTarget`).
    pub swap: swap::SwapMode,
    /// The backup's oplog, replayed (None: the backup holds none).
    pub oplog: Option<replay::Replayed>,
}

/// A restore failure that carries the per-collection report for the JSON summary.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failed {
    pub message: String,
    pub collections: Vec<CollectionReport>,
}

/// What a restore knows before it writes: the backup's manifest and, for a backup without a
/// sidecar (given by path, or written by mongodump), every collection's metadata, from a
/// first pass over the whole archive that also verifies it. A mongodump tar may hold a
/// collection's documents before its metadata; knowing the metadata first lets the restore
/// create every collection with its options.
#[derive(Debug)]
pub struct Survey {
    pub manifest: Manifest,
    pub metadata: BTreeMap<String, CollectionMetadata>,
    pub format: SourceFormat,
    /// Standard input, which is read once: nothing is known before the restore reads it
    /// (`manifest` is empty; the swap still refuses non-empty collections without `--drop`).
    pub streamed: bool,
}

pub async fn survey(
    source: &Resolved,
    cancel: &CancellationToken,
    hint: &str,
) -> anyhow::Result<Survey> {
    if let Some(s) = &source.sidecar {
        return Ok(Survey {
            manifest: s.manifest.clone(),
            metadata: BTreeMap::new(),
            format: SourceFormat::Daraa,
            streamed: false,
        });
    }
    if source.stdin {
        let manifest: Manifest = serde_json::from_value(serde_json::json!({
            "format": "", "format_version": 0, "tool_version": "", "id": source.id,
            "created_at": "", "completed_at": "", "server_version": "", "database": "",
            "collections": [], "totals": {"collections": 0, "views": 0, "documents": 0, "bytes": 0},
        }))?;
        return Ok(Survey {
            manifest,
            metadata: BTreeMap::new(),
            format: SourceFormat::Daraa,
            streamed: true,
        });
    }
    let reader = source.reader().await?;
    let walk_cancel = cancel.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut metadata = BTreeMap::new();
        let reader = crate::signal::CancelReader::new(reader, walk_cancel);
        let verified = walk::walk(reader, None, false, |ev| {
            if let Event::Metadata { collection, metadata: m } = ev {
                metadata.insert(collection, m);
            }
            Ok(())
        })?;
        Ok::<_, ArchiveError>((verified, metadata))
    })
    .await
    .context("archive reader panicked")?;
    let (verified, metadata) = result.map_err(|e| source.archive_error(e, cancel, hint))?;
    let mut manifest = verified.manifest;
    if manifest.id.is_empty() {
        manifest.id.clone_from(&source.id);
    }
    Ok(Survey { manifest, metadata, format: verified.format, streamed: false })
}

/// The hint of a damaged archive met by a restore or a drill.
pub const UNCHANGED: &str =
    "nothing in the target database was changed; restore another backup (`daraa-ops list`)";

pub async fn restore(
    db: &Database,
    source: &Resolved,
    survey: &Survey,
    opts: &Options,
    cancel: &CancellationToken,
) -> anyhow::Result<Report> {
    // A masked restore names every collection the masking configuration must know before it
    // writes anything (a stream names them as they come: the pump checks those).
    if let Some(m) = &opts.mask {
        let names = survey.manifest.collections.iter().filter(|c| c.kind != "view");
        crate::mask::check_known(m, names.map(|c| c.name.as_str()).filter(|n| opts.wanted(n)))?;
    }
    let recovered =
        temps::recover(db).await.context("cleaning up after an earlier interrupted restore")?;
    for r in recovered {
        tracing::warn!("{}: {r} (left by an interrupted restore)", db.name());
    }
    let mut temps = temps::Temps::new();
    let live: Vec<String> = db.list_collection_names().await?;
    let result = async {
        let mode = swap::probe(db, &mut temps, &live).await?;
        load(db, source, survey, opts, cancel, &temps, mode).await
    }
    .await;
    match &result {
        Ok(_) => {
            if let Err(e) = temps.close(db).await {
                tracing::warn!("cannot drop the journal of this restore: {e}");
            }
        }
        Err(_) => {
            // Nothing live was replaced before the swap, and a failed swap put back what it
            // had begun: drop what we created.
            temps.undo(db).await;
            // A database that did not exist is not left behind empty.
            if live.is_empty() && db.list_collection_names().await.is_ok_and(|n| n.is_empty()) {
                let _ = db.drop().await;
            }
        }
    }
    result
}

async fn load(
    db: &Database,
    source: &Resolved,
    survey: &Survey,
    opts: &Options,
    cancel: &CancellationToken,
    temps: &temps::Temps,
    mode: swap::SwapMode,
) -> anyhow::Result<Report> {
    let pumped = pump::pump(db, source, survey, opts, cancel, temps).await?;
    crate::signal::check(cancel)?;
    let mut collections = pumped.collections;
    let mut metadata = pumped.metadata;
    // The backup's own oplog, then (to a point in time) the archived chunks after it.
    let own = pumped.manifest.oplog.as_ref().map(|o| crate::oplog::Ts::from(o.until));
    let until = opts.point_in_time.as_ref().map(|p| p.until).or(own);
    let oplog = match until {
        Some(until) => {
            let mut entries = pumped.oplog;
            if let Some(p) = &opts.point_in_time {
                // The chunks' entries after the backup's own oplog: those at or before its
                // end are in the dump or its oplog already (and a drop before the dump must
                // not be replayed over it).
                let after = |raw: &&bson::RawDocumentBuf| {
                    own.is_none_or(|u| {
                        raw.get_timestamp("ts").is_ok_and(|t| crate::oplog::Ts::from(t) > u)
                    })
                };
                entries.extend(p.entries.iter().filter(after).cloned());
            }
            let database = pumped.manifest.database.clone();
            let replayed = replay::replay(
                db,
                temps,
                opts,
                &database,
                until,
                &entries,
                &mut collections,
                &mut metadata,
            )
            .await?;
            crate::signal::check(cancel)?;
            Some(replayed)
        }
        None => None,
    };
    swap::build_indexes(db, &mut collections, &metadata, temps).await?;
    crate::signal::check(cancel)?;
    // The swap. Signals are not checked from here on: it is quick, and stopping half-way
    // would leave some collections old and some new.
    let live: Vec<String> = db.list_collection_names().await?;
    if !opts.replace {
        swap::check_still_empty(db, &collections, &live, temps).await?;
    }
    swap::swap(db, &mut collections, &live, temps, mode).await?;
    swap::create_views(db, &pumped.manifest, &metadata, opts, &live, &mut collections).await?;
    Ok(Report { manifest: pumped.manifest, collections, metadata, swap: mode, oplog })
}
