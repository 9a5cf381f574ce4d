//! `import`: a backup daraa-ops did not write (a mongodump `--archive` file, a `--out` folder,
//! or a tar of one) made into a daraa-ops backup of the configured database: a `.tar.gz` with
//! its manifest and sidecar, uploaded and under retention like any other, named by the
//! original backup's time so that history joins the catalog in order.
//!
//! The source is read twice: a first pass verifies all of it and learns its database, server
//! version and metadata before anything is written; the second stages every collection and
//! writes the archive through the backup pipeline. A failure in either leaves the catalog as
//! it was.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::pipeline::{self, Member};
use super::{Env, Naming, Report, Request};
use crate::archive::manifest::Imported;
use crate::archive::{ArchiveError, Event, walk};
use crate::archive::{CollectionEntry, CollectionMetadata, SourceFormat, names};
use crate::error::{CliError, Outcome};
use crate::files::hex;
use crate::repo::Resolved;
use crate::storage;

/// How the imported backup's time was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeFrom {
    /// `--time`.
    Option,
    /// A date (and time) in the file or folder name, e.g. `dump_20261128`.
    Name,
    /// The file's modification time.
    Mtime,
}

/// What `import` did.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub source: String,
    pub source_format: SourceFormat,
    pub time: String,
    pub time_from: TimeFrom,
    /// The backup id it has in the catalog.
    pub id: String,
    /// A complete backup with this id was already there: nothing was written (but an upload
    /// an earlier run did not finish, see `uploaded`).
    pub already_present: bool,
    /// Already present locally, and now uploaded to S3, where an interrupted import had not
    /// put it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uploaded: Option<super::Location>,
    /// What was written (as `backup` reports it); absent when it was already present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<Report>,
}

/// Imports `source` as a backup of the configured database taken at `time` (or the time its
/// name or modification time gives).
pub async fn import(
    env: Env<'_>,
    source: &Resolved,
    time: Option<Timestamp>,
    allow_future: bool,
    req: &Request,
) -> anyhow::Result<ImportReport> {
    let cfg = env.cfg;
    let (time, time_from) = match time {
        Some(t) => (t, TimeFrom::Option),
        None => match time_in_name(&source.archive_name) {
            Some(t) => (t, TimeFrom::Name),
            None => (modified(source)?, TimeFrom::Mtime),
        },
    };
    let time = time.round(jiff::Unit::Second).unwrap_or(time);
    check_not_future(source, time, time_from, allow_future, Timestamp::now())?;
    let first = crate::restore::survey(
        source,
        env.cancel,
        "nothing was imported; check the file with `daraa-ops verify <PATH>`",
    )
    .await?;
    let metadata = first.metadata.clone();
    if first.manifest.database != cfg.mongodb.database {
        return Err(CliError::usage(format!(
            "{} is a backup of database {}, not of {} (mongodb.database)",
            source.describe(),
            first.manifest.database,
            cfg.mongodb.database
        ))
        .with_hint("import it with a configuration whose mongodb.database names its database")
        .into());
    }
    let id = names::backup_id(&cfg.backup.name_prefix, &cfg.mongodb.database, time);
    let mut report = ImportReport {
        source: source.describe(),
        source_format: first.format,
        time: time.to_string(),
        time_from,
        already_present: false,
        uploaded: None,
        backup: None,
        id: id.clone(),
    };
    let local = storage::local(cfg)?;
    crate::lock::with(cfg, &cfg.mongodb.database, "import", env.cancel, async || {
        if let Some(existing) = present(cfg, &id).await? {
            same_contents(source, &first.manifest, &existing)?;
            report.already_present = true;
            // A rerun after an import killed before its upload finishes it.
            if req.upload {
                report.uploaded = super::finish_upload(env, &id).await?;
            }
            return anyhow::Ok(());
        }
        let naming = Naming {
            now: time,
            // Compared with the newest good backup before it, like every backup.
            previous: super::previous_good(cfg, Some(time)).await,
            imported: Some(Imported {
                source: source.archive_name.clone(),
                source_format: first.manifest.format.clone(),
                source_tool: first.manifest.tool_version.clone(),
                imported_at: Timestamp::now().round(jiff::Unit::Second)?.to_string(),
                time_from: serde_json::to_value(time_from)?.as_str().unwrap_or("").to_owned(),
            }),
            recipients: crate::repo::recipients(cfg)?,
        };
        let db = cfg.mongodb.database.clone();
        let bar = env.progress.bytes(&source.archive_name, 0);
        let reader: Box<dyn std::io::Read + Send> = Box::new(bar.reader(source.reader().await?));
        let cancel = env.cancel.clone();
        let sv = first.manifest.server_version.as_str();
        let produce = async move |staging: &pipeline::Stage, tx: &pipeline::Sender| {
            let (staging, tx) = (staging.clone(), tx.clone());
            let collections = tokio::task::spawn_blocking(move || {
                stage(reader, &staging, &tx, &db, &metadata, &cancel)
            })
            .await
            .context("import reader panicked")??;
            let oplog =
                Err("imported: the collections are taken as the dump holds them, without an oplog"
                    .to_owned());
            anyhow::Ok(pipeline::Produced { collections, oplog })
        };
        let mut backup = super::write_and_store(
            env,
            req,
            &local,
            naming,
            pipeline::tar_suffix(cfg),
            async |target| pipeline::write(env, sv, target, produce).await,
        )
        .await?;
        super::retention(cfg, req, &mut backup).await;
        report.backup = Some(backup);
        Ok(())
    })
    .await?;
    Ok(report)
}

