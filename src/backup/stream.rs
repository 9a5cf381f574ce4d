//! The dump pipeline of `backup.format: archive`: mongodump's archive format written as the
//! collections are dumped (docs/archive-format.md). Every collection's metadata goes into the
//! prelude first; then the dump tasks hand each cursor batch to one writer thread, which
//! appends it as a segment (collections interleave) over the parallel gzip and the hashing
//! file writer. No collection is staged on disk: the local disk holds only the compressed
//! archive being written. The oplog written while the dump ran follows every collection, in
//! the namespace `mongodump --oplog` gives it (database `""`, collection `oplog`).

use std::fs::OpenOptions;
use std::io::BufWriter;
use std::os::unix::fs::OpenOptionsExt as _;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::Semaphore;

use super::Env;
use super::oplog;
use super::pipeline::{self, Target, disk_error};
use crate::archive::CollectionMetadata;
use crate::archive::gz::ParallelGzWriter;
use crate::archive::hashing::HashingWriter;
use crate::archive::manifest::{ClusterTime, ClusterWindow, CollectionEntry, Manifest, OplogSlice};
use crate::archive::mongodump::CRC64;
use crate::archive::mongodump::writer::{InterleavedWriter, PreludeEntry};
use crate::files::hex;
use crate::mongo::dump;
use crate::signal::Interrupted;

/// What the writer thread receives.
enum Piece {
    Segment {
        collection: String,
        documents: Vec<u8>,
    },
    End {
        collection: String,
        crc: u64,
    },
    OplogSegment(Vec<u8>),
    OplogEnd(u64),
    /// Everything was produced: the writer finishes the archive. A queue closed without it
    /// leaves the archive unfinished ([`Unfinished`]).
    Done,
}

/// The writer's answer to a queue closed before [`Piece::Done`]: the producer failed or was
/// stopped, and its error is the one to report. Nothing is finished: no gzip trailer, the
/// file stays `.partial`, an S3 upload is aborted rather than completed.
#[derive(Debug)]
struct Unfinished;

impl std::fmt::Display for Unfinished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the archive was left unfinished")
    }
}

impl std::error::Error for Unfinished {}

/// What is dumped: the database, its collections, and where the oplog stood before.
pub(super) struct Source<'a> {
    pub db: &'a mongodb::Database,
    pub specs: &'a [dump::CollectionSpec],
    pub server_version: &'a str,
    pub oplog: &'a oplog::Start,
}

/// Bytes of oplog entries per segment (about a cursor batch of documents, `mongo::dump`).
const OPLOG_SEGMENT: usize = 2 << 20;

/// Segments queued for the writer: with the cursor batches in flight, the memory bound.
const QUEUE: usize = 8;

/// Where the archive goes.
#[derive(Debug)]
pub(super) enum Dest {
    /// `target.partial`, renamed by the caller when complete.
    File,
    /// Standard output (`backup --stdout`): nothing on local disk, no staging folder.
    Stdout,
    /// Straight to S3 as a streaming multipart upload (`keep_local: false`): nothing on local
    /// disk; an unfinished upload is aborted.
    S3(Box<crate::storage::s3::S3StreamWriter>),
}

/// The byte sink under the compressor.
enum Out {
    File(std::fs::File),
    Stdout(std::io::Stdout),
    S3(Box<crate::storage::s3::S3StreamWriter>),
}

impl std::io::Write for Out {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        match self {
            Out::File(f) => f.write(data),
            Out::Stdout(s) => s.write(data),
            Out::S3(s) => s.write(data),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Out::File(f) => f.flush(),
            Out::Stdout(s) => s.flush(),
            Out::S3(s) => s.flush(),
        }
    }
}

impl Out {
    /// Durable (a file) or delivered (stdout).
    fn finish(mut self) -> std::io::Result<()> {
        use std::io::Write as _;
        self.flush()?;
        match self {
            Out::File(f) => f.sync_all(),
            Out::Stdout(_) => Ok(()),
            Out::S3(s) => s.finish().map(|_| ()).map_err(std::io::Error::other),
        }
    }
}

/// A write to standard output that failed: a closed pipe means the reader stopped before the
/// end (`backup --stdout | head`), so the stream it got is no complete backup.
fn stdout_error(e: &std::io::Error) -> crate::error::CliError {
    use crate::error::CliError;
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::new(
            crate::error::Outcome::Failed,
            "standard output was closed before the backup was complete (broken pipe): the reading end stopped early",
        )
        .with_hint("what it read is no complete backup; let the reader take the whole stream (`… | aws s3 cp - s3://…`, `… > FILE`)")
    } else {
        CliError::new(
            crate::error::Outcome::Failed,
            format!("cannot write the backup to standard output: {e}"),
        )
    }
}

