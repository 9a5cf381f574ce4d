//! A restore job, start to end: the refusals an operator expects (protected and staging
//! databases, masked data into the live one, non-empty collections without `--drop`), the
//! survey of the backup and the target, the restore itself under the target's lock, and the
//! application's cache invalidated afterwards. The command asks the confirmation and prints.

use mongodb::Database;
use serde::Serialize;

use crate::archive::{CollectionEntry, Manifest};
use crate::config::Config;
use crate::error::{CliError, Outcome};
use crate::mongo::{self, load};
use crate::repo::{self, Resolved};

use super::{Options, Survey};

/// What the operator asked for (`restore`'s flags).
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub target: String,
    /// `--to-time`: the base backup and the archived oplog up to this time (docs/pitr.md).
    pub to_time: Option<String>,
    pub target_db: Option<String>,
    pub collections: Option<Vec<String>>,
    pub drop: bool,
    pub dry_run: bool,
    pub mask: bool,
    pub force_protected: bool,
    pub no_cache_invalidation: bool,
    /// `--yes`: confirmed in advance (needed for `--drop` from standard input).
    pub yes: bool,
}

pub use crate::engine::Env;

/// A restore checked and surveyed, not yet started: what a dry run shows and what the
/// confirmation names.
pub struct Prepared {
    pub target_db: String,
    pub source: Resolved,
    pub survey: Survey,
    db: Database,
    mask: Option<std::sync::Arc<crate::mask::Masker>>,
    selected: Vec<String>,
    /// Collections and views in the target: name, type, documents.
    existing: Vec<(String, String, u64)>,
    pub summary: Summary,
    started: std::time::Instant,
    point_in_time: Option<std::sync::Arc<super::PointInTime>>,
}

/// Checks the request, resolves the backup, connects and surveys both sides. Names and
/// protections are checked before anything connects: the server would refuse them half-way.
pub async fn prepare(env: Env<'_>, req: &Request) -> anyhow::Result<Prepared> {
    let cfg = env.cfg;
    let started = std::time::Instant::now();
    let target_db = req.target_db.clone().unwrap_or_else(|| cfg.mongodb.database.clone());
    crate::config::check_restore_target(&target_db).map_err(|m| {
        CliError::usage(format!("--target-db {target_db:?}: {m}; nothing was restored"))
            .with_hint("restore into another database, e.g. --target-db daraa_restored")
    })?;
    for c in req.collections.iter().flatten() {
        if c.is_empty() || c.contains('\0') || c.contains('$') {
            return Err(
                CliError::usage(format!("--collections: {c:?} is not a collection name")).into()
            );
        }
    }
    let mut summary = Summary { target_database: target_db.clone(), ..Summary::default() };
    env.out.summary(&summary);
    let mask = check_masking(cfg, req, &target_db)?;
    summary.masked = req.mask;
    check_protected(cfg, req, &target_db)?;
    let plan = match &req.to_time {
        Some(t) => Some(crate::pitr::plan(cfg, t).await?),
        None => None,
    };
    let target = plan.as_ref().map_or(req.target.as_str(), |p| p.base.as_str());
    let source = repo::resolve(cfg, target).await?;
    summary.to_time = plan.as_ref().map(|p| p.target.pair());
    summary.id = Some(source.id.clone());
    summary.source = Some(source.describe());
    env.out.summary(&summary);
    let mongo = mongo::connect(
        &cfg.mongodb,
        mongo::Role::Job(mongo::privileges::Job::Restore),
        mongo::Access::ReadWrite,
    )
    .await?;
    let db = mongo.client.database(&target_db);
    let survey = super::survey(&source, env.cancel, super::UNCHANGED).await?;
    if survey.streamed {
        check_streamed(req)?;
    }
    let selected = if survey.streamed {
        Vec::new()
    } else {
        select(&survey.manifest, req.collections.as_deref())?
            .into_iter()
            .map(|c| c.name.clone())
            .collect()
    };
    let existing = load::existing(&db, req.dry_run).await?;
    let point_in_time = match plan {
        Some(plan) => Some(std::sync::Arc::new(super::PointInTime::of(cfg, &plan).await?)),
        None => None,
    };
    let mut prepared = Prepared {
        target_db,
        source,
        survey,
        db,
        mask,
        selected,
        existing,
        summary,
        started,
        point_in_time,
    };
    if let Some(p) = &prepared.point_in_time {
        let base_end = prepared
            .survey
            .manifest
            .oplog
            .as_ref()
            .map_or(crate::oplog::Ts::ZERO, |o| o.until.into());
        prepared.summary.chunks = Some(p.chunk_names.clone());
        prepared.summary.chunk_entries = Some(p.replayed_after(base_end));
        env.out.summary(&prepared.summary);
    }
    Ok(prepared)
}

