//! `backup`: dump the database into a mongorestore-compatible `.tar.gz` (docs/archive-format.md),
//! write its sidecar manifest, upload both to S3, apply retention.
//!
//! Order of safety: collections are dumped in parallel into a staging folder, appended to
//! `<id>.tar.gz.partial` as they finish, `manifest.json` goes last, the file is fsynced and only
//! then renamed; the sidecar is written after the rename, so "complete" means "sidecar exists".
//! In S3 the archive is uploaded first and the sidecar last, for the same reason.

use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use tokio::sync::Semaphore;

use crate::archive::ArchiveInfo;
use crate::archive::manifest::{CollectionEntry, FORMAT, FORMAT_VERSION, Manifest, Sidecar, hex};
use crate::archive::names::{self, ARCHIVE_SUFFIX, PARTIAL_SUFFIX, SIDECAR_SUFFIX};
use crate::archive::writer::{ArchiveWriter, sync_dir};
use crate::cli::BackupArgs;
use crate::config::Config;
use crate::context::Context;
use crate::error::{CliError, ErrorKind};
use crate::exit::ExitStatus;
use crate::jobs::{self, lastrun};
use crate::mongo::{self, dump};
use crate::output::progress::Progress;
use crate::signal::Interrupted;

pub async fn run(ctx: &Context, args: &BackupArgs) -> anyhow::Result<ExitStatus> {
    let cfg = &ctx.config()?.config;
    let started = Instant::now();
    let started_unix = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
    ctx.out.set("database", &cfg.mongodb.database);
    let result = run_inner(ctx, cfg, args).await;
    if args.dry_run {
        return result.map(|o| o.status);
    }
    // Every real run is recorded, failed ones too: monitoring alerts on those.
    let (code, bytes, documents) = match &result {
        Ok(o) => (o.status.code(), o.bytes, o.documents),
        Err(e) => {
            (if ctx.cancel.is_cancelled() { 130 } else { crate::exit::code_for_error(e) }, 0, 0)
        }
    };
    lastrun::save(
        cfg,
        &lastrun::Record {
            job: "backup",
            database: cfg.mongodb.database.clone(),
            exit_code: code,
            started_unix,
            duration_seconds: started.elapsed().as_secs_f64(),
            bytes,
            documents,
        },
    )
    .await;
    ctx.out.set("duration_seconds", (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
    result.map(|o| o.status)
}

async fn run_inner(ctx: &Context, cfg: &Config, args: &BackupArgs) -> anyhow::Result<Outcome> {
    let db_name = cfg.mongodb.database.clone();
    let mongo =
        mongo::connect(&cfg.mongodb, mongo::Role::Operator, mongo::Access::ReadOnly).await?;
    let db = mongo.client.database(&db_name);
    let server_version = mongo::build_info(&mongo.client)
        .await
        .ok()
        .and_then(|d| d.get_str("version").ok().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into());
    let specs = select_collections(
        dump::list_collections(&db)
            .await
            .with_context(|| format!("listing the collections of {db_name}"))?,
        cfg,
    );

    if args.dry_run {
        ctx.out.line(format!(
            "would back up {} collection(s) of {db_name} from {}:",
            specs.len(),
            mongo.display_uri
        ));
        let mut planned = Vec::new();
        for s in &specs {
            let count = if s.kind == "view" {
                0
            } else {
                db.collection::<bson::Document>(&s.name)
                    .estimated_document_count()
                    .await
                    .unwrap_or(0)
            };
            ctx.out.line(format!("  {:<32} {:<10} ~{count} documents", s.name, s.kind));
            planned.push(
                serde_json::json!({"name": s.name, "type": s.kind, "estimated_documents": count}),
            );
        }
        ctx.out.set("dry_run", true);
        ctx.out.set("collections", planned);
        return Ok(Outcome { status: ExitStatus::Ok, bytes: 0, documents: 0 });
    }

    let local = jobs::local_store(cfg)?;
    let guard =
        crate::lock::acquire(jobs::lock_backend(cfg).await?, "backup", cfg.lock.ttl, &ctx.cancel)
            .await?;
    let result = backup_locked(ctx, cfg, args, &db, &specs, &server_version, &local.dir).await;
    // Retention runs inside the lock, after a complete backup.
    let result = match result {
        Ok(outcome) if !args.no_prune && outcome.status == ExitStatus::Ok => {
            match crate::commands::prune::apply(ctx, cfg, false).await {
                Ok(deleted) => {
                    ctx.out.set("pruned", deleted);
                    Ok(outcome)
                }
                Err(e) => {
                    tracing::error!("retention failed after a complete backup: {e:#}");
                    ctx.out.set("prune_error", format!("{e:#}"));
                    Ok(Outcome { status: ExitStatus::Partial, ..outcome })
                }
            }
        }
        other => other,
    };
    guard.release().await;
    result
}

struct Outcome {
    status: ExitStatus,
    bytes: u64,
    documents: u64,
}

/// Drops `system.*` (already done by the listing) and applies include/exclude lists.
fn select_collections(all: Vec<dump::CollectionSpec>, cfg: &Config) -> Vec<dump::CollectionSpec> {
    let b = &cfg.backup;
    all.into_iter()
        .filter(|s| b.include_collections.is_empty() || b.include_collections.contains(&s.name))
        .filter(|s| !b.exclude_collections.contains(&s.name))
        .collect()
}

/// Messages to the archive-writing thread.
enum Member {
    File { name: String, path: PathBuf },
    Bytes { name: String, data: Vec<u8> },
}

async fn backup_locked(
    ctx: &Context,
    cfg: &Config,
    args: &BackupArgs,
    db: &mongodb::Database,
    specs: &[dump::CollectionSpec],
    server_version: &str,
    dir: &Path,
) -> anyhow::Result<Outcome> {
    remove_leftovers(dir, &cfg.backup.name_prefix, &cfg.mongodb.database);
    let now = jiff::Timestamp::now();
    let id = names::backup_id(&cfg.backup.name_prefix, &cfg.mongodb.database, now);
    let archive_name = format!("{id}{ARCHIVE_SUFFIX}");
    let final_path = dir.join(&archive_name);
    let partial_path = dir.join(format!("{archive_name}{PARTIAL_SUFFIX}"));
    let staging = dir.join(format!(".{id}.staging"));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&staging)
        .with_context(|| format!("cannot create staging folder {}", staging.display()))?;
    ctx.out.set("id", &id);

    let target = Target {
        id: &id,
        label: args.label.clone(),
        partial: &partial_path,
        staging: &staging,
        now,
    };
    let result = write_archive(ctx, cfg, db, specs, server_version, &target).await;
    let _ = std::fs::remove_dir_all(&staging);
    let (manifest, size, sha) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&partial_path);
            return Err(e);
        }
    };
    std::fs::rename(&partial_path, &final_path)
        .and_then(|()| sync_dir(dir))
        .with_context(|| format!("cannot rename {} into place", partial_path.display()))?;
    let sidecar = Sidecar {
        manifest,
        archive: ArchiveInfo { file: archive_name.clone(), size, sha256: sha },
    };
    let sidecar_name = format!("{id}{SIDECAR_SUFFIX}");
    let sidecar_bytes = serde_json::to_vec_pretty(&sidecar)?;
    crate::archive::writer::write_atomic(&dir.join(&sidecar_name), &sidecar_bytes)
        .with_context(|| format!("cannot write {sidecar_name}"))?;
    let m = &sidecar.manifest;
    ctx.out.line(format!(
        "backup {id}: {} collection(s), {} document(s), {} of BSON, archive {} ({})",
        m.totals.collections + m.totals.views,
        m.totals.documents,
        crate::output::human_bytes(m.totals.bytes),
        final_path.display(),
        crate::output::human_bytes(size)
    ));
    ctx.out.set(
        "archive",
        serde_json::json!({"file": archive_name, "size": size, "sha256": sidecar.archive.sha256}),
    );
    ctx.out.set("totals", &m.totals);
    ctx.out.set("label", &m.label);
    let mut locations =
        vec![serde_json::json!({"kind": "local", "path": final_path.display().to_string()})];
    let outcome = Outcome { status: ExitStatus::Ok, bytes: size, documents: m.totals.documents };

    // Upload: archive first, sidecar last, so an interrupted upload never looks complete.
    let upload = if args.no_upload { None } else { jobs::remote_store(cfg).await };
    let Some(remote) = upload else {
        ctx.out.set("locations", locations);
        return Ok(outcome);
    };
    let uploaded = async {
        remote.put_file(&archive_name, &final_path, &ctx.cancel).await?;
        remote.put_bytes(&sidecar_name, &sidecar_bytes).await
    }
    .await;
    match uploaded {
        Ok(()) => {
            ctx.out.line(format!("uploaded to {}{archive_name}", remote.describe()));
            locations.push(serde_json::json!({"kind": "s3", "url": format!("{}{archive_name}", remote.describe())}));
            if !cfg.backup.keep_local {
                std::fs::remove_file(&final_path)
                    .and_then(|()| std::fs::remove_file(dir.join(&sidecar_name)))
                    .with_context(|| {
                        format!("cannot remove the local copy {}", final_path.display())
                    })?;
                locations.remove(0);
                ctx.out.line("local copy removed (backup.keep_local: false)");
            }
            ctx.out.set("locations", locations);
            Ok(outcome)
        }
        Err(e) if e.kind == ErrorKind::Interrupted || ctx.cancel.is_cancelled() => {
            ctx.out.set("locations", locations);
            Err(anyhow::Error::new(Interrupted).context(e.message))
        }
        Err(e) => {
            tracing::error!("{e}");
            ctx.out.line(format!(
                "upload failed: {e}; the local archive {} is complete",
                final_path.display()
            ));
            ctx.out.set("locations", locations);
            ctx.out.set("upload_error", e.to_string());
            Ok(Outcome { status: ExitStatus::Partial, ..outcome })
        }
    }
}