/// How far ahead of this host's clock an imported backup's time may be (clock skew between the
/// host that made the dump and this one).
pub const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// A backup from the future would become `latest`, be drilled instead of the real ones and pin
/// retention: refused unless its time was given with `--time` and `--allow-future`.
fn check_not_future(
    source: &Resolved,
    time: Timestamp,
    from: TimeFrom,
    allow_future: bool,
    now: Timestamp,
) -> Result<(), CliError> {
    if time <= now + CLOCK_SKEW || (from == TimeFrom::Option && allow_future) {
        return Ok(());
    }
    let whence = match from {
        TimeFrom::Option => "given with --time".to_owned(),
        TimeFrom::Name => format!("read from its name {:?}", source.archive_name),
        TimeFrom::Mtime => "its file's modification time".to_owned(),
    };
    Err(CliError::usage(format!(
        "{}: its time {time} ({whence}) is later than now ({}); nothing was imported",
        source.describe(),
        now.round(jiff::Unit::Second).unwrap_or(now)
    ))
    .with_hint(match from {
        TimeFrom::Option => "check --time; if this host's clock is behind, add --allow-future",
        TimeFrom::Name | TimeFrom::Mtime => "give the backup's real time with --time",
    }))
}

/// The sidecar of a complete backup with this id in any storage.
async fn present(
    cfg: &crate::config::Config,
    id: &str,
) -> anyhow::Result<Option<crate::archive::Sidecar>> {
    for s in storage::all(cfg).await {
        let entries = crate::repo::scan(&s, &cfg.backup.name_prefix, &cfg.mongodb.database)
            .await
            .with_context(|| format!("listing {}", s.describe()))?;
        if let Some(e) = entries.into_iter().find(|e| e.id == id && e.complete) {
            return Ok(e.sidecar);
        }
    }
    Ok(None)
}

/// An import whose id is taken is "already present" only when the backup there holds the same
/// collections with the same documents (counts and SHA-256 of their BSON); another dump of
/// the same time is refused, naming both, rather than reported as imported.
fn same_contents(
    source: &Resolved,
    found: &crate::archive::Manifest,
    existing: &crate::archive::Sidecar,
) -> Result<(), CliError> {
    let key = |m: &crate::archive::Manifest| -> Vec<(String, u64, Option<String>)> {
        let mut v: Vec<_> =
            m.collections.iter().map(|c| (c.name.clone(), c.documents, c.sha256.clone())).collect();
        v.sort();
        v
    };
    if key(found) == key(&existing.manifest) {
        return Ok(());
    }
    let m = &existing.manifest;
    Err(CliError::usage(format!(
        "backup {} already exists with other contents ({} collection(s), {} document(s){}); {} holds {} collection(s), {} document(s); nothing was imported",
        m.id,
        m.collections.len(),
        m.totals.documents,
        m.imported.as_ref().map(|i| format!(", imported from {}", i.source)).unwrap_or_default(),
        source.describe(),
        found.collections.len(),
        found.collections.iter().map(|c| c.documents).sum::<u64>(),
    ))
    .with_hint("two dumps of the same time: give this one its own time with --time (e.g. a second later)"))
}

