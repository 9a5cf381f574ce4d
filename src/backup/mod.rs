//! The backup engine: dump → archive builder → storages → retention (docs/architecture.md).
//!
//! Order of safety: collections are dumped in parallel into a staging folder and appended to
//! `<id>.tar.gz.partial` as they finish ([`pipeline`]), `manifest.json` goes last, the file is
//! fsynced; only then does the local storage take it under its final name, and the sidecar is
//! written after it, so "complete" means "sidecar exists". In S3 the archive is uploaded first
//! and the sidecar last, for the same reason. Retention runs inside the lock, after a complete
//! backup.

mod import;
mod oplog;
mod pipeline;
mod rekey;
mod stream;
#[cfg(test)]
mod tests;

pub use import::{ImportReport, TimeFrom, import};
pub use rekey::{RekeyReport, Rekeyed, rekey};

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::archive::crypt::Recipients;
use crate::archive::names::{
    self, ARCHIVE_SUFFIXES, PARTIAL_SUFFIX, SIDECAR_SUFFIX, STREAM_SUFFIX,
};
use crate::archive::{ArchiveInfo, Sidecar, Totals};
use crate::config::BackupFormat;
use crate::config::Config;
use crate::error::CliError;
use crate::error::Outcome;
use crate::mongo::{self, dump};
use crate::output::progress::Progress;
use crate::retention::prune;
use crate::storage::{self, Storage, StorageFault};

/// What the operator asked for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub label: Option<String>,
    /// Upload to S3 when configured.
    pub upload: bool,
    /// Apply retention after a complete backup.
    pub prune: bool,
    /// Stream the archive (mongodump's archive format) to standard output instead: no local
    /// file, no sidecar, no upload, no retention.
    pub stdout: bool,
    /// `--no-oplog`: no oplog in the archive, whatever `backup.oplog` says.
    pub no_oplog: bool,
}

/// One collection a dry run would back up.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub estimated_documents: u64,
}

/// Where a copy of the archive is.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Location {
    Local {
        path: String,
    },
    S3 {
        url: String,
    },
    /// Written to standard output (`backup --stdout`).
    Stdout,
}

/// What a backup did: the `backup` command's JSON summary.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub id: String,
    pub label: Option<String>,
    pub archive: ArchiveInfo,
    pub totals: Totals,
    pub locations: Vec<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruned: Option<Vec<prune::Deleted>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune_error: Option<String>,
    /// Far fewer documents than the previous good backup (`backup.max_shrink`): exit 6.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shrunk: Option<crate::archive::manifest::Shrunk>,
    /// Retention per storage, for the lines people read.
    #[serde(skip)]
    pub retention: Vec<prune::StorageResult>,
    /// `ok`; `partial` when the upload or retention failed after a complete local archive;
    /// `drift` when the backup is marked as shrunk.
    #[serde(skip)]
    pub outcome: Outcome,
}

impl Report {
    /// A backup just written, where it is; a backup marked shrunk is a failed check (exit 6).
    fn written(id: String, sidecar: &Sidecar, locations: Vec<Location>) -> Report {
        let shrunk = sidecar.manifest.shrunk.clone();
        Report {
            id,
            label: sidecar.manifest.label.clone(),
            archive: sidecar.archive.clone(),
            totals: sidecar.manifest.totals.clone(),
            locations,
            upload_error: None,
            pruned: None,
            prune_error: None,
            retention: Vec::new(),
            outcome: if shrunk.is_some() { Outcome::Drift } else { Outcome::Ok },
            shrunk,
        }
    }

