//! Step 1 of a restore: stream the archive into temporary collections, several collections at
//! a time and several insertion workers each, and verify every member against the manifest.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use bson::RawDocumentBuf;
use mongodb::Database;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::temps::{Mode, Phase, Target, Temps};
use super::{Action, CollectionReport, Failed, Options};
use crate::archive::{ArchiveError, Event, walk};
use crate::archive::{CollectionEntry, CollectionMetadata, Manifest};
use crate::error::CliError;
use crate::error::Outcome;
use crate::mongo::load;
use crate::repo::Resolved;
use crate::signal::Interrupted;

/// What the stream delivered, verified.
pub(super) struct Pumped {
    pub manifest: Manifest,
    pub metadata: BTreeMap<String, CollectionMetadata>,
    /// One per `.bson` member, in name order.
    pub collections: Vec<CollectionReport>,
    /// The backup's oplog entries (`oplog.bson`), to replay.
    pub oplog: Vec<RawDocumentBuf>,
}

/// One collection being loaded.
struct Loading {
    tx: Option<mpsc::Sender<Vec<RawDocumentBuf>>>,
    bar: Arc<crate::output::progress::Bar>,
    stats: Arc<Mutex<(u64, Vec<String>)>>,
    /// Waits for the insertion workers, then frees the collection's slot so the next
    /// collection can start (`parallel_collections`).
    done: tokio::task::JoinHandle<()>,
}

/// The consumer of the archive's events.
struct Pump<'a> {
    db: &'a Database,
    opts: &'a Options,
    temps: &'a Temps,
    expected: HashMap<String, CollectionEntry>,
    semaphore: Arc<Semaphore>,
    metadata: BTreeMap<String, CollectionMetadata>,
    loading: BTreeMap<String, Loading>,
    reports: BTreeMap<String, CollectionReport>,
    /// Documents per collection, as the survey found them: the bars' totals.
    totals: HashMap<String, u64>,
    /// Collections interleave in the stream: every collection loads as its documents come,
    /// since waiting for a slot would wait for a collection whose documents come later.
    interleaved: bool,
    oplog: Vec<RawDocumentBuf>,
}

pub(super) async fn pump(
    db: &Database,
    source: &Resolved,
    survey: &super::Survey,
    opts: &Options,
    cancel: &CancellationToken,
    temps: &Temps,
) -> anyhow::Result<Pumped> {
    let reader = source.reader().await?;
    let expected = source.sidecar.as_ref().map(|s| s.manifest.clone());
    let mut pump = Pump {
        db,
        opts,
        temps,
        expected: expected
            .iter()
            .flat_map(|m| m.collections.iter().map(|c| (c.name.clone(), c.clone())))
            .collect(),
        semaphore: Arc::new(Semaphore::new(opts.parallel_collections.max(1))),
        metadata: survey.metadata.clone(),
        loading: BTreeMap::new(),
        reports: BTreeMap::new(),
        totals: survey.manifest.collections.iter().map(|c| (c.name.clone(), c.documents)).collect(),
        interleaved: false,
        oplog: Vec::new(),
    };
    let (tx, mut rx) = mpsc::channel::<Event>(4);
    let walk_cancel = cancel.clone();
    let mut masking = opts.mask.clone().map(Masking::new);
    let walker = tokio::task::spawn_blocking(move || {
        let reader = crate::signal::CancelReader::new(reader, walk_cancel);
        // Masking runs here, on the reading thread, before documents reach the workers.
        let walked = walk::walk(reader, expected.as_ref(), true, |ev| {
            let ev = match &mut masking {
                Some(m) => m.apply(ev)?,
                None => ev,
            };
            tx.blocking_send(ev)
                .map_err(|_| ArchiveError::Io(std::io::Error::other("restore stopped reading")))
        });
        (walked, masking.map(|m| m.counts))
    });
    let mut stream_error: Option<anyhow::Error> = None;
    loop {
        let ev = tokio::select! {
            ev = rx.recv() => ev,
            // Also while the reader waits for input that does not come (standard input).
            () = cancel.cancelled() => {
                stream_error = Some(Interrupted.into());
                break;
            }
        };
        let Some(ev) = ev else { break };
        if let Err(e) = pump.on_event(ev).await {
            stream_error = Some(e);
            break;
        }
    }
    drop(rx);
    if cancel.is_cancelled() {
        // The reading thread may be blocked on input; it ends on its own.
        pump.finish_workers().await;
        return Err(Interrupted.into());
    }
    let (stream_result, mask_counts) = walker.await.context("archive reader panicked")?;
    pump.finish_workers().await;
    if let Some(e) = stream_error {
        return Err(e);
    }
    let mut manifest =
        stream_result.map_err(|e| source.archive_error(e, cancel, super::UNCHANGED))?.manifest;
    if manifest.id.is_empty() {
        manifest.id.clone_from(&source.id);
    }
    for (collection, counts) in mask_counts.into_iter().flatten() {
        if let Some(r) = pump.reports.get_mut(&collection) {
            r.masked = Some(counts);
        }
    }
    pump.into_pumped(manifest)
}