/// Writes the whole archive to `target.partial`; returns its manifest (`container: archive`),
/// size and sha256.
pub(super) async fn write(
    env: Env<'_>,
    source: &Source<'_>,
    target: &Target<'_>,
    dest: Dest,
) -> anyhow::Result<(Manifest, u64, String)> {
    match dest {
        Dest::File => {
            pipeline::with_staging(target, async || write_to(env, source, target, dest).await).await
        }
        Dest::Stdout | Dest::S3(_) => write_to(env, source, target, dest).await,
    }
}

async fn write_to(
    env: Env<'_>,
    source: &Source<'_>,
    target: &Target<'_>,
    dest: Dest,
) -> anyhow::Result<(Manifest, u64, String)> {
    {
        let Source { db, specs, server_version, oplog: start } = *source;
        let cfg = env.cfg;
        let mut entries = Vec::new();
        let mut prelude = Vec::new();
        for spec in specs {
            let (entry, text) = metadata(db, &cfg.mongodb.database, spec).await?;
            prelude.push(PreludeEntry {
                collection: spec.name.clone(),
                metadata: text,
                kind: spec.kind.clone(),
            });
            entries.push(entry);
        }
        let with_oplog = matches!(start, oplog::Start::At(_));
        let (tx, writer) = spawn_writer(env, target, server_version, prelude, with_oplog, dest)?;
        let produced = async {
            let dumped = dump_all(env, db, specs, &tx).await?;
            let oplog = match start {
                oplog::Start::At(ts) => write_oplog(env, db.client(), *ts, &tx).await?,
                oplog::Start::Without(why) => Err(why.clone()),
            };
            anyhow::Ok((dumped, oplog))
        }
        .await;
        if produced.is_ok() && !env.cancel.is_cancelled() {
            // A writer that stopped has its own error, reported below.
            let _ = tokio::task::block_in_place(|| tx.send(Piece::Done));
        }
        drop(tx);
        let written = writer.await.context("archive writer panicked")?;
        let (oplog, (size, sha)) = match (produced, written) {
            (Ok((dumped, oplog)), Ok(w)) if !env.cancel.is_cancelled() => {
                for d in dumped {
                    if let Some(e) = entries.iter_mut().find(|e| e.name == d.name) {
                        e.documents = d.documents;
                        e.bytes = d.bytes;
                        e.sha256 = d.sha256;
                        e.cluster_time = d.cluster_time;
                    }
                }
                (oplog, w)
            }
            // Left unfinished because the dump or the oplog failed, or a signal came.
            (Err(d), Err(w)) if w.is::<Unfinished>() => return Err(d),
            (Ok(_), Err(w)) if w.is::<Unfinished>() => return Err(Interrupted.into()),
            // The writer's own failure (a full disk) is the one to report: the dump tasks only
            // saw it stop.
            (_, Err(w)) => return Err(w),
            (Err(d), Ok(_)) => return Err(d),
            (Ok(_), Ok(_)) => return Err(Interrupted.into()),
        };
        let produced = pipeline::Produced { collections: entries, oplog };
        let manifest = pipeline::manifest(cfg, target, server_version, produced, Some("archive"));
        Ok((manifest, size, sha))
    }
}

/// After every collection: the oplog written while they were dumped, in segments of about
/// [`OPLOG_SEGMENT`] bytes, closed by its CRC-64. A window a restore cannot replay (a drop
/// or a rename in it) is still written, for `mongorestore --oplogReplay`; the manifest then
/// says the backup is not point-in-time and records no oplog, so a restore does not replay
/// it.
async fn write_oplog(
    env: Env<'_>,
    client: &mongodb::Client,
    start: bson::Timestamp,
    tx: &std::sync::mpsc::SyncSender<Piece>,
) -> anyhow::Result<Result<OplogSlice, String>> {
    let send = |piece: Piece| {
        tokio::task::block_in_place(|| tx.send(piece))
            .map_err(|_| anyhow::anyhow!("archive writer stopped"))
    };
    let mut crc = CRC64.digest();
    let mut segment = Vec::new();
    let window = oplog::window(env, client, start, |raw| {
        crc.update(raw);
        segment.extend_from_slice(raw);
        if segment.len() >= OPLOG_SEGMENT {
            send(Piece::OplogSegment(std::mem::take(&mut segment)))?;
        }
        Ok(())
    })
    .await?;
    if !segment.is_empty() {
        send(Piece::OplogSegment(segment))?;
    }
    send(Piece::OplogEnd(crc.finalize()))?;
    Ok(window.slice(start, crate::archive::tar::layout::OPLOG))
}

