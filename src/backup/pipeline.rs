//! The dump pipeline: collections dumped in parallel, each compressed at the archive's level
//! into a staging file as it is read, handed to one archive-writing thread as they finish
//! (which copies the compressed bytes in, so each byte is compressed once); member names,
//! order and contents come from `archive::tar::layout`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::Semaphore;

use super::Env;
use crate::archive::CollectionMetadata;
use crate::archive::crypt::{EphemeralKey, Recipients, Sealer};
use crate::archive::gz::{Codec, GzPool};
use crate::archive::manifest::{
    ClusterTime, ClusterWindow, CollectionEntry, FORMAT, FORMAT_VERSION, Manifest, OplogSlice,
};
use crate::archive::tar::layout;
use crate::archive::tar::writer::{ArchiveWriter, Compressed, EntryData};
use crate::error::CliError;
use crate::error::Outcome;
use crate::files::hex;
use crate::mongo::dump;
use crate::output::progress::Progress;
use crate::signal::Interrupted;

/// Where and under which name an archive is being written.
pub(super) struct Target<'a> {
    pub id: &'a str,
    pub label: Option<String>,
    pub partial: &'a Path,
    pub staging: &'a Path,
    pub now: jiff::Timestamp,
    /// The newest good backup (id, documents), for the `max_shrink` guard.
    pub previous: Option<(String, u64)>,
    /// Set for a backup made by `import` from one daraa-ops did not write.
    pub imported: Option<crate::archive::manifest::Imported>,
    /// Set when the archive is encrypted (`backup.encryption`).
    pub recipients: Option<&'a Recipients>,
}

/// The run's staging folder, the compression threads its files share, and the in-memory key
/// they are sealed with when the archive is encrypted (no plaintext reaches the disk,
/// docs/encryption.md).
#[derive(Clone)]
pub(super) struct Stage {
    pub dir: PathBuf,
    pool: Arc<GzPool>,
    /// `.gz` or `.zst`, after the name of a staged file.
    ext: &'static str,
    key: Option<Arc<EphemeralKey>>,
}

/// A staged collection being written: compressed at the archive's level, sealed when
/// encrypting.
pub(super) type StagedWriter = EntryData<Sealer<std::io::BufWriter<std::fs::File>>>;

impl Stage {
    /// A staged file holds the entry's data as the archive will: compressed once, at
    /// `backup.compression_level`, so staging needs about the archive's size of local disk and
    /// the archive writer only copies it (docs/benchmarks.md). `<name>.gz` (`.zst` with
    /// zstd) is created mode 0600 and must not exist.
    pub fn create(&self, name: &str) -> std::io::Result<(PathBuf, StagedWriter)> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let path = self.dir.join(format!("{name}{}", self.ext));
        let file =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
        let sealer = Sealer::new(
            std::io::BufWriter::with_capacity(256 * 1024, file),
            self.key.as_deref().map(EphemeralKey::recipients),
        )?;
        Ok((path, EntryData::new(sealer, Arc::clone(&self.pool))))
    }

    /// The compressed bytes of a staged file (opened with the run's key when sealed).
    fn open(&self, path: &Path) -> std::io::Result<Box<dyn std::io::Read + Send>> {
        let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
        Ok(match &self.key {
            Some(k) => k.open(file)?,
            None => Box::new(file),
        })
    }
}

/// Messages to the archive-writing thread.
pub(super) enum Member {
    /// A staged collection ([`Stage::create`]), as [`finish_staged`] measured it.
    File {
        name: String,
        path: PathBuf,
        staged: Compressed,
    },
    Bytes {
        name: String,
        data: Vec<u8>,
    },
}

pub(super) type Sender = std::sync::mpsc::Sender<Member>;

/// What a producer put in the archive.
pub(super) struct Produced {
    pub collections: Vec<CollectionEntry>,
    /// The oplog written while the dump ran, or why the backup holds none.
    pub oplog: Result<OplogSlice, String>,
}

pub(super) fn send(tx: &Sender, member: Member) -> anyhow::Result<()> {
    tx.send(member).map_err(|_| anyhow::anyhow!("archive writer stopped"))
}

/// Writes the whole archive to `target.partial`; returns its manifest, size and sha256. The
/// staging folder is removed whatever happens; the `.partial` file is the caller's. Both are
/// removed even by an immediate exit (a second signal), and the staging folder records its
/// owner so that no other run mistakes it for a crashed run's leftover.
///
/// `produce` fills the archive: it gets the staging folder and the writer's queue, sends
/// each collection's members (metadata then documents, in name order when it can) and
/// returns their manifest entries.
pub(super) async fn write(
    env: Env<'_>,
    server_version: &str,
    target: &Target<'_>,
    produce: impl AsyncFnOnce(&Stage, &Sender) -> anyhow::Result<Produced>,
) -> anyhow::Result<(Manifest, u64, String)> {
    let stage = Stage {
        dir: target.staging.to_path_buf(),
        pool: GzPool::with_codec(
            codec(env.cfg),
            env.cfg.backup.level(),
            compression_threads(env.cfg),
        ),
        ext: match codec(env.cfg) {
            Codec::Gzip => ".gz",
            Codec::Zstd => ".zst",
        },
        key: target.recipients.map(|_| Arc::new(EphemeralKey::generate())),
    };
    with_staging(target, async || write_staged(env, server_version, target, &stage, produce).await)
        .await
}