/// The second pass: every collection's documents to a staging file, then, the source
/// verified to its end, each collection's metadata and documents to the archive writer in
/// name order.
fn stage(
    input: Box<dyn std::io::Read + Send>,
    staging: &pipeline::Stage,
    tx: &pipeline::Sender,
    db: &str,
    metadata: &BTreeMap<String, CollectionMetadata>,
    cancel: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<Vec<CollectionEntry>> {
    type Staged = pipeline::StagedWriter;
    type Done = (PathBuf, crate::digest::MemberStats, crate::archive::tar::writer::Compressed);
    let mut open: BTreeMap<String, (PathBuf, Staged)> = BTreeMap::new();
    let mut done: BTreeMap<String, Done> = BTreeMap::new();
    let mut n = 0;
    let input = crate::signal::CancelReader::new(input, cancel.clone());
    let walked = walk::walk(input, None, true, |e| {
        match e {
            Event::DataStart { collection } => {
                n += 1;
                let (path, out) = staging.create(&format!("{n}.bson")).map_err(ArchiveError::Io)?;
                open.insert(collection, (path, out));
            }
            Event::Batch { collection, docs } => {
                if let Some((_, w)) = open.get_mut(&collection) {
                    for d in docs {
                        w.write_all(d.as_bytes()).map_err(ArchiveError::Io)?;
                    }
                }
            }
            Event::DataEnd { collection, stats, .. } => {
                if let Some((path, w)) = open.remove(&collection) {
                    let staged =
                        pipeline::finish_staged(w, stats.bytes).map_err(ArchiveError::Io)?;
                    done.insert(collection, (path, stats, staged));
                }
            }
            // An imported daraa-ops backup's oplog is not carried over (docs/pitr.md).
            Event::Interleaved | Event::Metadata { .. } | Event::Oplog { .. } => {}
        }
        Ok(())
    });
    if let Err(e) = walked {
        if cancel.is_cancelled() {
            return Err(crate::signal::Interrupted.into());
        }
        return Err(match e {
            ArchiveError::Corrupt(msg) => CliError::new(Outcome::Drift, msg).into(),
            ArchiveError::Io(e) => anyhow::Error::new(e).context("staging the imported backup"),
        });
    }
    let names: std::collections::BTreeSet<String> =
        metadata.keys().chain(done.keys()).cloned().collect();
    let mut entries = Vec::new();
    for name in &names {
        let meta = metadata.get(name).cloned().unwrap_or_else(|| CollectionMetadata {
            name: name.clone(),
            kind: "collection".into(),
            options: bson::Document::new(),
            indexes: Vec::new(),
            uuid: None,
        });
        let text = meta.to_json();
        let metadata_file = crate::archive::names::metadata_member(db, name);
        pipeline::send(
            tx,
            Member::Bytes { name: metadata_file.clone(), data: text.clone().into() },
        )?;
        let (data_file, stats) = match done.remove(name) {
            Some((path, stats, staged)) => {
                let member = crate::archive::names::data_member(db, name);
                pipeline::send(tx, Member::File { name: member.clone(), path, staged })?;
                (Some(member), stats)
            }
            None => (None, crate::digest::MemberStats::default()),
        };
        entries.push(CollectionEntry {
            name: name.clone(),
            kind: meta.kind.clone(),
            sha256: data_file.as_ref().map(|_| stats.sha256.clone()),
            data_file,
            metadata_file,
            documents: stats.documents,
            bytes: stats.bytes,
            metadata_sha256: hex(&Sha256::digest(text.as_bytes())),
            cluster_time: None,
        });
    }
    Ok(entries)
}

/// A date, and maybe a time, in a backup's name: `dump_20261128`, `daraa-2026-11-28`,
/// `backup_20261128_0300`, `mongo-2026-11-28T03-00-00.archive.gz`. UTC.
pub fn time_in_name(name: &str) -> Option<Timestamp> {
    let bytes = name.as_bytes();
    for start in 0..bytes.len() {
        if start > 0 && bytes[start - 1].is_ascii_digit() {
            continue;
        }
        let rest = &name[start..];
        let (date, after) = if let Some(d) = take_digits(rest, &[4, 2, 2], b'-') {
            d
        } else if let Some(d) = take_digits(rest, &[8], b'-') {
            d
        } else {
            continue;
        };
        let (y, m, d) = (
            date[..4].parse::<i16>().ok()?,
            date[4..6].parse::<i8>().ok()?,
            date[6..8].parse::<i8>().ok()?,
        );
        if !(2000..=2100).contains(&y) {
            continue;
        }
        let Ok(day) = jiff::civil::Date::new(y, m, d) else { continue };
        let time = after
            .strip_prefix(['_', '-', 'T', '.'])
            .and_then(|t| {
                take_digits(t, &[2, 2, 2], b'-')
                    .or_else(|| take_digits(t, &[2, 2, 2], b':'))
                    .or_else(|| take_digits(t, &[6], b'-'))
                    .or_else(|| take_digits(t, &[4], b'-'))
            })
            .and_then(|(t, _)| {
                let hour = t[..2].parse::<i8>().ok()?;
                let minute = t[2..4].parse::<i8>().ok()?;
                let second = if t.len() == 6 { t[4..6].parse::<i8>().ok()? } else { 0 };
                jiff::civil::Time::new(hour, minute, second, 0).ok()
            })
            .unwrap_or(jiff::civil::Time::midnight());
        return day.to_datetime(time).to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp());
    }
    None
}

