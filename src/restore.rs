//! The restore engine shared by `restore` and `drill`.
//!
//! Scheme (docs/operations.md, "Restore"): every collection is loaded into a temporary
//! collection `daraa_restore_<token>_<name>` while the archive streams; checksums and counts are
//! verified as each member ends and against the manifest at the end of the stream; indexes are
//! built on the temporary collections; only then is each live collection renamed aside, the new
//! one renamed into its place, and the old one dropped. Any failure before the swap drops the
//! temporary collections and leaves the target as it was. Views are created last.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use bson::{Document, RawDocumentBuf};
use mongodb::Database;
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::archive::Manifest;
use crate::archive::reader::{self, ArchiveError, Event};
use crate::catalog::Resolved;
use crate::error::{CliError, ErrorKind};
use crate::mongo::load;
use crate::signal::Interrupted;

#[derive(Debug, Clone)]
pub struct Options {
    /// Only these collections (None: all).
    pub collections: Option<Vec<String>>,
    /// Replace existing collections (the caller has checked `--drop` and confirmation).
    pub replace: bool,
    pub parallel_collections: usize,
    pub insertion_workers: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CollectionReport {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Documents in the archive.
    pub documents: u64,
    pub inserted: u64,
    pub failed: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    pub indexes: usize,
    /// `created`, `replaced`, `skipped` (filtered out).
    pub action: String,
    /// Order-independent digest of the archived documents (see `SetDigest`).
    #[serde(skip)]
    pub digest: String,
}

#[derive(Debug)]
pub struct Report {
    pub manifest: Manifest,
    pub collections: Vec<CollectionReport>,
    /// Each collection's parsed `metadata.json`.
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// Per-collection state while the archive streams.
struct Loading {
    temp: String,
    tx: Option<mpsc::Sender<Vec<RawDocumentBuf>>>,
    stats: Arc<Mutex<(u64, Vec<String>)>>,
    /// Waits for the insertion workers, then frees the collection's slot so the next
    /// collection can start (`parallel_collections`).
    done: tokio::task::JoinHandle<()>,
}

/// A restore failure that carries the per-collection report for the JSON summary.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failed {
    pub message: String,
    pub kind: ErrorKind,
    pub collections: Vec<CollectionReport>,
}

pub async fn restore(
    db: &Database,
    source: &Resolved,
    opts: &Options,
    cancel: &CancellationToken,
) -> anyhow::Result<Report> {
    let recovered = load::recover_leftovers(db)
        .await
        .context("cleaning up after an earlier interrupted restore")?;
    for r in recovered {
        tracing::warn!("{}: {r} (left by an interrupted restore)", db.name());
    }
    let mut token_bytes = [0u8; 3];
    rand::fill(&mut token_bytes);
    let token = crate::archive::manifest::hex(&token_bytes);
    let result = load_all(db, source, opts, cancel, &token).await;
    match result {
        Ok(report) => Ok(report),
        Err(e) => {
            // Nothing live was touched before the swap: drop what we created.
            drop_temps(db, &token).await;
            Err(e)
        }
    }
}

async fn drop_temps(db: &Database, token: &str) {
    let prefix = format!("{}{token}_", load::TEMP_PREFIX);
    if let Ok(names) = db.list_collection_names().await {
        for n in names
            .iter()
            .filter(|n| n.starts_with(&prefix) && !n[prefix.len()..].starts_with("old_"))
        {
            if let Err(e) = db.collection::<Document>(n).drop().await {
                tracing::warn!("cannot drop temporary collection {n}: {e}");
            }
        }
    }
}

#[allow(clippy::too_many_lines)]
async fn load_all(
    db: &Database,
    source: &Resolved,
    opts: &Options,
    cancel: &CancellationToken,
    token: &str,
) -> anyhow::Result<Report> {
    let wanted = |name: &str| opts.collections.as_ref().is_none_or(|c| c.iter().any(|x| x == name));
    let reader = source.storage.reader(&source.archive_name).await?;
    let expected = source.sidecar.as_ref().map(|s| s.manifest.clone());
    let sidecar_collections: HashMap<String, crate::archive::CollectionEntry> = expected
        .as_ref()
        .map(|m| m.collections.iter().map(|c| (c.name.clone(), c.clone())).collect())
        .unwrap_or_default();
    let (tx, mut rx) = mpsc::channel::<Event>(4);
    let walk_cancel = cancel.clone();
    let walker = tokio::task::spawn_blocking(move || {
        let reader = CancelReader { inner: reader, cancel: walk_cancel };
        reader::walk(reader, expected.as_ref(), true, |ev| {
            tx.blocking_send(ev)
                .map_err(|_| ArchiveError::Io(std::io::Error::other("restore stopped reading")))
        })
    });

    let semaphore = Arc::new(Semaphore::new(opts.parallel_collections.max(1)));
    let mut metadata: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut loading: BTreeMap<String, Loading> = BTreeMap::new();
    let mut reports: BTreeMap<String, CollectionReport> = BTreeMap::new();
    let mut stream_error: Option<anyhow::Error> = None;

    while let Some(ev) = rx.recv().await {
        if cancel.is_cancelled() {
            stream_error = Some(Interrupted.into());
            break;
        }
        match ev {
            Event::Metadata { collection, json } => {
                metadata.insert(collection, json);
            }
            Event::DataStart { collection } => {
                if !wanted(&collection) {
                    continue;
                }
                let options = metadata
                    .get(&collection)
                    .and_then(|m| m.get("options"))
                    .map(load::to_document)
                    .transpose()?
                    .unwrap_or_default();
                if !metadata.contains_key(&collection) {
                    tracing::warn!(
                        "{collection}: data comes before its metadata in this archive; created without options"
                    );
                }
                let temp = load::temp_name(token, &collection);
                load::create_collection(db, &temp, &options).await.with_context(|| {
                    format!("creating collection {collection} (options {options})")
                })?;
                let permit = Arc::clone(&semaphore).acquire_owned().await?;
                let (btx, brx) = mpsc::channel::<Vec<RawDocumentBuf>>(opts.insertion_workers * 2);
                let brx = Arc::new(tokio::sync::Mutex::new(brx));
                let stats = Arc::new(Mutex::new((0u64, Vec::<String>::new())));
                let mut workers = tokio::task::JoinSet::new();
                for _ in 0..opts.insertion_workers.max(1) {
                    let (db, temp, brx, stats) =
                        (db.clone(), temp.clone(), Arc::clone(&brx), Arc::clone(&stats));
                    workers.spawn(async move {
                        loop {
                            let batch = brx.lock().await.recv().await;
                            let Some(batch) = batch else { return };
                            let (inserted, failures) = load::insert_batch(&db, &temp, batch).await;
                            let mut s = stats.lock().expect("stats");
                            s.0 += inserted;
                            s.1.extend(failures);
                        }
                    });
                }
                let done = tokio::spawn(async move {
                    while workers.join_next().await.is_some() {}
                    drop(permit);
                });
                loading.insert(collection, Loading { temp, tx: Some(btx), stats, done });
            }
            Event::Batch { collection, docs } => {
                if let Some(l) = loading.get(&collection)
                    && let Some(tx) = &l.tx
                    && tx.send(docs).await.is_err()
                {
                    stream_error =
                        Some(anyhow::anyhow!("insertion workers of {collection} stopped"));
                    break;
                }
            }
            Event::DataEnd { collection, stats, digest } => {
                tracing::info!(
                    "{collection}: {} documents read from the archive ({})",
                    stats.documents,
                    crate::output::human_bytes(stats.bytes)
                );
                if let Some(expected) = sidecar_collections.get(&collection)
                    && (expected.documents != stats.documents
                        || expected.sha256.as_deref() != Some(stats.sha256.as_str()))
                {
                    stream_error = Some(
                        CliError::new(
                            ErrorKind::Check,
                            format!(
                                "collection {collection}: the archive does not match its manifest"
                            ),
                        )
                        .into(),
                    );
                    break;
                }
                let action = if wanted(&collection) { "created" } else { "skipped" };
                reports.insert(
                    collection.clone(),
                    CollectionReport {
                        name: collection.clone(),
                        kind: "collection".into(),
                        documents: stats.documents,
                        action: action.into(),
                        digest,
                        ..CollectionReport::default()
                    },
                );
                if let Some(l) = loading.get_mut(&collection) {
                    // Closing the channel lets the workers finish what is queued.
                    l.tx = None;
                }
            }
        }
    }
    drop(rx);
    // Close every channel, then wait for the workers.
    for l in loading.values_mut() {
        l.tx = None;
    }
    let stream_result = walker.await.context("archive reader panicked")?;
    for (name, l) in &mut loading {
        let _ = (&mut l.done).await;
        let (inserted, failures) = std::mem::take(&mut *l.stats.lock().expect("stats"));
        if let Some(r) = reports.get_mut(name) {
            r.inserted = inserted;
            r.failed = r.documents.saturating_sub(inserted);
            r.failures = failures.into_iter().take(20).collect();
        }
    }
    if let Some(e) = stream_error {
        return Err(e);
    }
    let manifest = match stream_result {
        Ok(v) => v.manifest,
        Err(_) if cancel.is_cancelled() => return Err(Interrupted.into()),
        Err(ArchiveError::Corrupt(msg)) => {
            return Err(CliError::new(ErrorKind::Check, format!("{}: {msg}", source.archive_name))
                .with_hint("nothing in the target database was changed; restore another backup (`daraa-ops list`)")
                .into());
        }
        Err(ArchiveError::Io(e)) => {
            return Err(anyhow::Error::new(e).context(format!("reading {}", source.archive_name)));
        }
    };
    if let Some(missing) =
        opts.collections.iter().flatten().find(|c| manifest.collection(c).is_none())
    {
        return Err(CliError::usage(format!(
            "collection {missing} is not in backup {}",
            manifest.id
        ))
        .into());
    }
    let mut collections: Vec<CollectionReport> = reports.into_values().collect();
    if collections.iter().any(|c| c.failed > 0) {
        let total: u64 = collections.iter().map(|c| c.failed).sum();
        return Err(Failed {
            message: format!(
                "{total} document(s) failed to insert; nothing in the target database was replaced"
            ),
            kind: ErrorKind::Runtime,
            collections,
        }
        .into());
    }
    if cancel.is_cancelled() {
        return Err(Interrupted.into());
    }

    // Indexes on the complete, verified temporary collections.
    for c in collections.iter_mut().filter(|c| c.action != "skipped") {
        let indexes: Vec<Document> = metadata
            .get(&c.name)
            .and_then(|m| m.get("indexes"))
            .and_then(|i| i.as_array())
            .map(|a| a.iter().map(load::to_document).collect::<anyhow::Result<Vec<_>>>())
            .transpose()?
            .unwrap_or_default();
        let temp = &loading[&c.name].temp;
        c.indexes = load::create_indexes(db, temp, &indexes)
            .await
            .with_context(|| format!("building the indexes of {}", c.name))?;
    }
    if cancel.is_cancelled() {
        return Err(Interrupted.into());
    }

    // The swap. Signals are not checked from here on: it is quick, and stopping half-way would
    // leave some collections old and some new.
    let live: Vec<String> = db.list_collection_names().await?;
    // Without --drop only empty collections may be replaced. Checked for all of them before
    // the first rename, so a conflict never leaves some collections swapped and others not
    // (the command checks upfront too; this catches data written while the restore ran).
    if !opts.replace {
        for c in collections.iter().filter(|c| c.action != "skipped" && live.contains(&c.name)) {
            if !load::is_empty(db, &c.name).await? {
                return Err(CliError::usage(format!(
                    "collection {} of {} received data during the restore; nothing was replaced",
                    c.name,
                    db.name()
                ))
                .with_hint("rerun with --drop to replace it")
                .into());
            }
        }
    }
    for c in collections.iter_mut().filter(|c| c.action != "skipped") {
        let temp = &loading[&c.name].temp;
        if live.contains(&c.name) {
            let old = load::old_name(token, &c.name);
            load::rename(db, &c.name, &old)
                .await
                .with_context(|| format!("moving the live {} aside", c.name))?;
            load::rename(db, temp, &c.name)
                .await
                .with_context(|| format!("moving the restored {} into place", c.name))?;
            db.collection::<Document>(&old)
                .drop()
                .await
                .with_context(|| format!("dropping the previous {}", c.name))?;
            c.action = "replaced".into();
        } else {
            load::rename(db, temp, &c.name)
                .await
                .with_context(|| format!("moving the restored {} into place", c.name))?;
        }
    }
    // Views last, once their source collections exist.
    for entry in manifest.collections.iter().filter(|c| c.kind == "view" && wanted(&c.name)) {
        let options = metadata
            .get(&entry.name)
            .and_then(|m| m.get("options"))
            .map(load::to_document)
            .transpose()?
            .unwrap_or_default();
        let mut action = "created";
        if live.contains(&entry.name) {
            db.collection::<Document>(&entry.name).drop().await?;
            action = "replaced";
        }
        load::create_view(db, &entry.name, &options)
            .await
            .with_context(|| format!("creating view {}", entry.name))?;
        collections.push(CollectionReport {
            name: entry.name.clone(),
            kind: "view".into(),
            action: action.into(),
            ..Default::default()
        });
    }
    Ok(Report { manifest, collections, metadata })
}

/// Stops the archive stream on SIGINT/SIGTERM.
struct CancelReader<R> {
    inner: R,
    cancel: CancellationToken,
}

impl<R: std::io::Read> std::io::Read for CancelReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other(Interrupted));
        }
        self.inner.read(buf)
    }
}
