//! `pitr push`: the oplog entries of the configured database since the last chunk, archived
//! as chunks in every storage (see the module above). One pusher per database at a time
//! (the lock `<db>_pitr`, beside the backups' own). A run first copies to the other storages
//! any chunk of the local folder they lack, then resumes where the newest chunk of any
//! storage ends, so a crash, a failed upload or a wiped local folder never leaves a hole or a
//! duplicate.

use std::io::Write as _;

use anyhow::Context as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::{Archived, CHUNK_FORMAT, Chunk, DATA_SUFFIX, archived, manifest_name};
use crate::config::Config;
use crate::error::{CliError, Outcome};
use crate::files::hex;
use crate::mongo::oplog as server;
use crate::oplog::{Entry, Ts, keep};
use crate::storage::Storage;

pub use crate::engine::Env;

/// What a push did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub database: String,
    /// Chunk manifests written, in order.
    pub chunks: Vec<String>,
    pub entries: u64,
    /// The oplog timestamps archived by this run: `from < ts <= until` (`T,I`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Seconds between now and the newest archived point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<u64>,
    /// Chunks copied to a storage that lacked them (an earlier upload failed).
    pub copied: u64,
    /// A window the oplog no longer held: recorded as a gap marker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<Gap>,
    /// How the chain began, when this run began it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    /// A storage other than the local folder could not be written (the first error): the
    /// chunks are complete locally, the next pass copies them (exit 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    pub from: String,
    pub until: String,
}

impl Report {
    /// The outcome: a gap is exit 6 (data the chain cannot replay), after it was recorded; a
    /// storage left behind is exit 5 (complete locally).
    pub fn outcome(&self) -> Outcome {
        if self.gap.is_some() {
            Outcome::Drift
        } else if self.storage_error.is_some() {
            Outcome::Partial
        } else {
            Outcome::Ok
        }
    }
}

/// Pushes once (`--once`), or until a signal, every `pitr.span_seconds`.
pub async fn run(env: Env<'_>, once: bool) -> anyhow::Result<Report> {
    let cfg = env.cfg;
    let lock = crate::lock::pitr_name(&cfg.mongodb.database);
    crate::lock::with(cfg, &lock, "pitr push", env.cancel, async || {
        let mut report = push(env).await?;
        metrics(cfg).await;
        if once {
            return Ok(report);
        }
        loop {
            let pause = std::time::Duration::from_secs(cfg.pitr.span_seconds);
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = env.cancel.cancelled() => return Ok(report),
            }
            match push(env).await {
                Ok(r) => {
                    metrics(cfg).await;
                    for c in &r.chunks {
                        tracing::info!("wrote {c}");
                    }
                    report.chunks.extend(r.chunks);
                    report.entries += r.entries;
                    report.copied += r.copied;
                    report.until = r.until.or(report.until);
                    report.lag_seconds = r.lag_seconds;
                    report.gap = r.gap.or(report.gap);
                    // Where the storages stand now (a recovered S3 is no longer exit 5).
                    report.storage_error = r.storage_error;
                }
                Err(_) if env.cancel.is_cancelled() => return Ok(report),
                Err(e) => tracing::error!("pitr push: {e:#}; trying again in {}s", pause.as_secs()),
            }
        }
    })
    .await
}

/// After a pass: `daraa_ops_pitr.<db>.prom` in `metrics.textfile_dir` (its status), so an
/// alert sees the lag and the gaps of a pusher that runs for weeks.
async fn metrics(cfg: &Config) {
    if cfg.metrics.textfile_dir.is_none() {
        return;
    }
    match super::status::status(cfg).await {
        Ok(s) => super::status::write_metrics(cfg, &s),
        Err(e) => tracing::warn!("cannot read the archived oplog's status for its metrics: {e}"),
    }
}