/// Groups of digits of the given widths, joined by `sep` when there is more than one group,
/// not followed by another digit; returns the digits and what follows.
fn take_digits<'a>(s: &'a str, widths: &[usize], sep: u8) -> Option<(String, &'a str)> {
    let bytes = s.as_bytes();
    let mut pos = 0;
    let mut out = String::new();
    for (i, w) in widths.iter().enumerate() {
        if i > 0 {
            if bytes.get(pos) != Some(&sep) {
                return None;
            }
            pos += 1;
        }
        let group = bytes.get(pos..pos + w)?;
        if !group.iter().all(u8::is_ascii_digit) {
            return None;
        }
        out.push_str(&s[pos..pos + w]);
        pos += w;
    }
    if bytes.get(pos).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((out, &s[pos..]))
}

fn modified(source: &Resolved) -> anyhow::Result<Timestamp> {
    let path = match &source.directory {
        Some(d) => d.clone(),
        None => match &source.storage {
            storage::Storage::Local(l) => l.path(&source.archive_name),
            storage::Storage::S3(_) => {
                return Err(CliError::usage("give the backup's time with --time").into());
            }
        },
    };
    let mtime = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .with_context(|| format!("reading the modification time of {}", path.display()))?;
    Ok(Timestamp::try_from(mtime)?)
}

#[cfg(test)]
mod tests {
    use super::time_in_name;

    #[test]
    fn future_times_are_refused_unless_given_and_allowed() {
        use super::{TimeFrom, check_not_future};
        let source = crate::repo::Resolved::for_tests("dump_20621128.archive.gz");
        let now: jiff::Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        // Within the clock skew: fine.
        assert!(
            check_not_future(&source, t("2026-12-01T00:04:59Z"), TimeFrom::Name, false, now)
                .is_ok()
        );
        let e = check_not_future(&source, t("2062-11-28T00:00:00Z"), TimeFrom::Name, false, now)
            .unwrap_err();
        assert_eq!(e.outcome, crate::error::Outcome::Usage);
        assert!(
            e.message.contains("2062-11-28T00:00:00Z") && e.message.contains("dump_20621128"),
            "{}",
            e.message
        );
        // --allow-future only counts for a time given with --time.
        assert!(
            check_not_future(&source, t("2062-11-28T00:00:00Z"), TimeFrom::Name, true, now)
                .is_err()
        );
        assert!(
            check_not_future(&source, t("2030-01-01T00:00:00Z"), TimeFrom::Option, false, now)
                .is_err()
        );
        assert!(
            check_not_future(&source, t("2030-01-01T00:00:00Z"), TimeFrom::Option, true, now)
                .is_ok()
        );
        assert!(
            check_not_future(&source, t("2030-01-01T00:00:00Z"), TimeFrom::Mtime, true, now)
                .is_err()
        );
    }

    #[test]
    fn times_in_names() {
        let t = |n: &str| time_in_name(n).map(|t| t.to_string());
        assert_eq!(t("dump_20261128.tar.gz").as_deref(), Some("2026-11-28T00:00:00Z"));
        assert_eq!(t("dump_20261128_0315.tar.gz").as_deref(), Some("2026-11-28T03:15:00Z"));
        assert_eq!(
            t("daraa-2026-11-28T03-15-09.archive.gz").as_deref(),
            Some("2026-11-28T03:15:09Z")
        );
        assert_eq!(t("backup-2026-11-28_031509.gz").as_deref(), Some("2026-11-28T03:15:09Z"));
        assert_eq!(t("x20261128").as_deref(), Some("2026-11-28T00:00:00Z"));
        assert_eq!(t("dump_20261399.tar.gz"), None, "no 99th of the 13th month");
        assert_eq!(t("dump_120261128.tar.gz"), None, "nine digits are no date");
        assert_eq!(t("dump.tar.gz"), None);
        assert_eq!(t("backup-1999-01-01"), None);
    }
}
