//! Continuous oplog archiving and restores to a point in time (docs/pitr.md).
//!
//! `pitr push` ([`push`]) follows the oplog and writes **chunks** beside the backups, in every
//! storage: `<prefix>-<db>-oplog-<from>-<until>.bson.gz` (`.age` when encrypted), the
//! database's raw oplog entries with `from < ts <= until`, then its manifest
//! `<same stem>.chunk.json` (written after the data: a chunk without one is incomplete and
//! ignored). A chunk's `from` is the previous chunk's `until`, so the chunks form a chain; a
//! **gap marker** (a manifest with `gap: true` and no data) records a window the oplog no
//! longer held when the pusher came back. A run that found no new entry still writes a chunk
//! (a manifest with no data): the chain then says that nothing happened up to its `until`.
//!
//! A restore to time T ([`plan`]) takes the newest good base backup whose oplog ends at or
//! before T, then the chain of chunks from that end up to T, never across a gap.

pub mod push;
pub mod status;

use serde::{Deserialize, Serialize};

use crate::archive::manifest::{ClusterTime, Encryption};
use crate::config::Config;
use crate::error::CliError;
use crate::oplog::Ts;
use crate::storage::{Storage, StorageError};

pub const CHUNK_FORMAT: &str = "daraa-ops-oplog-chunk";
pub const CHUNK_SUFFIX: &str = ".chunk.json";
pub const DATA_SUFFIX: &str = ".bson.gz";

/// A chunk's manifest (or a gap marker).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    pub format: String,
    pub format_version: u32,
    pub database: String,
    /// Entries with `from < ts <= until` are all in this chunk (none of them, for a gap).
    pub from: ClusterTime,
    pub until: ClusterTime,
    /// The stored file (empty for a gap marker or a chunk without entries).
    pub file: String,
    pub entries: u64,
    /// Raw BSON bytes and their SHA-256, hex.
    pub bytes: u64,
    pub sha256: String,
    /// The stored file's size and SHA-256 (compressed, encrypted).
    pub size: u64,
    pub stored_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    pub created_at: String,
    /// The oplog no longer held `from..until` when the pusher read it: lost.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gap: bool,
}

impl Chunk {
    pub fn from_ts(&self) -> Ts {
        Ts::from(self.from)
    }

    pub fn until_ts(&self) -> Ts {
        Ts::from(self.until)
    }
}

/// `<prefix>-<db>-oplog-`: every chunk name starts so.
pub fn chunk_prefix(cfg: &Config) -> String {
    format!("{}-{}-oplog-", cfg.backup.name_prefix, cfg.mongodb.database)
}

pub fn chunk_stem(cfg: &Config, from: Ts, until: Ts) -> String {
    format!("{}{}-{}", chunk_prefix(cfg), from.sortable(), until.sortable())
}

/// What one storage holds: its chunk manifests in chain order.
#[derive(Debug, Default)]
pub struct Archived {
    pub chunks: Vec<Chunk>,
}

impl Archived {
    /// Where the next chunk starts: every entry up to here is archived.
    pub fn resume(&self) -> Option<Ts> {
        self.chunks.iter().map(Chunk::until_ts).max()
    }
}

/// Manifests read at once: S3 answers each GET in tens of milliseconds, and a week of 60 s
/// chunks is 10,080 of them.
const MANIFEST_READS: usize = 16;

/// Reads a storage's chunk manifests, [`MANIFEST_READS`] at a time.
pub async fn archived(cfg: &Config, storage: &Storage) -> Result<Archived, StorageError> {
    use futures_util::{StreamExt as _, TryStreamExt as _};
    let prefix = chunk_prefix(cfg);
    let names: Vec<String> = storage
        .list()
        .await?
        .into_iter()
        .map(|o| o.name)
        .filter(|n| n.starts_with(&prefix) && n.ends_with(CHUNK_SUFFIX))
        .collect();
    let read: Vec<(String, Option<Vec<u8>>)> = futures_util::stream::iter(names)
        .map(|name| async move {
            let bytes = storage.get_bytes(&name).await?;
            Ok::<_, StorageError>((name, bytes))
        })
        .buffered(MANIFEST_READS)
        .try_collect()
        .await?;
    let mut out = Archived::default();
    for (name, bytes) in read {
        let Some(bytes) = bytes else { continue };
        match serde_json::from_slice::<Chunk>(&bytes) {
            Ok(c) if c.format == CHUNK_FORMAT => out.chunks.push(c),
            Ok(_) | Err(_) => tracing::warn!(
                "{name} in {} is not an oplog chunk manifest; ignored",
                storage.describe()
            ),
        }
    }
    out.chunks.sort_by_key(|c| (c.from_ts(), c.until_ts()));
    Ok(out)
}