/// One pass: copy what other storages lack, record a gap if the oplog moved on, then archive
/// every new entry up to the settled newest one.
async fn push(env: Env<'_>) -> anyhow::Result<Report> {
    let cfg = env.cfg;
    let mut storages = vec![Storage::Local(crate::storage::local(cfg)?)];
    storages.extend(crate::storage::remote(cfg).await);
    let mut report = Report { database: cfg.mongodb.database.clone(), ..Report::default() };
    let primary = archived(cfg, &storages[0]).await?;
    // Where archiving stands: the newest end in any storage (a new or wiped local folder
    // resumes from what S3 holds rather than starting a second chain). A storage that fails
    // is left for this pass (exit 5): archiving goes on locally, and the next pass copies
    // what it lacks. The local folder failing stops the pass.
    let mut resume_at = primary.resume();
    let mut down = vec![false; storages.len()];
    for (i, other) in storages.iter().enumerate().skip(1) {
        let caught_up = async {
            let copied = copy_missing(cfg, &storages[0], other, &primary).await?;
            anyhow::Ok((copied, archived(cfg, other).await?.resume()))
        };
        match caught_up.await {
            Ok((copied, resume)) => {
                report.copied += copied;
                resume_at = resume_at.max(resume);
            }
            Err(e) if env.cancel.is_cancelled() => return Err(e),
            Err(e) => {
                down[i] = true;
                storage_failed(&mut report, other, &e);
            }
        }
    }
    let mongo = crate::mongo::connect(
        &cfg.mongodb,
        crate::mongo::Role::Job(crate::mongo::privileges::Job::Backup),
        crate::mongo::Access::ReadOnly,
    )
    .await?;
    let client = &mongo.client;
    let Some(newest) = server::newest(client).await?.map(Ts::from) else {
        return Err(CliError::usage(format!(
            "{} keeps no oplog: point-in-time recovery needs a replica-set member",
            mongo.display_uri
        ))
        .with_hint(
            "run against a replica-set member (a single-node replica set will do); docs/pitr.md",
        )
        .into());
    };
    let mut resume = match resume_at {
        Some(t) => t,
        None => {
            let (start, how) = start_of_chain(cfg, &storages[0], newest).await?;
            report.started = Some(how);
            start
        }
    };
    let oldest = server::oldest(client).await?.map_or(newest, Ts::from);
    if oldest > resume {
        // The oplog rolled over while nothing archived it: entries after `resume` and before
        // `oldest` may be lost. Recorded, and archiving goes on from the oldest entry.
        let before = before(oldest);
        let marker = gap_marker(cfg, resume, before);
        for s in &storages {
            put_manifest(cfg, s, &marker).await?;
        }
        tracing::error!(
            "the oplog no longer reaches back to {resume}: entries up to {before} may be lost; restores cannot cross this gap, take a base backup (`daraa-ops backup`)"
        );
        report.gap = Some(Gap { from: resume.pair(), until: before.pair() });
        resume = before;
    }
    // On a server that is not a replica-set member (FerretDB) an entry may become visible just
    // after a later one, and there are no periodic no-op entries: archive up to two seconds
    // ago, whether or not anything was written since (an idle database's chain still reaches
    // the present).
    let mut until = newest;
    if !server::is_replica_set(client).await? {
        let settled = jiff::Timestamp::now().as_second() - 2;
        until = Ts { t: u32::try_from(settled.max(0)).unwrap_or(0), i: u32::MAX };
    }
    if until <= resume {
        if report.started.is_none() {
            return Ok(report);
        }
        // A new chain records where it starts, even with nothing to archive yet: the next
        // run resumes there instead of starting again.
        until = resume;
    }
    let chunks = read_chunks(env, client, resume, until).await?;
    report.from = Some(resume.pair());
    for built in chunks {
        report.entries += built.chunk.entries;
        store(env, &storages, &mut down, &built, &mut report).await?;
        report.chunks.push(manifest_name(cfg, &built.chunk));
    }
    report.until = Some(until.pair());
    report.lag_seconds =
        Some(u64::try_from(jiff::Timestamp::now().as_second() - i64::from(until.t)).unwrap_or(0));
    Ok(report)
}