/// The masking of a restore: documents of masked collections are replaced before they are
/// inserted, and each such collection's digest is the masked documents' (what the server will
/// hold, for the drill's comparison).
struct Masking {
    masker: Arc<crate::mask::Masker>,
    counts: BTreeMap<String, crate::mask::Counts>,
    digests: HashMap<String, crate::digest::SetDigest>,
}

impl Masking {
    fn new(masker: Arc<crate::mask::Masker>) -> Self {
        Masking { masker, counts: BTreeMap::new(), digests: HashMap::new() }
    }

    fn apply(&mut self, ev: Event) -> Result<Event, ArchiveError> {
        Ok(match ev {
            // Every collection: rules where it has them, and the free-text scan everywhere.
            Event::Batch { collection, docs } => {
                let counts = self.counts.entry(collection.clone()).or_default();
                let digest = self.digests.entry(collection.clone()).or_default();
                let mut masked = Vec::with_capacity(docs.len());
                for d in docs {
                    let m = self.masker.mask(&collection, &d, counts).map_err(|e| {
                        ArchiveError::Corrupt(format!("collection {collection}: masking: {e}"))
                    })?;
                    let m = m.unwrap_or(d);
                    digest.add(m.as_bytes());
                    masked.push(m);
                }
                Event::Batch { collection, docs: masked }
            }
            Event::DataEnd { collection, stats, digest: _ } => {
                self.counts.entry(collection.clone()).or_default();
                let masked = self.digests.remove(&collection).unwrap_or_default().hex();
                Event::DataEnd { collection, stats, digest: masked }
            }
            other => other,
        })
    }
}