/// Runs `work` with the run's staging folder in place (owner recorded, removed afterwards and
/// on an immediate exit, with the `.partial` file).
pub(super) async fn with_staging<T>(
    target: &Target<'_>,
    work: impl AsyncFnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(target.staging)
        .with_context(|| format!("cannot create staging folder {}", target.staging.display()))?;
    let owner = serde_json::to_vec(&crate::lock::ProcessId::current())?;
    crate::files::write_atomic(&target.staging.join(OWNER_FILE), &owner)
        .with_context(|| format!("cannot write {}", target.staging.display()))?;
    let (staging, partial) = (target.staging.to_path_buf(), target.partial.to_path_buf());
    let _abort = crate::signal::on_abort(move || async move {
        let _ = std::fs::remove_dir_all(&staging);
        let _ = std::fs::remove_file(&partial);
    });
    let result = work().await;
    let _ = std::fs::remove_dir_all(target.staging);
    result
}

/// The backup's producer: every collection dumped from the server.
pub(super) async fn dump(
    env: Env<'_>,
    db: &mongodb::Database,
    specs: &[dump::CollectionSpec],
    stage: &Stage,
    tx: &Sender,
) -> anyhow::Result<Vec<CollectionEntry>> {
    dump_all(env, db, specs, stage, tx).await
}

/// In a staging folder: the [`crate::lock::ProcessId`] of the run writing it.
pub(super) const OWNER_FILE: &str = "owner.json";

async fn write_staged(
    env: Env<'_>,
    server_version: &str,
    target: &Target<'_>,
    stage: &Stage,
    produce: impl AsyncFnOnce(&Stage, &Sender) -> anyhow::Result<Produced>,
) -> anyhow::Result<(Manifest, u64, String)> {
    let cfg = env.cfg;
    let (tx, writer_task) = spawn_writer(cfg, target, stage, env.cancel.clone())?;
    send(
        &tx,
        Member::Bytes { name: layout::PRELUDE.into(), data: layout::prelude_json(server_version) },
    )?;
    let dumped = produce(stage, &tx).await;
    let produced = match dumped {
        Ok(produced) if !env.cancel.is_cancelled() => produced,
        other => {
            // Closing the channel ends the writer. When the writer itself failed (a full
            // disk), the dump tasks only saw "archive writer stopped": its error is the one
            // to report.
            drop(tx);
            let writer_error = writer_task.await.ok().and_then(Result::err);
            return Err(match (writer_error, other) {
                (Some(w), _) => w,
                (None, Err(f)) => f,
                (None, Ok(_)) => Interrupted.into(),
            });
        }
    };
    let manifest = manifest(cfg, target, server_version, produced, None);
    // manifest.json is the last member; closing the channel then lets the writer finish.
    send(
        &tx,
        Member::Bytes {
            name: layout::MANIFEST.into(),
            data: serde_json::to_vec_pretty(&manifest)?,
        },
    )?;
    drop(tx);
    let (size, sha) = writer_task.await.context("archive writer panicked")??;
    Ok((manifest, size, sha))
}

/// The manifest of a backup whose collections are written (`container`: `archive` for
/// mongodump's archive format).
pub(super) fn manifest(
    cfg: &crate::config::Config,
    target: &Target<'_>,
    server_version: &str,
    produced: Produced,
    container: Option<&str>,
) -> Manifest {
    let second = |t: jiff::Timestamp| t.round(jiff::Unit::Second).unwrap_or(t).to_string();
    let Produced { collections: entries, oplog } = produced;
    let totals = Manifest::totals_of(&entries);
    let shrunk = shrink_check(target.previous.as_ref(), totals.documents, cfg.backup.max_shrink);
    Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        id: target.id.into(),
        label: target.label.clone(),
        created_at: second(target.now),
        completed_at: second(jiff::Timestamp::now()),
        server_version: server_version.into(),
        database: cfg.mongodb.database.clone(),
        totals,
        collections: entries,
        shrunk,
        imported: target.imported.clone(),
        container: container.map(str::to_owned),
        not_point_in_time: oplog.as_ref().err().cloned(),
        oplog: oplog.ok().map(Box::new),
    }
}