    /// The report for people, a line each: what was written where, and what failed after.
    pub fn describe(&self) -> Vec<String> {
        use crate::output::human_bytes;
        let t = &self.totals;
        let local_path = self.locations.iter().find_map(|l| match l {
            Location::Local { path } => Some(path.clone()),
            Location::S3 { .. } | Location::Stdout => None,
        });
        let mut lines = vec![format!(
            "backup {}: {} collection(s), {} document(s), {} of BSON, archive {} ({})",
            self.id,
            t.collections + t.views,
            t.documents,
            human_bytes(t.bytes),
            local_path.as_deref().unwrap_or(&self.archive.file),
            human_bytes(self.archive.size)
        )];
        for l in &self.locations {
            if let Location::S3 { url } = l {
                lines.push(format!("uploaded to {url}"));
            }
        }
        if self.locations.iter().any(|l| matches!(l, Location::Stdout)) {
            lines.push("written to standard output (mongodump's archive format, gzip)".into());
        } else if local_path.is_none() {
            lines.push("no local copy kept (backup.keep_local: false)".into());
        }
        if let Some(e) = &self.upload_error {
            lines.push(format!(
                "upload failed: {e}; the local archive {} is complete",
                local_path.as_deref().unwrap_or(&self.archive.file)
            ));
        }
        lines.extend(prune::describe(&self.retention, false));
        lines
    }
}

/// What the engine needs from its caller.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    pub cfg: &'a Config,
    pub cancel: &'a CancellationToken,
    pub progress: &'a Progress,
}

/// The backup job's connection (read preference applies) and the database it dumps.
async fn connect(cfg: &Config) -> anyhow::Result<(mongo::Mongo, mongodb::Database)> {
    let mongo = mongo::connect(
        &cfg.mongodb,
        mongo::Role::Job(mongo::privileges::Job::Backup),
        mongo::Access::ReadOnly,
    )
    .await?;
    let db = mongo.client.database(&cfg.mongodb.database);
    Ok((mongo, db))
}

/// The collections a backup would take, with estimated counts; writes nothing.
pub async fn plan(cfg: &Config) -> anyhow::Result<(String, Vec<Planned>)> {
    let (mongo, db) = connect(cfg).await?;
    let mut planned = Vec::new();
    for s in selected_collections(&db, cfg).await? {
        let estimated_documents = if s.is_view() {
            0
        } else {
            db.collection::<bson::Document>(&s.name).estimated_document_count().await.unwrap_or(0)
        };
        planned.push(Planned { name: s.name, kind: s.kind, estimated_documents });
    }
    Ok((mongo.display_uri, planned))
}

/// Takes the lock, writes the archive and its sidecar locally, uploads both, applies
/// retention. A failed upload or retention after a complete local archive is `Partial`.
pub async fn run(env: Env<'_>, req: &Request) -> anyhow::Result<Report> {
    let cfg = env.cfg;
    let (mongo, db) = connect(cfg).await?;
    let server_version = mongo::build_info(&mongo.client)
        .await
        .ok()
        .and_then(|d| d.get_str("version").ok().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into());
    let specs = selected_collections(&db, cfg).await?;
    let local = storage::local(cfg)?;
    crate::lock::with(cfg, &cfg.mongodb.database, "backup", env.cancel, async || {
        let start = oplog::begin(env, &mongo.client, req.no_oplog).await?;
        if let oplog::Start::Without(why) = &start {
            tracing::info!("this backup is not point-in-time: {why}");
        }
        let source = stream::Source {
            db: &db,
            specs: &specs,
            server_version: &server_version,
            oplog: &start,
        };
        if req.stdout {
            return to_stdout(env, req, &source, &local).await;
        }
        let previous = previous_good(cfg, None).await;
        let naming = Naming {
            now: jiff::Timestamp::now(),
            previous,
            imported: None,
            recipients: crate::repo::recipients(cfg)?,
        };
        let sv = server_version.as_str();
        let mut report = match cfg.backup.format {
            BackupFormat::Tar => {
                let suffix = pipeline::tar_suffix(cfg);
                write_and_store(env, req, &local, naming, suffix, async |target| {
                    pipeline::write(env, sv, target, async |stage: &pipeline::Stage, tx| {
                        // Every collection, then the oplog written meanwhile.
                        let collections = pipeline::dump(env, &db, &specs, stage, tx).await?;
                        let oplog = match &start {
                            oplog::Start::At(ts) => {
                                oplog::finish(env, &mongo.client, *ts, stage, tx).await?
                            }
                            oplog::Start::Without(why) => Err(why.clone()),
                        };
                        Ok(pipeline::Produced { collections, oplog })
                    })
                    .await
                })
                .await?
            }
            BackupFormat::Archive if req.upload && !cfg.backup.keep_local && cfg.s3.is_some() => {
                to_s3(env, req, &source, &local, naming).await?
            }
            BackupFormat::Archive => {
                write_and_store(env, req, &local, naming, STREAM_SUFFIX, async |target| {
                    stream::write(env, &source, target, stream::Dest::File).await
                })
                .await?
            }
        };
        retention(cfg, req, &mut report).await;
        anyhow::Ok(report)
    })
    .await
}