/// A collection's metadata (listIndexes now, so that the prelude holds every collection) and
/// its manifest entry before the dump.
async fn metadata(
    db: &mongodb::Database,
    database: &str,
    spec: &dump::CollectionSpec,
) -> anyhow::Result<(CollectionEntry, String)> {
    let indexes = if spec.is_view() {
        Vec::new()
    } else {
        dump::list_indexes(db, &spec.name)
            .await
            .with_context(|| format!("listing the indexes of {}", spec.name))?
    };
    let text = CollectionMetadata {
        name: spec.name.clone(),
        kind: spec.kind.clone(),
        options: spec.options.clone(),
        indexes,
        uuid: spec.uuid.clone(),
    }
    .to_json();
    let entry = CollectionEntry {
        name: spec.name.clone(),
        kind: if spec.is_view() { "view".into() } else { "collection".into() },
        data_file: (!spec.is_view())
            .then(|| crate::archive::names::data_member(database, &spec.name)),
        metadata_file: crate::archive::names::metadata_member(database, &spec.name),
        documents: 0,
        bytes: 0,
        sha256: (!spec.is_view()).then(|| hex(&<sha2::Sha256 as sha2::Digest>::digest(b""))),
        metadata_sha256: hex(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())),
        cluster_time: None,
    };
    Ok((entry, text))
}

type Writer = tokio::task::JoinHandle<anyhow::Result<(u64, String)>>;

/// The thread that writes the prelude, then each piece as it comes; stops at once on a
/// signal. Returns the file's size and sha256 once the queue closes.
fn spawn_writer(
    env: Env<'_>,
    target: &Target<'_>,
    server_version: &str,
    prelude: Vec<PreludeEntry>,
    with_oplog: bool,
    dest: Dest,
) -> anyhow::Result<(std::sync::mpsc::SyncSender<Piece>, Writer)> {
    let cfg = env.cfg;
    let threads = pipeline::compression_threads(cfg);
    let partial = target.partial.to_path_buf();
    let to_stdout = matches!(dest, Dest::Stdout);
    // Errors name where the archive was going: a file, or standard output.
    let disk_error = move |e: &std::io::Error, path: &std::path::Path| {
        if to_stdout { stdout_error(e) } else { disk_error(e, path) }
    };
    let out = match dest {
        Dest::S3(w) => Out::S3(w),
        Dest::File => Out::File(
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&partial)
                .map_err(|e| disk_error(&e, &partial))?,
        ),
        Dest::Stdout => Out::Stdout(std::io::stdout()),
    };
    let sealer = crate::archive::crypt::Sealer::new(
        HashingWriter::new(BufWriter::with_capacity(1 << 20, out)),
        target.recipients,
    )
    .map_err(|e| disk_error(&e, &partial))?;
    let gz = ParallelGzWriter::new(sealer, cfg.backup.gzip_level(), threads);
    let mut out = InterleavedWriter::new(gz, &cfg.mongodb.database);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Piece>(QUEUE);
    let (cancel, concurrent, server_version) =
        (env.cancel.clone(), cfg.backup.parallel_collections, server_version.to_owned());
    let task = tokio::task::spawn_blocking(move || -> anyhow::Result<(u64, String)> {
        // An S3 error reaches here inside an io::Error: it is reported as itself (exit 5).
        let fail = |e: std::io::Error| {
            if e.get_ref().is_some_and(
                <dyn std::error::Error + Send + Sync>::is::<crate::storage::StorageError>,
            ) {
                let inner = e.into_inner().expect("checked");
                return anyhow::Error::new(
                    *inner.downcast::<crate::storage::StorageError>().expect("checked"),
                );
            }
            anyhow::Error::new(disk_error(&e, &partial))
        };
        out.prelude(&server_version, concurrent, &prelude, with_oplog).map_err(fail)?;
        if !write_pieces(&mut out, &rx, &cancel).map_err(fail)? {
            return Err(Unfinished.into());
        }
        if cancel.is_cancelled() {
            return Err(Interrupted.into());
        }
        let hashing = out
            .into_inner()
            .finish()
            .and_then(crate::archive::crypt::Sealer::finish)
            .map_err(fail)?;
        let (buf, size, sha) = hashing.into_parts();
        let out = buf.into_inner().map_err(|e| fail(e.into_error()))?;
        out.finish().map_err(fail)?;
        Ok((size, sha))
    });
    Ok((tx, task))
}

/// Writes each piece as it comes, until [`Piece::Done`] (true) or a closed queue (false: the
/// producer stopped before the end). Stops at once on a signal.
fn write_pieces<W: std::io::Write>(
    out: &mut InterleavedWriter<W>,
    rx: &std::sync::mpsc::Receiver<Piece>,
    cancel: &tokio_util::sync::CancellationToken,
) -> std::io::Result<bool> {
    for piece in rx {
        if cancel.is_cancelled() {
            return Ok(false);
        }
        match piece {
            Piece::Segment { collection, documents } => out.segment(&collection, &documents),
            Piece::End { collection, crc } => out.end(&collection, crc),
            Piece::OplogSegment(entries) => out.oplog_segment(&entries),
            Piece::OplogEnd(crc) => out.oplog_end(crc),
            Piece::Done => return Ok(true),
        }?;
    }
    Ok(false)
}