type WriterTask = tokio::task::JoinHandle<anyhow::Result<(u64, String)>>;

/// The file name ending of a tar backup written with `backup.compression`.
pub(super) fn tar_suffix(cfg: &crate::config::Config) -> &'static str {
    match cfg.backup.compression {
        crate::config::Compression::Gzip => crate::archive::names::ARCHIVE_SUFFIX,
        crate::config::Compression::Zstd => crate::archive::names::ZSTD_SUFFIX,
    }
}

/// `backup.compression` as the archive writer's codec.
fn codec(cfg: &crate::config::Config) -> Codec {
    match cfg.backup.compression {
        crate::config::Compression::Gzip => Codec::Gzip,
        crate::config::Compression::Zstd => Codec::Zstd,
    }
}

/// `backup.compression_threads`, 0 meaning one per core.
pub(super) fn compression_threads(cfg: &crate::config::Config) -> usize {
    match cfg.backup.compression_threads {
        0 => std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
        n => n,
    }
}

/// The thread that appends members to the archive in the order it receives them.
/// On a signal it stops at once (between members, or inside a staged file's copy).
fn spawn_writer(
    cfg: &crate::config::Config,
    target: &Target<'_>,
    stage: &Stage,
    cancel: tokio_util::sync::CancellationToken,
) -> anyhow::Result<(Sender, WriterTask)> {
    let partial = target.partial.to_path_buf();
    let mut writer = ArchiveWriter::create_with(
        &partial,
        codec(cfg),
        cfg.backup.level(),
        target.now.as_second().max(0) as u64,
        target.recipients,
    )
    .map_err(|e| disk_error(&e, &partial))?;
    let stage = stage.clone();
    let (tx, rx) = std::sync::mpsc::channel::<Member>();
    let task = tokio::task::spawn_blocking(move || -> anyhow::Result<(u64, String)> {
        for m in rx {
            if cancel.is_cancelled() {
                return Err(Interrupted.into());
            }
            let written = match m {
                Member::File { name, path, staged } => {
                    let r = stage.open(&path).and_then(|r| {
                        let mut r = crate::signal::CancelReader::new(r, cancel.clone());
                        writer.append_compressed(&name, staged, &mut r)
                    });
                    let _ = std::fs::remove_file(&path);
                    r
                }
                Member::Bytes { name, data } => writer.append_bytes(&name, &data),
            };
            written.map_err(|e| disk_error(&e, &partial))?;
        }
        writer.finish().map_err(|e| disk_error(&e, &partial).into())
    });
    Ok((tx, task))
}

/// Dumps every collection, `parallel_collections` at a time. A failed collection stops its
/// siblings through a child token; a signal reaches them through the parent. Cancelling only
/// the child keeps the exit code the failure's own.
async fn dump_all(
    env: Env<'_>,
    db: &mongodb::Database,
    specs: &[dump::CollectionSpec],
    stage: &Stage,
    tx: &Sender,
) -> anyhow::Result<Vec<CollectionEntry>> {
    let cfg = env.cfg;
    let job = env.cancel.child_token();
    let semaphore = Arc::new(Semaphore::new(cfg.backup.parallel_collections));
    let mut tasks = tokio::task::JoinSet::new();
    for spec in specs {
        let dumper = Dumper {
            db: db.clone(),
            db_dir: cfg.mongodb.database.clone(),
            stage: stage.clone(),
            tx: tx.clone(),
            cancel: job.clone(),
            progress: env.progress.clone(),
            batch_size: cfg.backup.batch_size,
        };
        let (sem, spec) = (Arc::clone(&semaphore), spec.clone());
        tasks.spawn(async move {
            // A signal stops a task wherever it is: waiting for its turn, listing indexes,
            // counting (a full scan on some servers) or reading a batch.
            let cancel = dumper.cancel.clone();
            tokio::select! {
                r = async {
                    let _permit = sem.acquire_owned().await?;
                    dumper.dump(&spec).await
                } => r,
                () = cancel.cancelled() => Err(Interrupted.into()),
            }
        });
    }
    let mut entries = join_dumps(env, tasks, &job).await?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Waits for every dump task; the first failure cancels the others (through the job's child
/// token, so the exit code stays the failure's own) and is returned.
pub(super) async fn join_dumps(
    env: Env<'_>,
    mut tasks: tokio::task::JoinSet<anyhow::Result<CollectionEntry>>,
    job: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<Vec<CollectionEntry>> {
    let mut entries = Vec::new();
    let mut failure: Option<anyhow::Error> = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(entry)) => entries.push(entry),
            Ok(Err(e)) => {
                failure.get_or_insert(e);
                job.cancel();
            }
            Err(e) => {
                failure.get_or_insert(anyhow::anyhow!("a dump task failed: {e}"));
            }
        }
    }
    env.progress.finish();
    match failure {
        Some(f) => Err(f),
        None => Ok(entries),
    }
}