/// The chunks that carry a base backup ending at `base` to `target`, in order: the first
/// holds `base` (its `from` at or before it), each next one starts where the previous ended.
/// `Err` names how far the chain reaches (a gap, a missing chunk, or the end of archiving).
pub fn chain(archived: &Archived, base: Ts, target: Ts) -> Result<Vec<Chunk>, Ts> {
    let mut reached = base;
    let mut used = Vec::new();
    for c in &archived.chunks {
        if reached >= target {
            break;
        }
        if c.until_ts() <= reached {
            continue;
        }
        if c.from_ts() > reached || c.gap {
            return Err(reached);
        }
        reached = c.until_ts();
        used.push(c.clone());
    }
    if reached >= target { Ok(used) } else { Err(reached) }
}

/// What retention removes from one storage's chunks ([`prunable`]).
#[derive(Debug, Default, PartialEq)]
pub struct Prunable {
    /// Chunks and gap markers no kept base backup needs, oldest first.
    pub chunks: Vec<Chunk>,
    /// Data files whose manifest is gone (a deletion interrupted between the two).
    pub orphans: Vec<String>,
}

impl Prunable {
    /// The objects to delete, in order: each manifest before its data (a data file without
    /// its manifest is ignored by every reader, and removed by the next prune), then orphans.
    pub fn objects(&self, cfg: &Config) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.chunks {
            out.push(manifest_name(cfg, c));
            if !c.file.is_empty() {
                out.push(c.file.clone());
            }
        }
        out.extend(self.orphans.iter().cloned());
        out
    }
}

/// A chunk's manifest name.
pub fn manifest_name(cfg: &Config, c: &Chunk) -> String {
    format!("{}{CHUNK_SUFFIX}", chunk_stem(cfg, c.from_ts(), c.until_ts()))
}

/// The chunks of a storage that no restore can use once the oldest kept base backup starts
/// at `keep_from` (its oplog's `from`): those ending at or before it, except the newest chunk
/// of all, which tells `pitr push` where to resume. With no kept point-in-time base backup
/// (`None`) nothing goes. `names` (the storage's listing) gives the orphaned data files.
pub fn prunable(
    cfg: &Config,
    found: &Archived,
    names: &[String],
    keep_from: Option<Ts>,
) -> Prunable {
    let Some(keep_from) = keep_from else { return Prunable::default() };
    let newest = found.resume();
    let chunks: Vec<Chunk> = found
        .chunks
        .iter()
        .filter(|c| c.until_ts() <= keep_from && Some(c.until_ts()) != newest)
        .cloned()
        .collect();
    let prefix = chunk_prefix(cfg);
    let with_manifest: std::collections::HashSet<&str> =
        found.chunks.iter().map(|c| c.file.as_str()).collect();
    let orphans = names
        .iter()
        .filter(|n| !with_manifest.contains(n.as_str()))
        .filter(|n| {
            let Some(rest) = n.strip_prefix(&prefix) else { return false };
            let Some(stem) = rest
                .strip_suffix(&format!("{DATA_SUFFIX}{}", crate::archive::crypt::SUFFIX))
                .or_else(|| rest.strip_suffix(DATA_SUFFIX))
            else {
                return false;
            };
            // `<from>-<until>`; old enough, and not a chunk being written at the chain's tip.
            stem.split_once('-')
                .and_then(|(_, until)| Ts::parse_sortable(until))
                .is_some_and(|until| until <= keep_from && newest.is_some_and(|n| until <= n))
        })
        .cloned()
        .collect();
    Prunable { chunks, orphans }
}

/// The good point-in-time backups among a storage's entries: `(id, the end of its oplog)`,
/// in the entries' order.
pub fn bases(entries: &[crate::repo::Entry]) -> Vec<(String, Ts)> {
    entries
        .iter()
        .filter(|e| e.is_good())
        .filter_map(|e| {
            Some((e.id.clone(), Ts::from(e.sidecar.as_ref()?.manifest.oplog.as_ref()?.until)))
        })
        .collect()
}

/// A restore to a point in time: the base backup's id, the chunks to replay after it, and
/// the point itself.
#[derive(Debug)]
pub struct Plan {
    pub base: String,
    pub chunks: Vec<Chunk>,
    pub target: Ts,
    /// Where the chunks are read from.
    pub storage: Storage,
}

/// Chooses the base backup and the chunks for `target` (`T,I`, or RFC 3339: the last entry
/// of that second). A time no base backup and chunk chain reach is exit 2 naming the times
/// that can be restored.
pub async fn plan(cfg: &Config, target: &str) -> anyhow::Result<Plan> {
    let target = Ts::parse(target).map_err(|e| {
        CliError::usage(format!("--to-time {target}: {e}"))
            .with_hint("give an RFC 3339 time (2026-12-02T09:30:00Z) or an oplog timestamp T,I")
    })?;
    let mut last_error = None;
    for storage in crate::storage::all(cfg).await {
        let found = archived(cfg, &storage).await?;
        if found.chunks.is_empty() {
            continue;
        }
        match plan_in(cfg, &storage, &found, target).await? {
            Ok(plan) => return Ok(plan),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        CliError::usage(format!(
            "cannot restore to {target}: no oplog chunks are archived for {} (`daraa-ops pitr push` writes them)",
            cfg.mongodb.database
        ))
        .with_hint("run `daraa-ops pitr push` from cron or as a service (docs/pitr.md)")
    })
    .into())
}

