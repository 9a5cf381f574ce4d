//! Step 2 of a restore: indexes on the complete temporary collections, then each live
//! collection replaced by a rename, then views.

use std::collections::BTreeMap;

use anyhow::Context as _;
use bson::Document;
use mongodb::Database;

use super::temps::{Mode, Phase, Renames, Target, Temps};
use super::{Action, CollectionReport, Kind, Options};
use crate::archive::{CollectionMetadata, Manifest};
use crate::mongo::load;
use crate::outcome::CliError;

fn restored(collections: &mut [CollectionReport]) -> impl Iterator<Item = &mut CollectionReport> {
    collections.iter_mut().filter(|c| c.action != Action::Skipped)
}

pub(super) async fn build_indexes(
    db: &Database,
    collections: &mut [CollectionReport],
    metadata: &BTreeMap<String, CollectionMetadata>,
    temps: &Temps,
) -> anyhow::Result<()> {
    for c in restored(collections) {
        let indexes = metadata.get(&c.name).map(|m| m.indexes.as_slice()).unwrap_or_default();
        c.indexes = load::create_indexes(db, temps.target(&c.name).name(), indexes)
            .await
            .with_context(|| format!("building the indexes of {}", c.name))?;
    }
    Ok(())
}

/// Without `--drop` only empty collections may be replaced. Checked for all of them before the
/// first rename, so a conflict never leaves some collections swapped and others not (the
/// command checks upfront too; this catches data written while the restore ran).
pub(super) async fn check_still_empty(
    db: &Database,
    collections: &[CollectionReport],
    live: &[String],
    temps: &Temps,
) -> anyhow::Result<()> {
    let replaced = |c: &&CollectionReport| {
        c.action != Action::Skipped
            && live.contains(&c.name)
            && matches!(temps.target(&c.name), Target::Temp(_))
    };
    for c in collections.iter().filter(replaced) {
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
    Ok(())
}

/// How the server lets a restore replace a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SwapMode {
    /// `renameCollection` with `dropTarget` (MongoDB): one server-side step per collection.
    Atomic,
    /// Without `dropTarget` (FerretDB): the live collection is renamed aside, the new one
    /// into place, then the old one dropped.
    TwoStep,
}

/// Finds out (by doing it on scratch collections) whether `dropTarget` works here and whether
/// dotted names can be renamed; records the latter in `temps` with the live collections, so
/// that every later step knows where each collection is loaded.
pub(super) async fn probe(
    db: &Database,
    temps: &mut Temps,
    live: &[String],
) -> anyhow::Result<SwapMode> {
    let atomic = load::supports_drop_target(db, &temps.probe("a"), &temps.probe("b"))
        .await
        .context("probing renameCollection with dropTarget")?;
    let dotted = load::renames_dotted(db, &temps.probe("c.d"), &temps.probe("e.f"))
        .await
        .context("probing renameCollection of a dotted name")?;
    temps.plan(Renames { dotted }, live);
    Ok(if atomic { SwapMode::Atomic } else { SwapMode::TwoStep })
}

pub(super) async fn swap(
    db: &Database,
    collections: &mut [CollectionReport],
    live: &[String],
    temps: &Temps,
    mode: SwapMode,
) -> anyhow::Result<()> {
    temps.commit_in_place(db).await.context("recording the restore's progress")?;
    for c in restored(collections) {
        let existed = live.contains(&c.name);
        let temp = match temps.target(&c.name) {
            // Already under its own name, complete.
            Target::InPlace(_) => continue,
            Target::Temp(t) => t,
        };
        if temps.needs_copy(&c.name) {
            copy_replace(db, &c.name, &temp, temps).await?;
        } else {
            match mode {
                // Even where the collection did not exist before, an application may have
                // created it meanwhile: dropTarget replaces whatever holds the name then.
                SwapMode::Atomic => load::rename_replacing(db, &temp, &c.name)
                    .await
                    .with_context(|| format!("moving the restored {} into place", c.name))?,
                SwapMode::TwoStep if existed => two_step(db, &c.name, &temp, temps).await?,
                SwapMode::TwoStep => load::rename(db, &temp, &c.name).await.with_context(|| {
                    format!(
                        "moving the restored {} into place (did an application create it during the restore?)",
                        c.name
                    )
                })?,
            }
        }
        if existed {
            c.action = Action::Replaced;
        }
    }
    Ok(())
}