impl Prepared {
    /// `--to-time`: the chunk entries the replay applies (after the backup's end, at or
    /// before the point), the chunks' manifests, and the point.
    pub fn replay_plan(&self) -> Option<(u64, &[String], crate::oplog::Ts)> {
        let p = self.point_in_time.as_ref()?;
        Some((self.summary.chunk_entries?, &p.chunk_names, p.until))
    }

    fn selected(&self) -> impl Iterator<Item = &CollectionEntry> {
        self.survey.manifest.collections.iter().filter(|c| self.selected.contains(&c.name))
    }

    /// A dry run's plan: what each selected collection would become.
    pub fn plan(&mut self, req: &Request) -> Vec<Planned> {
        let plan: Vec<Planned> = self
            .selected()
            .map(|c| {
                let live = self.existing.iter().find(|(n, _, _)| *n == c.name).map(|(_, _, n)| *n);
                Planned {
                    name: c.name.clone(),
                    kind: c.kind.clone(),
                    documents: c.documents,
                    existing_documents: live,
                    action: match live {
                        None => PlannedAction::Create,
                        Some(0) => PlannedAction::CreateExistsEmpty,
                        Some(_) if req.drop => PlannedAction::Replace,
                        Some(_) => PlannedAction::RefusedWithoutDrop,
                    },
                }
            })
            .collect();
        self.summary.dry_run = true;
        self.summary.collections = Some(Collections::Planned(plan.clone()));
        plan
    }

    /// Non-empty collections are replaced only with `--drop`: without it, a refusal; with it,
    /// the question to confirm (None: nothing non-empty is replaced).
    pub fn confirmation(&self, req: &Request) -> anyhow::Result<Option<String>> {
        let occupied: Vec<String> = self
            .selected()
            .filter(|c| live_count(&self.existing, &c.name).is_some_and(|n| n > 0))
            .map(|c| c.name.clone())
            .collect();
        if occupied.is_empty() {
            return Ok(None);
        }
        let list = occupied.join(", ");
        let target_db = &self.target_db;
        if !req.drop {
            return Err(CliError::usage(format!("{target_db} already has data in: {list}"))
                .with_hint("pass --drop to replace them, --target-db to restore elsewhere, or --collections to pick others")
                .into());
        }
        Ok(Some(format!(
            "Replace {} non-empty collection(s) in {target_db} ({list})?",
            occupied.len()
        )))
    }
}

/// What a restore did: the engine's report, its tally, and what happened to the cache.
pub struct Restored {
    pub report: super::Report,
    pub outcome: Outcome,
    pub documents: u64,
    pub bytes: u64,
    pub seconds: f64,
    /// Keys deleted under these prefixes (None: no Redis configured, or not the live database).
    pub cache_invalidated: Option<(u64, Vec<String>)>,
}