async fn plan_in(
    cfg: &Config,
    storage: &Storage,
    found: &Archived,
    target: Ts,
) -> anyhow::Result<Result<Plan, CliError>> {
    let entries =
        crate::repo::scan(storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await?;
    // Good point-in-time base backups, newest first: (id, until).
    let mut bases = bases(&entries);
    bases.sort_by_key(|(_, until)| std::cmp::Reverse(*until));
    let Some((base, until)) = bases.iter().find(|(_, until)| *until <= target).cloned() else {
        let oldest = bases.last().map(|(_, u)| u.to_string());
        return Ok(Err(CliError::usage(format!(
            "cannot restore to {target}: no point-in-time backup in {} ends at or before it{}",
            storage.describe(),
            oldest.map(|o| format!(" (the oldest ends at {o})")).unwrap_or_default()
        ))
        .with_hint("pick a later time, or restore a backup by id")));
    };
    match chain(found, until, target) {
        Ok(chunks) => Ok(Ok(Plan { base, chunks, target, storage: storage.clone() })),
        Err(reached) => Ok(Err(CliError::usage(format!(
            "cannot restore to {target}: after backup {base} (which ends at {until}) the archived oplog in {} reaches {reached}{}",
            storage.describe(),
            if found.chunks.iter().any(|c| c.gap && c.until_ts() > until) {
                ", then a gap"
            } else {
                ""
            }
        ))
        .with_hint(format!(
            "restore to {reached} or earlier, or wait for `daraa-ops pitr push` to archive more"
        )))),
    }
}

/// The entries of every chunk of a plan, in chain order.
pub async fn entries(cfg: &Config, plan: &Plan) -> anyhow::Result<Vec<bson::RawDocumentBuf>> {
    let mut out = Vec::new();
    for c in &plan.chunks {
        out.extend(read(cfg, &plan.storage, c).await?);
    }
    Ok(out)
}

/// A chunk's entries, checked against its manifest (stored size and SHA-256, then the raw
/// entries' count and SHA-256). Encrypted chunks are opened with the configured identities.
pub async fn read(
    cfg: &Config,
    storage: &Storage,
    chunk: &Chunk,
) -> anyhow::Result<Vec<bson::RawDocumentBuf>> {
    use sha2::{Digest as _, Sha256};
    let damaged = |what: String| {
        CliError::new(crate::error::Outcome::Drift, format!("oplog chunk {}: {what}", chunk.file))
            .with_hint("the chunk cannot be trusted: restore to a time before it")
    };
    if chunk.entries == 0 && chunk.file.is_empty() {
        return Ok(Vec::new());
    }
    let stored = storage
        .get_bytes(&chunk.file)
        .await?
        .ok_or_else(|| damaged(format!("missing from {}", storage.describe())))?;
    if stored.len() as u64 != chunk.size
        || crate::files::hex(&Sha256::digest(&stored)) != chunk.stored_sha256
    {
        return Err(damaged("its size or SHA-256 differs from its manifest".into()).into());
    }
    let plain: Box<dyn std::io::Read + Send> = if crate::archive::crypt::is_encrypted(&stored) {
        let identities = crate::repo::load_identities(&cfg.backup.encryption.identity_files)?
            .ok_or_else(|| {
                CliError::usage(format!(
                    "oplog chunk {} is encrypted and no identity is configured to open it",
                    chunk.file
                ))
                .with_hint("set backup.encryption.identity_files (or DARAA_OPS_AGE_IDENTITY_FILE)")
            })?;
        crate::archive::crypt::open(std::io::Cursor::new(stored), &identities)
            .map_err(|_| damaged("no configured identity opens it, or it is damaged".into()))?
    } else {
        Box::new(std::io::Cursor::new(stored))
    };
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(plain), &mut raw)
        .map_err(|e| damaged(format!("cannot be read: {e}")))?;
    let mut docs = Vec::new();
    let stats =
        crate::archive::bson::read_documents(&raw[..], &chunk.file, |d| {
            docs.push(bson::RawDocumentBuf::from_bytes(d.to_vec()).map_err(|e| {
                crate::archive::ArchiveError::Corrupt(format!("{}: {e}", chunk.file))
            })?);
            Ok(())
        })
        .map_err(|e| damaged(e.to_string()))?;
    if stats.documents != chunk.entries || stats.sha256 != chunk.sha256 {
        return Err(damaged("its entries differ from its manifest".into()).into());
    }
    Ok(docs)
}

#[cfg(test)]
mod tests;