/// One chunk into every storage still up, data before manifest; a failure of the local
/// folder ends the pass, one of another storage leaves that storage for the pass.
async fn store(
    env: Env<'_>,
    storages: &[Storage],
    down: &mut [bool],
    built: &Built,
    report: &mut Report,
) -> anyhow::Result<()> {
    for (i, s) in storages.iter().enumerate() {
        if down[i] {
            continue;
        }
        let stored = async {
            if !built.data.is_empty() {
                s.put_bytes(&built.chunk.file, &built.data).await?;
            }
            put_manifest(env.cfg, s, &built.chunk).await
        };
        match stored.await {
            Ok(()) => {}
            Err(e) if i == 0 || env.cancel.is_cancelled() => return Err(e),
            Err(e) => {
                down[i] = true;
                storage_failed(report, s, &e);
            }
        }
    }
    Ok(())
}

/// A storage other than the local folder failed: logged, named in the report (exit 5).
fn storage_failed(report: &mut Report, s: &Storage, e: &anyhow::Error) {
    tracing::error!("{}: {e:#}; the next pass copies what it lacks", s.describe());
    report.storage_error.get_or_insert_with(|| format!("{}: {e:#}", s.describe()));
}

/// Where a new chain begins: at the end of the newest good point-in-time backup, or (none
/// yet) at the oplog's newest entry.
async fn start_of_chain(cfg: &Config, local: &Storage, newest: Ts) -> anyhow::Result<(Ts, String)> {
    let entries = crate::repo::scan(local, &cfg.backup.name_prefix, &cfg.mongodb.database).await?;
    let base = super::bases(&entries).pop();
    Ok(match base {
        Some((id, until)) => (until, format!("at the end of backup {id} ({until})")),
        None => (
            newest,
            format!(
                "at the oplog's newest entry ({newest}): no point-in-time backup yet, take one (`daraa-ops backup`) to restore to times after it"
            ),
        ),
    })
}

/// The timestamp just before `t`.
fn before(t: Ts) -> Ts {
    match t.i {
        0 => Ts { t: t.t.saturating_sub(1), i: u32::MAX },
        i => Ts { t: t.t, i: i - 1 },
    }
}

fn gap_marker(cfg: &Config, from: Ts, until: Ts) -> Chunk {
    Chunk {
        format: CHUNK_FORMAT.into(),
        format_version: 1,
        database: cfg.mongodb.database.clone(),
        from: from.into(),
        until: until.into(),
        file: String::new(),
        entries: 0,
        bytes: 0,
        sha256: hex(&Sha256::digest(b"")),
        size: 0,
        stored_sha256: hex(&Sha256::digest(b"")),
        encryption: None,
        created_at: crate::repo::now_rfc3339(),
        gap: true,
    }
}

async fn put_manifest(cfg: &Config, s: &Storage, c: &Chunk) -> anyhow::Result<()> {
    s.put_bytes(&manifest_name(cfg, c), &serde_json::to_vec_pretty(c)?).await?;
    Ok(())
}

/// Copies to `to` every chunk of `from` it lacks (data first, then the manifest).
async fn copy_missing(
    cfg: &Config,
    from: &Storage,
    to: &Storage,
    chunks: &Archived,
) -> anyhow::Result<u64> {
    let there = archived(cfg, to).await?;
    let mut copied = 0;
    for c in &chunks.chunks {
        if there.chunks.iter().any(|t| t == c) {
            continue;
        }
        if !c.file.is_empty() {
            let data = from
                .get_bytes(&c.file)
                .await?
                .with_context(|| format!("{} is missing from {}", c.file, from.describe()))?;
            to.put_bytes(&c.file, &data).await?;
        }
        put_manifest(cfg, to, c).await?;
        copied += 1;
    }
    Ok(copied)
}

/// A chunk ready to store.
struct Built {
    chunk: Chunk,
    /// The stored file's bytes (empty: no entries).
    data: Vec<u8>,
}