impl Pump<'_> {
    async fn on_event(&mut self, ev: Event) -> anyhow::Result<()> {
        match ev {
            Event::Interleaved => self.interleaved = true,
            Event::Oplog { docs } => self.oplog.extend(docs),
            Event::Metadata { collection, metadata } => {
                self.metadata.insert(collection, metadata);
            }
            Event::DataStart { collection } if self.opts.wanted(&collection) => {
                self.start(collection).await?;
            }
            Event::DataStart { .. } => {}
            Event::Batch { collection, docs } => {
                if let Some(l) = self.loading.get(&collection)
                    && let Some(tx) = &l.tx
                    && tx.send(docs).await.is_err()
                {
                    anyhow::bail!("insertion workers of {collection} stopped");
                }
            }
            Event::DataEnd { collection, stats, digest } => {
                tracing::info!(
                    "{collection}: {} documents read from the archive ({})",
                    stats.documents,
                    crate::output::human_bytes(stats.bytes)
                );
                if let Some(expected) = self.expected.get(&collection)
                    && (expected.documents != stats.documents
                        || expected.sha256.as_deref() != Some(stats.sha256.as_str()))
                {
                    return Err(CliError::new(
                        Outcome::Drift,
                        format!("collection {collection}: the archive does not match its manifest"),
                    )
                    .into());
                }
                let action =
                    if self.opts.wanted(&collection) { Action::Created } else { Action::Skipped };
                self.reports.insert(
                    collection.clone(),
                    CollectionReport {
                        name: collection.clone(),
                        documents: stats.documents,
                        action,
                        digest,
                        ..CollectionReport::default()
                    },
                );
                if let Some(l) = self.loading.get_mut(&collection) {
                    // Closing the channel lets the workers finish what is queued.
                    l.tx = None;
                }
            }
        }
        Ok(())
    }

    /// Creates the temporary collection with the archived options and starts its workers.
    async fn start(&mut self, collection: String) -> anyhow::Result<()> {
        // A backup read from a stream names its collections only as they come.
        if let Some(m) = &self.opts.mask {
            crate::mask::check_known(m, [collection.as_str()])?;
        }
        let options = match self.metadata.get(&collection) {
            Some(m) => m.options.clone(),
            None => {
                tracing::warn!(
                    "{collection}: data comes before its metadata in this archive; created without options"
                );
                bson::Document::new()
            }
        };
        let target = self.temps.target(&collection);
        if let Target::InPlace(name) = &target {
            self.temps
                .journal(self.db, name, Mode::InPlace, Phase::Loading)
                .await
                .context("recording the restore's progress")?;
        }
        let temp = target.name().to_owned();
        load::create_collection(self.db, &temp, &options)
            .await
            .with_context(|| format!("creating collection {collection} (options {options})"))?;
        let permit = if self.interleaved {
            None
        } else {
            Some(Arc::clone(&self.semaphore).acquire_owned().await?)
        };
        let workers = self.opts.insertion_workers.max(1);
        let (btx, brx) = mpsc::channel::<Vec<RawDocumentBuf>>(workers * 2);
        let brx = Arc::new(tokio::sync::Mutex::new(brx));
        let stats = Arc::new(Mutex::new((0u64, Vec::<String>::new())));
        let total = self.totals.get(&collection).copied().unwrap_or(0);
        let bar = Arc::new(self.opts.progress.collection(&collection, total));
        let bytes = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..workers {
            let (db, temp, brx, stats) =
                (self.db.clone(), temp.clone(), Arc::clone(&brx), Arc::clone(&stats));
            let (bar, bytes) = (Arc::clone(&bar), Arc::clone(&bytes));
            set.spawn(async move {
                loop {
                    let batch = brx.lock().await.recv().await;
                    let Some(batch) = batch else { return };
                    let size: usize = batch.iter().map(|d| d.as_bytes().len()).sum();
                    let (inserted, failures) = load::insert_batch(&db, &temp, batch).await;
                    let done = bytes.fetch_add(size as u64, std::sync::atomic::Ordering::Relaxed)
                        + size as u64;
                    let mut s = stats.lock().expect("stats");
                    s.0 += inserted;
                    s.1.extend(failures);
                    bar.set(s.0, done);
                }
            });
        }
        let done = tokio::spawn(async move {
            while set.join_next().await.is_some() {}
            drop(permit);
        });
        self.loading.insert(collection, Loading { tx: Some(btx), bar, stats, done });
        Ok(())
    }

    /// Closes every channel, waits for the workers and puts their counts in the reports.
    async fn finish_workers(&mut self) {
        for l in self.loading.values_mut() {
            l.tx = None;
        }
        for (name, l) in &mut self.loading {
            let _ = (&mut l.done).await;
            l.bar.clear();
            let (inserted, failures) = std::mem::take(&mut *l.stats.lock().expect("stats"));
            if let Some(r) = self.reports.get_mut(name) {
                r.inserted = inserted;
                r.failed = r.documents.saturating_sub(inserted);
                r.failures = failures.into_iter().take(20).collect();
            }
        }
    }

    /// The verified result, or the failure: a wanted collection missing from the backup, or
    /// documents the server refused.
    fn into_pumped(self, manifest: Manifest) -> anyhow::Result<Pumped> {
        if let Some(missing) =
            self.opts.collections.iter().flatten().find(|c| manifest.collection(c).is_none())
        {
            return Err(CliError::usage(format!(
                "collection {missing} is not in backup {}",
                manifest.id
            ))
            .into());
        }
        let collections: Vec<CollectionReport> = self.reports.into_values().collect();
        let failed: u64 = collections.iter().map(|c| c.failed).sum();
        if failed > 0 {
            return Err(Failed {
                message: format!(
                    "{failed} document(s) failed to insert; nothing in the target database was replaced"
                ),
                collections,
            }
            .into());
        }
        Ok(Pumped { manifest, metadata: self.metadata, collections, oplog: self.oplog })
    }
}
