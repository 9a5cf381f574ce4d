//! Step 2 of a restore: indexes on the complete temporary collections, then each live
//! collection replaced by a rename, then views.

use std::collections::BTreeMap;

use anyhow::Context as _;
use bson::Document;
use mongodb::Database;

use super::temps::{Mode, Phase, Renames, Target, Temps};
use super::{Action, CollectionReport, Kind, Options};
use crate::archive::{CollectionMetadata, Manifest};
use crate::error::CliError;
use crate::mongo::load;

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

/// One collection's replacement, decided before anything is replaced (pure: unit-tested).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Loaded under its own name already (a dotted name that did not exist): nothing to do.
    InPlace { name: String },
    /// `renameCollection` with `dropTarget`: the new collection replaces whatever holds the
    /// name in one server-side step.
    Replace { temp: String, name: String },
    /// The live collection aside, the new one into place, the old one dropped.
    TwoStep { name: String, temp: String, aside: String },
    /// Nothing holds the name: one rename.
    Rename { temp: String, name: String },
    /// The server cannot rename this name: the live collection is copied aside, then refilled.
    Copy { name: String, temp: String },
}

/// The steps of a swap, in order: `collections` are (name, existed when the swap began).
pub fn plan(collections: &[(String, bool)], temps: &Temps, mode: SwapMode) -> Vec<Step> {
    collections
        .iter()
        .map(|(name, existed)| {
            let name = name.clone();
            let temp = match temps.target(&name) {
                Target::InPlace(_) => return Step::InPlace { name },
                Target::Temp(t) => t,
            };
            if temps.needs_copy(&name) {
                return Step::Copy { name, temp };
            }
            match mode {
                // Even where the collection did not exist before, an application may have
                // created it meanwhile: dropTarget replaces whatever holds the name then.
                SwapMode::Atomic => Step::Replace { temp, name },
                SwapMode::TwoStep if *existed => {
                    Step::TwoStep { aside: temps.aside(&name), name, temp }
                }
                SwapMode::TwoStep => Step::Rename { temp, name },
            }
        })
        .collect()
}

pub(super) async fn swap(
    db: &Database,
    collections: &mut [CollectionReport],
    live: &[String],
    temps: &Temps,
    mode: SwapMode,
) -> anyhow::Result<()> {
    temps.commit_in_place(db).await.context("recording the restore's progress")?;
    let names: Vec<(String, bool)> =
        restored(collections).map(|c| (c.name.clone(), live.contains(&c.name))).collect();
    for (step, (name, existed)) in plan(&names, temps, mode).into_iter().zip(&names) {
        match step {
            Step::InPlace { .. } => continue,
            Step::Replace { temp, name } => load::rename_replacing(db, &temp, &name)
                .await
                .with_context(|| format!("moving the restored {name} into place"))?,
            Step::TwoStep { name, temp, aside } => two_step(db, &name, &temp, &aside).await?,
            Step::Rename { temp, name } => load::rename(db, &temp, &name).await.with_context(|| {
                format!(
                    "moving the restored {name} into place (did an application create it during the restore?)"
                )
            })?,
            Step::Copy { name, temp } => copy_replace(db, &name, &temp, temps).await?,
        }
        if *existed && let Some(c) = collections.iter_mut().find(|c| &c.name == name) {
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
async fn two_step(db: &Database, name: &str, temp: &str, aside: &str) -> anyhow::Result<()> {
    load::rename(db, name, aside).await.with_context(|| format!("moving the live {name} aside"))?;
    if let Err(e) = load::rename(db, temp, name).await {
        let restored_back = load::rename(db, aside, name).await.is_ok();
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
    db.collection::<Document>(aside)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::restore::temps::{Renames, Temps};

    fn fixture(path: &str) -> serde_json::Value {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path);
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    fn reply_says(reply: &serde_json::Value) -> (i32, String) {
        (reply["code"].as_i64().unwrap() as i32, reply["errmsg"].as_str().unwrap().to_owned())
    }

    /// The probe's decision both ways, on replies: FerretDB's refusal means two steps; a
    /// MongoDB refusal for a missing privilege is no refusal of dropTarget (it stops the
    /// restore instead of silently going the slower way).
    #[test]
    fn the_probe_reads_each_server_s_answer() {
        let ferret = fixture("ferretdb/renameCollection.dropTarget.reply.json");
        let (code, msg) = reply_says(&ferret["reply"]);
        assert!(load::refuses_drop_target(code, &msg));
        let mongo = fixture("mongodb7/renameCollection.dropTarget.json");
        let (code, msg) = reply_says(&mongo["reply_unauthorized"]);
        assert!(!load::refuses_drop_target(code, &msg), "{msg}");
        assert!(!load::refuses_drop_target(73, "Invalid namespace specified"));
    }

    /// Where the server has dropTarget, every collection is one renameCollection with
    /// dropTarget, as MongoDB documents it, whether or not it existed; without it, two renames
    /// and a drop for an existing one; dotted names without dotted renames are copied or
    /// loaded in place.
    #[test]
    fn the_swap_s_steps_and_the_commands_the_atomic_path_sends() {
        let mut temps = Temps::new();
        temps.plan(Renames { dotted: true }, &["orders".into()]);
        let names = [("orders".to_owned(), true), ("users".to_owned(), false)];
        let atomic = plan(&names, &temps, SwapMode::Atomic);
        assert_eq!(
            atomic,
            [
                Step::Replace { temp: temps.loading("orders"), name: "orders".into() },
                Step::Replace { temp: temps.loading("users"), name: "users".into() },
            ]
        );
        let Step::Replace { temp, name } = &atomic[0] else { unreachable!() };
        let sent = load::rename_command("daraa", temp, name, true);
        let expected = fixture("mongodb7/renameCollection.dropTarget.json");
        let mut want = expected["command"].clone();
        want["renameCollection"] = format!("daraa.{temp}").into();
        assert_eq!(serde_json::to_value(&sent).unwrap(), want);
        assert_eq!(expected["database"], "admin");
        assert_eq!(
            plan(&names, &temps, SwapMode::TwoStep),
            [
                Step::TwoStep {
                    name: "orders".into(),
                    temp: temps.loading("orders"),
                    aside: temps.aside("orders")
                },
                Step::Rename { temp: temps.loading("users"), name: "users".into() },
            ]
        );
        let mut temps = Temps::new();
        temps.plan(Renames { dotted: false }, &["fs.files".into()]);
        let dotted = [("fs.files".to_owned(), true), ("fs.chunks".to_owned(), false)];
        assert_eq!(
            plan(&dotted, &temps, SwapMode::Atomic),
            [
                Step::Copy { name: "fs.files".into(), temp: temps.loading("fs.files") },
                Step::InPlace { name: "fs.chunks".into() },
            ]
        );
    }
}