/// A live collection the server cannot rename, replaced by copying: the live data is copied
/// aside first (live untouched), then the live name is emptied and refilled from the new
/// data. From the moment the live name is emptied until it is complete again, the journal says
/// `replacing` and both complete versions exist (aside and new): a failure puts the aside copy
/// back at once, a kill leaves that to the next restore's recovery.
async fn copy_replace(db: &Database, name: &str, temp: &str, temps: &Temps) -> anyhow::Result<()> {
    let aside = temps.aside(name);
    let journal = |phase| temps.journal(db, name, Mode::Copy, phase);
    journal(Phase::Loading).await.context("recording the restore's progress")?;
    if let Err(e) = load::copy_collection(db, name, &aside).await {
        let _ = db.collection::<Document>(&aside).drop().await;
        let _ = temps.forget(db, name).await;
        return Err(e.context(format!("copying the live {name} aside; it is unchanged")));
    }
    journal(Phase::Replacing).await.context("recording the restore's progress")?;
    let replaced = async {
        db.collection::<Document>(name).drop().await?;
        load::copy_collection(db, temp, name).await
    }
    .await;
    if let Err(e) = replaced {
        let back = async {
            db.collection::<Document>(name).drop().await?;
            load::copy_collection(db, &aside, name).await?;
            db.collection::<Document>(&aside).drop().await?;
            temps.forget(db, name).await?;
            anyhow::Ok(())
        }
        .await;
        let whereabouts = match back {
            Ok(()) => format!("{name} holds its original data again"),
            Err(_) => {
                format!("its original data is kept whole in {aside}; the next restore puts it back")
            }
        };
        return Err(
            e.context(format!("replacing {name} with the restored data failed: {whereabouts}"))
        );
    }
    journal(Phase::Done).await.context("recording the restore's progress")?;
    db.collection::<Document>(&aside)
        .drop()
        .await
        .with_context(|| format!("dropping the previous {name}"))?;
    db.collection::<Document>(temp).drop().await?;
    temps.forget(db, name).await?;
    Ok(())
}

/// Live aside, new into place, old dropped. If the second rename fails (an application wrote
/// to the name in between and so recreated it), the original data is put back when the name
/// is free again, and otherwise kept under its aside name: it is never dropped while it may be
/// the only copy.
async fn two_step(db: &Database, name: &str, temp: &str, temps: &Temps) -> anyhow::Result<()> {
    let aside = temps.aside(name);
    load::rename(db, name, &aside)
        .await
        .with_context(|| format!("moving the live {name} aside"))?;
    if let Err(e) = load::rename(db, temp, name).await {
        let restored_back = load::rename(db, &aside, name).await.is_ok();
        let whereabouts = if restored_back {
            format!("{name} holds its original data again")
        } else {
            format!(
                "{name} was recreated by a writer during the swap; its original data is kept in {aside}"
            )
        };
        return Err(anyhow::Error::new(e).context(format!(
            "moving the restored {name} into place failed: {whereabouts}; stop the application's writers and restore again"
        )));
    }
    db.collection::<Document>(&aside)
        .drop()
        .await
        .with_context(|| format!("dropping the previous {name}"))?;
    Ok(())
}

/// Views last, once their source collections exist.
pub(super) async fn create_views(
    db: &Database,
    manifest: &Manifest,
    metadata: &BTreeMap<String, CollectionMetadata>,
    opts: &Options,
    live: &[String],
    collections: &mut Vec<CollectionReport>,
) -> anyhow::Result<()> {
    for entry in manifest.collections.iter().filter(|c| c.kind == "view" && opts.wanted(&c.name)) {
        let options = metadata.get(&entry.name).map(|m| m.options.clone()).unwrap_or_default();
        let mut action = Action::Created;
        if live.contains(&entry.name) {
            db.collection::<Document>(&entry.name).drop().await?;
            action = Action::Replaced;
        }
        load::create_view(db, &entry.name, &options)
            .await
            .with_context(|| format!("creating view {}", entry.name))?;
        collections.push(CollectionReport {
            name: entry.name.clone(),
            kind: Kind::View,
            action,
            ..Default::default()
        });
    }
    Ok(())
}