/// Dumps every collection, `parallel_collections` at a time, each batch to the writer.
async fn dump_all(
    env: Env<'_>,
    db: &mongodb::Database,
    specs: &[dump::CollectionSpec],
    tx: &std::sync::mpsc::SyncSender<Piece>,
) -> anyhow::Result<Vec<CollectionEntry>> {
    let cfg = env.cfg;
    let job = env.cancel.child_token();
    let semaphore = Arc::new(Semaphore::new(cfg.backup.parallel_collections));
    let mut tasks = tokio::task::JoinSet::new();
    for spec in specs.iter().filter(|s| !s.is_view()) {
        let (sem, spec, db, tx, cancel) =
            (Arc::clone(&semaphore), spec.clone(), db.clone(), tx.clone(), job.clone());
        let (progress, batch_size, database) =
            (env.progress.clone(), cfg.backup.batch_size, cfg.mongodb.database.clone());
        tasks.spawn(async move {
            let run = async {
                let _permit = sem.acquire_owned().await?;
                let total = db
                    .collection::<bson::Document>(&spec.name)
                    .estimated_document_count()
                    .await
                    .unwrap_or(0);
                let bar = progress.collection(&spec.name, total);
                let started_at = dump::operation_time(&db).await;
                let mut crc = CRC64.digest();
                let stats = dump::dump_collection_to(
                    &db,
                    &spec.name,
                    batch_size,
                    &cancel,
                    |docs, bytes| bar.set(docs, bytes),
                    |documents| {
                        let documents = documents.concat();
                        crc.update(&documents);
                        tx.send(Piece::Segment { collection: spec.name.clone(), documents })
                            .map_err(|_| anyhow::anyhow!("archive writer stopped"))
                    },
                )
                .await
                .with_context(|| format!("dumping collection {}", spec.name))?;
                let ended_at = dump::operation_time(&db).await;
                tokio::task::block_in_place(|| {
                    tx.send(Piece::End { collection: spec.name.clone(), crc: crc.finalize() })
                })
                .map_err(|_| anyhow::anyhow!("archive writer stopped"))?;
                bar.done(&stats);
                let ct = |t: bson::Timestamp| ClusterTime { t: t.time, i: t.increment };
                anyhow::Ok(CollectionEntry {
                    name: spec.name.clone(),
                    kind: "collection".into(),
                    data_file: Some(crate::archive::names::data_member(&database, &spec.name)),
                    metadata_file: crate::archive::names::metadata_member(&database, &spec.name),
                    documents: stats.documents,
                    bytes: stats.bytes,
                    sha256: Some(stats.sha256),
                    metadata_sha256: String::new(),
                    cluster_time: started_at
                        .zip(ended_at)
                        .map(|(s, e)| ClusterWindow { start: ct(s), end: ct(e) }),
                })
            };
            tokio::select! {
                r = run => r,
                () = cancel.cancelled() => Err(Interrupted.into()),
            }
        });
    }
    pipeline::join_dumps(env, tasks, &job).await
}

#[cfg(test)]
mod tests {
    use super::{Piece, write_pieces};
    use crate::archive::mongodump::writer::InterleavedWriter;

    /// The writer finishes only after `Done`: a queue closed without it (the dump or the
    /// oplog failed) or a signal leaves the archive unfinished.
    #[test]
    fn only_done_finishes_the_archive() {
        let cancel = tokio_util::sync::CancellationToken::new();
        let run = |pieces: Vec<Piece>, cancel: &tokio_util::sync::CancellationToken| {
            let (tx, rx) = std::sync::mpsc::sync_channel(8);
            for p in pieces {
                tx.send(p).unwrap();
            }
            drop(tx);
            let mut out = InterleavedWriter::new(Vec::new(), "shop");
            let finished = write_pieces(&mut out, &rx, cancel).unwrap();
            (finished, out.into_inner().len())
        };
        let doc = bson::rawdoc! {"_id": 1}.into_bytes();
        let some = || vec![Piece::Segment { collection: "c".into(), documents: doc.clone() }];
        let done = || {
            let mut p = some();
            p.push(Piece::Done);
            p
        };
        let (finished, written) = run(done(), &cancel);
        assert!(finished && written > doc.len());
        assert!(!run(some(), &cancel).0, "a closed queue finished the archive");
        assert!(!run(vec![Piece::OplogEnd(0)], &cancel).0);
        cancel.cancel();
        assert_eq!(run(done(), &cancel), (false, 0));
    }
}