/// `backup.format: archive` with `keep_local: false`: streamed straight to S3 (nothing on the
/// local disk), then the sidecar, which makes it complete. A failed or interrupted upload is
/// aborted and leaves nothing complete-looking.
async fn to_s3(
    env: Env<'_>,
    req: &Request,
    source: &stream::Source<'_>,
    local: &storage::local::LocalStore,
    naming: Naming,
) -> anyhow::Result<Report> {
    let cfg = env.cfg;
    let Some(Storage::S3(remote)) = storage::remote(cfg).await else {
        anyhow::bail!("S3 is not configured");
    };
    remove_leftovers(&local.dir, &cfg.backup.name_prefix, &cfg.mongodb.database);
    let id = names::backup_id(&cfg.backup.name_prefix, &cfg.mongodb.database, naming.now);
    let archive_name = format!("{id}{}", naming.suffix(STREAM_SUFFIX));
    let encryption = naming.encryption();
    let writer = remote.stream_writer(&archive_name, env.cancel).await?;
    let target = pipeline::Target {
        id: &id,
        label: req.label.clone(),
        partial: &local.dir.join(&archive_name),
        staging: &local.dir.join(format!(".{id}.staging")),
        now: naming.now,
        previous: naming.previous,
        imported: None,
        recipients: naming.recipients.as_ref(),
    };
    let dest = stream::Dest::S3(Box::new(writer));
    let (manifest, size, sha256) =
        stream::write(env, source, &target, dest).await.map_err(|e| {
            match e.downcast::<crate::storage::StorageError>() {
                Ok(s) if s.fault == StorageFault::Interrupted => {
                    anyhow::Error::new(crate::signal::Interrupted).context(s.message)
                }
                Ok(s) => anyhow::Error::new(s),
                Err(e) => e,
            }
        })?;
    let sidecar = Sidecar {
        manifest,
        archive: ArchiveInfo::new(archive_name.clone(), size, sha256, encryption),
    };
    let remote = Storage::S3(remote);
    remote
        .put_bytes(&format!("{id}{SIDECAR_SUFFIX}"), &serde_json::to_vec_pretty(&sidecar)?)
        .await?;
    let url = format!("{}{archive_name}", remote.describe());
    Ok(Report::written(id, &sidecar, vec![Location::S3 { url }]))
}

/// `backup --stdout`: the archive format streamed to standard output, nothing on disk.
async fn to_stdout(
    env: Env<'_>,
    req: &Request,
    source: &stream::Source<'_>,
    local: &storage::local::LocalStore,
) -> anyhow::Result<Report> {
    let cfg = env.cfg;
    let now = jiff::Timestamp::now();
    let id = names::backup_id(&cfg.backup.name_prefix, &cfg.mongodb.database, now);
    let recipients = crate::repo::recipients(cfg)?;
    let target = pipeline::Target {
        id: &id,
        label: req.label.clone(),
        partial: &local.dir.join("-"),
        staging: &local.dir.join("-"),
        now,
        previous: None,
        imported: None,
        recipients: recipients.as_ref(),
    };
    let (manifest, size, sha256) =
        stream::write(env, source, &target, stream::Dest::Stdout).await?;
    let encryption = recipients.as_ref().map(Recipients::record);
    let sidecar =
        Sidecar { manifest, archive: ArchiveInfo::new("-".into(), size, sha256, encryption) };
    Ok(Report::written(id, &sidecar, vec![Location::Stdout]))
}

/// Retention after a complete backup (unless `--no-prune`); its failure makes the backup a
/// partial success.
async fn retention(cfg: &Config, req: &Request, report: &mut Report) {
    if !req.prune || report.outcome != Outcome::Ok {
        return;
    }
    match prune::apply(cfg, false).await {
        Ok(results) => {
            report.pruned = Some(results.iter().flat_map(|r| r.deleted.clone()).collect());
            report.retention = results;
        }
        Err(e) => {
            tracing::error!("retention failed after a complete backup: {e}");
            report.prune_error = Some(e.to_string());
            report.outcome = Outcome::Partial;
        }
    }
}