/// Staging folders and `.partial` files of runs that crashed (we hold the lock, so none is
/// being written).
/// Only leftovers of this prefix and database: another database's backup sharing the folder
/// holds another lock and may be writing right now.
fn remove_leftovers(dir: &Path, prefix: &str, db: &str) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let ours = |id: &str| names::parse_backup_id(id, prefix, db).is_some();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let staging = name.strip_prefix('.').and_then(|n| n.strip_suffix(".staging"));
        let partial = name.strip_suffix(&format!("{ARCHIVE_SUFFIX}{PARTIAL_SUFFIX}"));
        if staging.is_some_and(ours) {
            tracing::info!("removing {} left by an interrupted run", path.display());
            let _ = std::fs::remove_dir_all(&path);
        } else if partial.is_some_and(ours) {
            tracing::info!("removing {} left by an interrupted run", path.display());
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Where and under which name an archive is being written.
struct Target<'a> {
    id: &'a str,
    label: Option<String>,
    partial: &'a Path,
    staging: &'a Path,
    now: jiff::Timestamp,
}

async fn write_archive(
    ctx: &Context,
    cfg: &Config,
    db: &mongodb::Database,
    specs: &[dump::CollectionSpec],
    server_version: &str,
    target: &Target<'_>,
) -> anyhow::Result<(Manifest, u64, String)> {
    let Target { id, partial, staging, now, .. } = *target;
    let threads = match cfg.backup.compression_threads {
        0 => std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
        n => n,
    };
    let mut writer = ArchiveWriter::create(
        partial,
        cfg.backup.compression_level,
        threads,
        now.as_second().max(0) as u64,
    )
    .map_err(|e| disk_error(&e, partial))?;
    let (tx, rx) = std::sync::mpsc::channel::<Member>();
    let partial_owned = partial.to_path_buf();
    let writer_task = tokio::task::spawn_blocking(move || -> anyhow::Result<(u64, String)> {
        for m in rx {
            match m {
                Member::File { name, path } => {
                    writer.append_file(&name, &path).map_err(|e| disk_error(&e, &partial_owned))?;
                    let _ = std::fs::remove_file(&path);
                }
                Member::Bytes { name, data } => {
                    writer
                        .append_bytes(&name, &data)
                        .map_err(|e| disk_error(&e, &partial_owned))?;
                }
            }
        }
        writer.finish().map_err(|e| disk_error(&e, &partial_owned).into())
    });

    let db_dir = cfg.mongodb.database.clone();
    tx.send(Member::Bytes {
        name: "prelude.json".into(),
        data: dump::prelude_json(server_version).into_bytes(),
    })
    .map_err(|_| anyhow::anyhow!("archive writer stopped"))?;

    let progress = Arc::new(Progress::new(&ctx.global));
    // A failed collection stops its siblings through this child token; a signal reaches it
    // through the parent. Cancelling only the child keeps the exit code the failure's own.
    let job = ctx.cancel.child_token();
    let semaphore = Arc::new(Semaphore::new(cfg.backup.parallel_collections));
    let mut tasks = tokio::task::JoinSet::new();
    for spec in specs {
        let spec = spec.clone();
        let dumper = Dumper {
            db: db.clone(),
            db_dir: db_dir.clone(),
            staging: staging.to_path_buf(),
            tx: tx.clone(),
            cancel: job.clone(),
            progress: Arc::clone(&progress),
            batch_size: cfg.backup.batch_size,
        };
        let sem = Arc::clone(&semaphore);
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await?;
            dumper.dump(&spec).await
        });
    }
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
    progress.finish();
    if failure.is_some() || ctx.cancel.is_cancelled() {
        // Closing the channel ends the writer. When the writer itself failed (a full disk),
        // the dump tasks only saw "archive writer stopped": its error is the one to report.
        drop(tx);
        let writer_error = writer_task.await.ok().and_then(Result::err);
        return Err(match (writer_error, failure) {
            (Some(w), _) => w,
            (None, Some(f)) => f,
            (None, None) => Interrupted.into(),
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        id: id.into(),
        label: target.label.clone(),
        created_at: now.round(jiff::Unit::Second).unwrap_or(now).to_string(),
        completed_at: jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or(now).to_string(),
        server_version: server_version.into(),
        database: cfg.mongodb.database.clone(),
        totals: Manifest::totals_of(&entries),
        collections: entries,
    };
    // manifest.json is the last member; closing the channel then lets the writer finish.
    tx.send(Member::Bytes {
        name: "manifest.json".into(),
        data: serde_json::to_vec_pretty(&manifest)?,
    })
    .map_err(|_| anyhow::anyhow!("archive writer stopped"))?;
    drop(tx);
    let (size, sha) = writer_task.await.context("archive writer panicked")??;
    Ok((manifest, size, sha))
}

/// What one collection's dump task needs.
struct Dumper {
    db: mongodb::Database,
    db_dir: String,
    staging: PathBuf,
    tx: std::sync::mpsc::Sender<Member>,
    cancel: tokio_util::sync::CancellationToken,
    progress: Arc<Progress>,
    batch_size: u32,
}

impl Dumper {
    async fn dump(&self, spec: &dump::CollectionSpec) -> anyhow::Result<CollectionEntry> {
        let Dumper { db, db_dir, staging, tx, cancel, progress, batch_size } = self;
        let batch_size = *batch_size;
        let escaped = names::escape_collection(&spec.name);
        let metadata_file = format!("{db_dir}/{escaped}.metadata.json");
        let indexes = if spec.kind == "view" {
            Vec::new()
        } else {
            dump::list_indexes(db, &spec.name)
                .await
                .with_context(|| format!("listing the indexes of {}", spec.name))?
        };
        let metadata = dump::metadata_json(spec, &indexes).into_bytes();
        let metadata_sha256 = hex(&<sha2::Sha256 as sha2::Digest>::digest(&metadata));
        let mut entry = CollectionEntry {
            name: spec.name.clone(),
            kind: if spec.kind == "view" { "view".into() } else { "collection".into() },
            data_file: None,
            metadata_file: metadata_file.clone(),
            documents: 0,
            bytes: 0,
            sha256: None,
            metadata_sha256,
        };
        // Metadata first: a restore creates the collection with its options (capped, collation,
        // validator) before inserting the data.
        tx.send(Member::Bytes { name: metadata_file, data: metadata })
            .map_err(|_| anyhow::anyhow!("archive writer stopped"))?;
        if spec.kind != "view" {
            let total = db
                .collection::<bson::Document>(&spec.name)
                .estimated_document_count()
                .await
                .unwrap_or(0);
            let bar = progress.collection(&spec.name, total);
            let staged = staging.join(format!("{escaped}.bson"));
            let stats = dump::dump_collection(
                db,
                &spec.name,
                &staged,
                batch_size,
                cancel,
                |docs, bytes| {
                    bar.set(docs, bytes);
                },
            )
            .await
            .with_context(|| format!("dumping collection {}", spec.name))?;
            bar.done(&stats);
            let data_file = format!("{db_dir}/{escaped}.bson");
            tx.send(Member::File { name: data_file.clone(), path: staged })
                .map_err(|_| anyhow::anyhow!("archive writer stopped"))?;
            entry.data_file = Some(data_file);
            entry.documents = stats.documents;
            entry.bytes = stats.bytes;
            entry.sha256 = Some(stats.sha256);
        }
        Ok(entry)
    }
}

fn disk_error(e: &std::io::Error, path: &Path) -> CliError {
    let err = CliError::new(ErrorKind::Runtime, format!("cannot write {}: {e}", path.display()));
    if e.raw_os_error() == Some(28) {
        err.with_hint(
            "the disk is full: free space or point backup.dir elsewhere; nothing was kept",
        )
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(names: &[&str]) -> Vec<dump::CollectionSpec> {
        names
            .iter()
            .map(|n| dump::CollectionSpec {
                name: (*n).into(),
                kind: "collection".into(),
                spec: bson::Document::new(),
            })
            .collect()
    }

    #[test]
    fn include_then_exclude() {
        let mut cfg = Config::default();
        let names =
            |v: Vec<dump::CollectionSpec>| v.into_iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(names(select_collections(specs(&["a", "b", "c"]), &cfg)), ["a", "b", "c"]);
        cfg.backup.exclude_collections = vec!["b".into()];
        assert_eq!(names(select_collections(specs(&["a", "b", "c"]), &cfg)), ["a", "c"]);
        cfg.backup.include_collections = vec!["b".into(), "c".into()];
        assert_eq!(names(select_collections(specs(&["a", "b", "c"]), &cfg)), ["c"]);
    }
}