/// Restores under the target database's lock, then clears the application's cache after a
/// restore into the live database. A cache that cannot be cleared makes the restore a partial
/// success (exit 5): the application would serve stale data until the keys expire.
pub async fn run(env: Env<'_>, mut p: Prepared, req: &Request) -> anyhow::Result<Restored> {
    let cfg = env.cfg;
    let opts = Options {
        collections: req.collections.clone(),
        replace: req.drop,
        parallel_collections: cfg.restore.parallel_collections,
        insertion_workers: cfg.restore.insertion_workers,
        mask: p.mask.take(),
        progress: crate::output::progress::Progress::new(env.out),
        point_in_time: p.point_in_time.clone(),
    };
    let result = crate::lock::with(cfg, &p.target_db, "restore", env.cancel, async || {
        super::restore(&p.db, &p.source, &p.survey, &opts, env.cancel).await
    })
    .await;
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(f) = e.downcast_ref::<super::Failed>() {
                p.summary.collections = Some(Collections::Restored(f.collections.clone()));
                env.out.summary(&p.summary);
            }
            return Err(e);
        }
    };
    let seconds = p.started.elapsed().as_secs_f64();
    let documents = report.collections.iter().map(|c| c.after_replay.unwrap_or(c.inserted)).sum();
    let bytes = report
        .collections
        .iter()
        .filter_map(|c| report.manifest.collection(&c.name))
        .map(|c| c.bytes)
        .sum();
    let mut s = p.summary;
    s.documents = Some(documents);
    s.bytes = Some(bytes);
    s.duration_seconds = Some(seconds);
    s.swap = Some(report.swap);
    s.oplog.clone_from(&report.oplog);
    s.collections = Some(Collections::Restored(report.collections.clone()));
    let mut outcome = Outcome::Ok;
    let mut cache_invalidated = None;
    if p.target_db == cfg.mongodb.database && !req.no_cache_invalidation {
        match invalidate_cache(cfg).await {
            Ok(None) => {}
            Ok(Some((n, prefixes))) => {
                s.cache_keys_invalidated = Some(n);
                cache_invalidated = Some((n, prefixes));
            }
            Err(e) => {
                s.cache_invalidation_error = Some(e);
                outcome = Outcome::Partial;
            }
        }
    }
    env.out.summary(&s);
    Ok(Restored { report, outcome, documents, bytes, seconds, cache_invalidated })
}

/// From standard input the backup is known only as it is read: no dry run, and `--drop` only
/// with `--yes` (there is no list of collections to confirm).
fn check_streamed(req: &Request) -> Result<(), CliError> {
    if req.dry_run {
        return Err(CliError::usage("--dry-run needs a backup file, not standard input")
            .with_hint("save the stream to a file first, or restore into an empty --target-db"));
    }
    if req.drop && !req.yes {
        return Err(CliError::usage(
            "--drop from standard input needs --yes: its collections are not known before it is read",
        ));
    }
    Ok(())
}

/// Masked data never goes into the live database or a protected one (not even with
/// `--force-protected`), and a staging database only ever receives masked data. Checked, and the
/// key read, before anything connects.
fn check_masking(
    cfg: &Config,
    req: &Request,
    target_db: &str,
) -> anyhow::Result<Option<std::sync::Arc<crate::mask::Masker>>> {
    let staging = cfg.masking.staging_databases.iter().any(|s| s == target_db);
    if !req.mask {
        if staging && !req.dry_run {
            return Err(CliError::usage(format!(
                "database {target_db} is in masking.staging_databases: it only receives masked data; nothing was restored"
            ))
            .with_hint("add --mask")
            .into());
        }
        return Ok(None);
    }
    if target_db == cfg.mongodb.database {
        return Err(CliError::usage(format!(
            "refusing to write masked data into the live database {target_db}; nothing was restored"
        ))
        .with_hint("restore into a staging or scratch database with --target-db")
        .into());
    }
    if cfg.restore.protected_databases.iter().any(|p| p == target_db) {
        return Err(CliError::usage(format!(
            "refusing to write masked data into {target_db}, a protected database (restore.protected_databases); nothing was restored"
        ))
        .into());
    }
    crate::mask::load(&cfg.masking).map(Some)
}

/// A protected database is written only with `--force-protected`: `--yes` does not do it,
/// because scripts pass `--yes` for `--drop` and the protection must hold exactly there.
fn check_protected(cfg: &Config, req: &Request, target_db: &str) -> anyhow::Result<()> {
    if cfg.restore.protected_databases.iter().any(|p| p == target_db)
        && !req.force_protected
        && !req.dry_run
    {
        return Err(CliError::usage(format!(
            "database {target_db} is in restore.protected_databases; nothing was restored"
        ))
        .with_hint("restore into another database with --target-db, or pass --force-protected")
        .into());
    }
    Ok(())
}