/// What names and marks a new backup: its time (the id), the previous good backup for the
/// shrink guard, and where an imported one came from.
struct Naming {
    now: jiff::Timestamp,
    previous: Option<(String, u64)>,
    imported: Option<crate::archive::manifest::Imported>,
    /// `backup.encryption`'s recipients: the archive is an age file (`<id><suffix>.age`).
    recipients: Option<Recipients>,
}

impl Naming {
    /// The archive's file name ending: `.age` added when encrypted.
    fn suffix(&self, format_suffix: &str) -> String {
        match &self.recipients {
            Some(_) => format!("{format_suffix}{}", crate::archive::crypt::SUFFIX),
            None => format_suffix.to_owned(),
        }
    }

    /// What the sidecar says of the archive's encryption.
    fn encryption(&self) -> Option<crate::archive::Encryption> {
        self.recipients.as_ref().map(Recipients::record)
    }
}

/// `system.*` is dropped by the listing; then the include/exclude lists apply. A listed
/// collection that does not exist is a configuration error, and nothing to back up is a
/// failure: an empty backup must never count as a good one (a misspelt name reads as an empty
/// database).
async fn selected_collections(
    db: &mongodb::Database,
    cfg: &Config,
) -> anyhow::Result<Vec<dump::CollectionSpec>> {
    let all = dump::list_collections(db)
        .await
        .with_context(|| format!("listing the collections of {}", db.name()))?;
    let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
    if let Some(missing) =
        cfg.backup.include_collections.iter().find(|c| !names.contains(&c.as_str()))
    {
        return Err(CliError::usage(format!(
            "backup.include_collections names {missing}, which is not a collection of {}",
            db.name()
        ))
        .with_hint(if names.is_empty() {
            format!("{} has no collections: check mongodb.database", db.name())
        } else {
            format!("check the spelling; {} has: {}", db.name(), names.join(", "))
        })
        .into());
    }
    let selected = select(all, cfg);
    if selected.is_empty() {
        return Err(CliError::new(
            Outcome::Failed,
            format!("database {} has no collections to back up; no backup was written", db.name()),
        )
        .with_hint(
            "check mongodb.database for a typo (MongoDB shows a misspelt database as an empty one) and backup.include_collections/exclude_collections",
        )
        .into());
    }
    Ok(selected)
}