/// What one collection's dump task needs.
struct Dumper {
    db: mongodb::Database,
    db_dir: String,
    stage: Stage,
    tx: Sender,
    cancel: tokio_util::sync::CancellationToken,
    progress: Progress,
    batch_size: u32,
}

impl Dumper {
    async fn dump(&self, spec: &dump::CollectionSpec) -> anyhow::Result<CollectionEntry> {
        let indexes = if spec.is_view() {
            Vec::new()
        } else {
            dump::list_indexes(&self.db, &spec.name)
                .await
                .with_context(|| format!("listing the indexes of {}", spec.name))?
        };
        let metadata = CollectionMetadata {
            name: spec.name.clone(),
            kind: spec.kind.clone(),
            options: spec.options.clone(),
            indexes,
            uuid: spec.uuid.clone(),
        }
        .to_json()
        .into_bytes();
        let metadata_file = crate::archive::names::metadata_member(&self.db_dir, &spec.name);
        let mut entry = CollectionEntry {
            name: spec.name.clone(),
            kind: if spec.is_view() { "view".into() } else { "collection".into() },
            data_file: None,
            metadata_file: metadata_file.clone(),
            documents: 0,
            bytes: 0,
            sha256: None,
            metadata_sha256: hex(&<sha2::Sha256 as sha2::Digest>::digest(&metadata)),
            cluster_time: None,
        };
        // Metadata first: a restore creates the collection with its options (capped,
        // collation, validator) before inserting the data.
        send(&self.tx, Member::Bytes { name: metadata_file, data: metadata })?;
        if spec.is_view() {
            return Ok(entry);
        }
        let total = self
            .db
            .collection::<bson::Document>(&spec.name)
            .estimated_document_count()
            .await
            .unwrap_or(0);
        let bar = self.progress.collection(&spec.name, total);
        let started_at = dump::operation_time(&self.db).await;
        let (staged, mut out) = self
            .stage
            .create(&format!("{}.bson", crate::archive::names::escape_collection(&spec.name)))?;
        let stats = dump::dump_collection_to(
            &self.db,
            &spec.name,
            self.batch_size,
            &self.cancel,
            |docs, bytes| {
                bar.set(docs, bytes);
            },
            |documents| {
                for d in documents {
                    out.write_all(d)?;
                }
                Ok(())
            },
        )
        .await
        .with_context(|| format!("dumping collection {}", spec.name))?;
        let measured = tokio::task::block_in_place(|| finish_staged(out, stats.bytes))
            .with_context(|| format!("cannot write {}", staged.display()))?;
        let ended_at = dump::operation_time(&self.db).await;
        let ct = |t: bson::Timestamp| ClusterTime { t: t.time, i: t.increment };
        entry.cluster_time =
            started_at.zip(ended_at).map(|(s, e)| ClusterWindow { start: ct(s), end: ct(e) });
        bar.done(&stats);
        let data_file = crate::archive::names::data_member(&self.db_dir, &spec.name);
        send(&self.tx, Member::File { name: data_file.clone(), path: staged, staged: measured })?;
        entry.data_file = Some(data_file);
        entry.documents = stats.documents;
        entry.bytes = stats.bytes;
        entry.sha256 = Some(stats.sha256);
        Ok(entry)
    }
}

/// Ends a staged file of `size` raw bytes and makes it durable; says what it holds.
pub(super) fn finish_staged(out: StagedWriter, size: u64) -> std::io::Result<Compressed> {
    let (sealer, staged) = out.finish(size)?;
    let file = sealer.finish()?.into_inner().map_err(std::io::IntoInnerError::into_error)?;
    file.sync_all()?;
    Ok(staged)
}

pub(super) fn disk_error(e: &std::io::Error, path: &Path) -> CliError {
    let err = CliError::new(Outcome::Failed, format!("cannot write {}: {e}", path.display()));
    if e.raw_os_error() == Some(28) {
        err.with_hint(
            "the disk is full: free space or point backup.dir elsewhere; nothing was kept",
        )
    } else {
        err
    }
}

/// The `max_shrink` guard: `Some` when `documents` is below `1 - max_shrink` of the previous
/// good backup's.
pub(super) fn shrink_check(
    previous: Option<&(String, u64)>,
    documents: u64,
    max_shrink: f64,
) -> Option<crate::archive::manifest::Shrunk> {
    let (id, before) = previous?;
    let floor = *before as f64 * (1.0 - max_shrink);
    (max_shrink > 0.0 && (documents as f64) < floor).then(|| crate::archive::manifest::Shrunk {
        previous_id: id.clone(),
        previous_documents: *before,
        max_shrink,
    })
}