/// The collections `--collections` picks (all without it); each named one must exist.
fn select<'m>(
    manifest: &'m Manifest,
    wanted: Option<&[String]>,
) -> anyhow::Result<Vec<&'m CollectionEntry>> {
    if let Some(missing) = wanted.into_iter().flatten().find(|w| manifest.collection(w).is_none()) {
        return Err(CliError::usage(format!(
            "collection {missing} is not in backup {}",
            manifest.id
        ))
        .with_hint(format!(
            "it holds: {}",
            manifest.collections.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
        ))
        .into());
    }
    Ok(manifest.collections.iter().filter(|c| wanted.is_none_or(|w| w.contains(&c.name))).collect())
}

fn live_count(existing: &[(String, String, u64)], name: &str) -> Option<u64> {
    existing
        .iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, kind, n)| if kind == "view" { 1 } else { *n })
}

/// Deletes the configured cache prefixes: the keys deleted and the prefixes, `Ok(None)` when
/// no Redis is configured. The error is the operator's message: the restore succeeded, the
/// cache did not follow.
async fn invalidate_cache(cfg: &Config) -> Result<Option<(u64, Vec<String>)>, String> {
    let Some(r) = &cfg.redis else { return Ok(None) };
    let result = match crate::cache::connect(r).await {
        Ok(mut conn) => crate::cache::invalidate(&mut conn, &r.cache_prefixes)
            .await
            .map_err(|e| format!("cache invalidation failed: {e}")),
        Err(e) => Err(format!("cache invalidation skipped: {e}")),
    };
    match result {
        Ok(n) => Ok(Some((n, r.cache_prefixes.clone()))),
        Err(what) => {
            tracing::error!(
                "{what}; the restore is complete but the application may serve stale data: clear the keys under {:?} by hand",
                r.cache_prefixes
            );
            Err(what)
        }
    }
}

/// The JSON summary of `restore` (docs/cli.md).
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    target_database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    /// `--to-time`: the point restored to (`T,I` and time).
    #[serde(skip_serializing_if = "Option::is_none")]
    to_time: Option<String>,
    /// `--to-time`: the oplog chunks read after the backup (their manifests), and how many of
    /// their entries fall after the backup's end and at or before the point (replayed).
    #[serde(skip_serializing_if = "Option::is_none")]
    chunks: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chunk_entries: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dry_run: bool,
    /// `--mask`: the masking rules were applied (per collection counts in `collections`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    masked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    collections: Option<Collections>,
    #[serde(skip_serializing_if = "Option::is_none")]
    documents: Option<u64>,
    /// BSON bytes of the restored collections, as the manifest counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    /// `atomic` (renameCollection with dropTarget) or `two-step` (the server lacks it).
    #[serde(skip_serializing_if = "Option::is_none")]
    swap: Option<super::swap::SwapMode>,
    /// The backup's oplog replayed (absent: the backup holds none).
    #[serde(skip_serializing_if = "Option::is_none")]
    oplog: Option<super::replay::Replayed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<f64>,
    /// Keys deleted after a restore into the live database (null: no Redis configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_keys_invalidated: Option<u64>,
    /// Why the cache could not be invalidated (exit 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_invalidation_error: Option<String>,
}

/// The plan of a dry run, or what the restore did.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Collections {
    Planned(Vec<Planned>),
    Restored(Vec<super::CollectionReport>),
}

/// One collection of a dry run.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub documents: u64,
    pub existing_documents: Option<u64>,
    pub action: PlannedAction,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub enum PlannedAction {
    #[serde(rename = "create")]
    Create,
    #[serde(rename = "create (exists, empty)")]
    CreateExistsEmpty,
    #[serde(rename = "replace")]
    Replace,
    #[serde(rename = "refused without --drop")]
    RefusedWithoutDrop,
}

impl PlannedAction {
    pub fn text(self) -> &'static str {
        match self {
            PlannedAction::Create => "create",
            PlannedAction::CreateExistsEmpty => "create (exists, empty)",
            PlannedAction::Replace => "replace",
            PlannedAction::RefusedWithoutDrop => "refused without --drop",
        }
    }
}