/// Reads `(resume, until]` and cuts it into chunks: a new one when the current one spans
/// `pitr.span_seconds` or holds `pitr.max_chunk_mib` of entries. The last one ends at
/// `until`, with or without entries.
async fn read_chunks(
    env: Env<'_>,
    client: &mongodb::Client,
    resume: Ts,
    until: Ts,
) -> anyhow::Result<Vec<Built>> {
    let cfg = env.cfg;
    let db = cfg.mongodb.database.clone();
    let recipients = crate::repo::recipients(cfg)?;
    let span = cfg.pitr.span_seconds;
    let max = cfg.pitr.max_chunk_mib * 1024 * 1024;
    let mut done: Vec<Built> = Vec::new();
    let mut open = Open::new(resume);
    let mut seen = std::collections::HashSet::new();
    let mut failure: Option<anyhow::Error> = None;
    server::read(client, resume.bson(), until.bson(), env.cancel, |raw| {
        let entry = Entry::parse(&raw)?;
        // FerretDB's entries carry an _id: one read twice counts once.
        if let Some(id) = &entry.id
            && !seen.insert(crate::oplog::state::key(id))
        {
            return Ok(());
        }
        if !keep(&entry, &db) {
            return Ok(());
        }
        // Only the collections a backup takes (include/exclude_collections).
        let takes = |c: &str| cfg.backup.takes(c);
        let Some(raw) = crate::oplog::only_taken(&raw, &entry, &db, &takes)? else {
            return Ok(());
        };
        if open.entries > 0
            && (u64::from(entry.ts.t.saturating_sub(open.from.t)) >= span
                || open.raw.len() as u64 >= max)
        {
            let last = open.last;
            match open.build(cfg, last, recipients.as_ref()) {
                Ok(b) => done.push(b),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
            open = Open::new(last);
        }
        open.raw.extend_from_slice(raw.as_bytes());
        open.entries += 1;
        open.last = entry.ts;
        Ok(())
    })
    .await
    .context("reading the oplog")?;
    if let Some(e) = failure {
        return Err(e);
    }
    done.push(open.build(cfg, until, recipients.as_ref())?);
    Ok(done)
}

/// The chunk being filled.
struct Open {
    from: Ts,
    last: Ts,
    raw: Vec<u8>,
    entries: u64,
}

impl Open {
    fn new(from: Ts) -> Open {
        Open { from, last: from, raw: Vec::new(), entries: 0 }
    }

    /// Compressed (and sealed) into its stored form, ending at `until`.
    fn build(
        &self,
        cfg: &Config,
        until: Ts,
        recipients: Option<&crate::archive::crypt::Recipients>,
    ) -> anyhow::Result<Built> {
        let stem = super::chunk_stem(cfg, self.from, until);
        let data = if self.entries == 0 {
            Vec::new()
        } else {
            let level = flate2::Compression::new(cfg.backup.gzip_level());
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), level);
            gz.write_all(&self.raw)?;
            let gz = gz.finish()?;
            match recipients {
                Some(r) => crate::archive::crypt::seal_bytes(&gz, r)?,
                None => gz,
            }
        };
        let file = match (self.entries, recipients) {
            (0, _) => String::new(),
            (_, Some(_)) => format!("{stem}{DATA_SUFFIX}{}", crate::archive::crypt::SUFFIX),
            (_, None) => format!("{stem}{DATA_SUFFIX}"),
        };
        Ok(Built {
            chunk: Chunk {
                format: CHUNK_FORMAT.into(),
                format_version: 1,
                database: cfg.mongodb.database.clone(),
                from: self.from.into(),
                until: until.into(),
                file,
                entries: self.entries,
                bytes: self.raw.len() as u64,
                sha256: hex(&Sha256::digest(&self.raw)),
                size: data.len() as u64,
                stored_sha256: hex(&Sha256::digest(&data)),
                encryption: recipients.map(crate::archive::crypt::Recipients::record),
                created_at: crate::repo::now_rfc3339(),
                gap: false,
            },
            data,
        })
    }
}