/// The newest good backup in any storage (id, documents), before `before` when given, for the
/// `max_shrink` guard. A storage that cannot be read is skipped: the guard is a safety net,
/// not a dependency.
async fn previous_good(cfg: &Config, before: Option<jiff::Timestamp>) -> Option<(String, u64)> {
    let mut best: Option<(jiff::Timestamp, String, u64)> = None;
    for storage in storage::all(cfg).await {
        let Ok(entries) =
            crate::repo::scan(&storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await
        else {
            continue;
        };
        let earlier = |e: &crate::repo::Entry| before.is_none_or(|b| e.time < b);
        for e in entries.into_iter().filter(|e| e.is_good() && earlier(e)) {
            let docs = e.sidecar.as_ref().map_or(0, |s| s.manifest.totals.documents);
            if best.as_ref().is_none_or(|(t, _, _)| e.time > *t) {
                best = Some((e.time, e.id, docs));
            }
        }
    }
    best.map(|(_, id, docs)| (id, docs))
}

fn select(all: Vec<dump::CollectionSpec>, cfg: &Config) -> Vec<dump::CollectionSpec> {
    all.into_iter().filter(|s| cfg.backup.takes(&s.name)).collect()
}

async fn write_and_store(
    env: Env<'_>,
    req: &Request,
    local: &storage::local::LocalStore,
    naming: Naming,
    suffix: &str,
    write: impl AsyncFnOnce(
        &pipeline::Target<'_>,
    ) -> anyhow::Result<(crate::archive::Manifest, u64, String)>,
) -> anyhow::Result<Report> {
    let cfg = env.cfg;
    let dir = &local.dir;
    remove_leftovers(dir, &cfg.backup.name_prefix, &cfg.mongodb.database);
    let (suffix, encryption) = (naming.suffix(suffix), naming.encryption());
    let Naming { now, previous, imported, recipients } = naming;
    let id = names::backup_id(&cfg.backup.name_prefix, &cfg.mongodb.database, now);
    let archive_name = format!("{id}{suffix}");
    let partial = dir.join(format!("{archive_name}{PARTIAL_SUFFIX}"));
    let target = pipeline::Target {
        id: &id,
        label: req.label.clone(),
        partial: &partial,
        staging: &dir.join(format!(".{id}.staging")),
        now,
        previous,
        imported,
        recipients: recipients.as_ref(),
    };
    let written = write(&target).await;
    let (manifest, size, sha256) = match written {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let local_storage = Storage::Local(local.clone());
    // The local storage takes the finished file under its final name (a rename), then the
    // sidecar, which makes the backup complete.
    local_storage.put_file(&archive_name, &partial, env.cancel).await?;
    let sidecar = Sidecar {
        manifest,
        archive: ArchiveInfo::new(archive_name.clone(), size, sha256, encryption),
    };
    let sidecar_name = format!("{id}{SIDECAR_SUFFIX}");
    let sidecar_bytes = serde_json::to_vec_pretty(&sidecar)?;
    local_storage.put_bytes(&sidecar_name, &sidecar_bytes).await?;
    let final_path = local.path(&archive_name);
    let path = final_path.display().to_string();
    let mut report = Report::written(id, &sidecar, vec![Location::Local { path }]);
    if let Some(s) = &report.shrunk {
        // Kept and uploaded (it may be the only copy of what is left), but a failed check.
        tracing::error!(
            "backup {} holds {} document(s), fewer than {:.0}% of the {} in {}: kept, marked as shrunk, not counted by retention",
            report.id,
            report.totals.documents,
            (1.0 - s.max_shrink) * 100.0,
            s.previous_documents,
            s.previous_id
        );
    }
    let remote = if req.upload { storage::remote(cfg).await } else { None };
    if let Some(remote) = remote {
        upload(env, &remote, &mut report, &sidecar_name, &sidecar_bytes, local).await?;
    }
    Ok(report)
}

/// A backup complete locally but not in S3 (an import or rekey killed between the two):
/// uploads the local archive, then its sidecar. Returns where it went, or `None` when there
/// was nothing to do (no S3, no local copy, or S3 complete already).
pub(crate) async fn finish_upload(env: Env<'_>, id: &str) -> anyhow::Result<Option<Location>> {
    let cfg = env.cfg;
    let Some(remote) = storage::remote(cfg).await else { return Ok(None) };
    let local = Storage::Local(storage::local(cfg)?);
    let scan = |s: &Storage| {
        let s = s.clone();
        async move { crate::repo::scan(&s, &cfg.backup.name_prefix, &cfg.mongodb.database).await }
    };
    let here = scan(&local).await?.into_iter().find(|e| e.id == id && e.complete);
    let there = scan(&remote).await?.into_iter().any(|e| e.id == id && e.complete);
    let (Some(e), false) = (here, there) else { return Ok(None) };
    let Storage::Local(l) = &local else { unreachable!("a local storage") };
    tracing::warn!(
        "backup {id} is complete locally but not in S3 (an interrupted run): uploading it"
    );
    remote.put_file(&e.archive_name(), &l.path(&e.archive_name()), env.cancel).await?;
    let sidecar = local.get_bytes(&e.sidecar_name()).await?.unwrap_or_default();
    remote.put_bytes(&e.sidecar_name(), &sidecar).await?;
    Ok(Some(Location::S3 { url: format!("{}{}", remote.describe(), e.archive_name()) }))
}

/// Archive first, sidecar last, so an interrupted upload never looks complete. A failed upload
/// leaves a complete local archive: the report says so and the outcome is `Partial`.
async fn upload(
    env: Env<'_>,
    remote: &Storage,
    report: &mut Report,
    sidecar_name: &str,
    sidecar_bytes: &[u8],
    local: &storage::local::LocalStore,
) -> anyhow::Result<()> {
    let archive_name = &report.archive.file;
    let final_path = local.path(archive_name);
    let uploaded = async {
        remote.put_file(archive_name, &final_path, env.cancel).await?;
        remote.put_bytes(sidecar_name, sidecar_bytes).await
    }
    .await;
    match uploaded {
        Ok(()) => {
            report
                .locations
                .push(Location::S3 { url: format!("{}{archive_name}", remote.describe()) });
            if !env.cfg.backup.keep_local {
                Storage::Local(local.clone())
                    .delete(&[archive_name.clone(), sidecar_name.to_owned()])
                    .await
                    .with_context(|| {
                        format!("cannot remove the local copy {}", final_path.display())
                    })?;
                report.locations.remove(0);
            }
            Ok(())
        }
        Err(e) if e.fault == StorageFault::Interrupted || env.cancel.is_cancelled() => {
            Err(anyhow::Error::new(crate::signal::Interrupted).context(e.message))
        }
        Err(e) => {
            tracing::error!("{e}");
            report.upload_error = Some(e.to_string());
            report.outcome = Outcome::Partial;
            Ok(())
        }
    }
}

/// Staging folders and `.partial` files of runs that crashed. Only this prefix and database
/// (another database's backup holds another lock), and only when their owner is gone: the
/// staging folder names its host and pid; a live pid on this host keeps them (and the
/// `.partial` of the same id), a run on another host has lost its lock (we hold it). A folder
/// without an owner file was killed before it wrote one (or an older version made it); a
/// `.partial` without a live staging folder was killed after its folder went: both are gone.
fn remove_leftovers(dir: &Path, prefix: &str, db: &str) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let ours = |id: &str| names::parse_backup_id(id, prefix, db).is_some();
    let mut gone: Vec<String> = Vec::new();
    let mut alive: Vec<String> = Vec::new();
    let entries: Vec<_> = rd.flatten().collect();
    for e in &entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".staging")) else {
            continue;
        };
        if !ours(id) {
            continue;
        }
        if owner_gone(&e.path()) {
            gone.push(id.to_owned());
        } else {
            alive.push(id.to_owned());
        }
    }
    for e in &entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let staging = name.strip_prefix('.').and_then(|n| n.strip_suffix(".staging"));
        let partial = name
            .strip_suffix(PARTIAL_SUFFIX)
            .and_then(|n| ARCHIVE_SUFFIXES.iter().find_map(|s| n.strip_suffix(s)));
        // `.<file>.tmp-<pid>`: an atomic write (a sidecar, a copy) of a run killed during it.
        let temporary =
            name.strip_prefix('.').and_then(|n| n.rsplit_once(".tmp-")).filter(|(file, pid)| {
                let id = file.split('.').next().unwrap_or(file);
                ours(id)
                    && pid.parse::<u32>().is_ok_and(|p| {
                        p != std::process::id()
                            && crate::lock::ProcessId::here(p).liveness()
                                == crate::lock::Liveness::Dead
                    })
            });
        if temporary.is_some() {
            tracing::info!("removing {} left by an interrupted run", path.display());
            let _ = std::fs::remove_file(&path);
            continue;
        }
        if let Some(id) = staging.filter(|id| gone.iter().any(|g| g == id)) {
            tracing::info!("removing {} left by an interrupted run ({id})", path.display());
            let _ = std::fs::remove_dir_all(&path);
        } else if partial.is_some_and(|id| ours(id) && !alive.iter().any(|a| a == id)) {
            tracing::info!("removing {} left by an interrupted run", path.display());
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Whether the run that made a staging folder has ended: its process is gone (or a zombie,
/// or its pid now another process's). Another host's or namespace's run: we hold the lock, so
/// its lock has expired. No owner file: killed before it wrote one, or made by an older
/// version.
fn owner_gone(staging: &Path) -> bool {
    let owner = std::fs::read(staging.join(pipeline::OWNER_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<crate::lock::ProcessId>(&b).ok());
    owner
        .is_none_or(|o| o.pid != std::process::id() && o.liveness() != crate::lock::Liveness::Alive)
}
