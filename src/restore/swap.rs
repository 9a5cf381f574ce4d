//! Step 2 of a restore: indexes on the complete temporary collections, then each live
//! collection replaced by a rename, then views.

use std::collections::BTreeMap;

use anyhow::Context as _;
use bson::Document;
use mongodb::Database;

use super::temps::Temps;
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
        c.indexes = load::create_indexes(db, &temps.loading(&c.name), indexes)
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
) -> anyhow::Result<()> {
    for c in collections.iter().filter(|c| c.action != Action::Skipped && live.contains(&c.name)) {
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

pub(super) async fn swap(
    db: &Database,
    collections: &mut [CollectionReport],
    live: &[String],
    temps: &Temps,
) -> anyhow::Result<()> {
    for c in restored(collections) {
        let temp = temps.loading(&c.name);
        if live.contains(&c.name) {
            let old = temps.aside(&c.name);
            load::rename(db, &c.name, &old)
                .await
                .with_context(|| format!("moving the live {} aside", c.name))?;
            load::rename(db, &temp, &c.name)
                .await
                .with_context(|| format!("moving the restored {} into place", c.name))?;
            db.collection::<Document>(&old)
                .drop()
                .await
                .with_context(|| format!("dropping the previous {}", c.name))?;
            c.action = Action::Replaced;
        } else {
            load::rename(db, &temp, &c.name)
                .await
                .with_context(|| format!("moving the restored {} into place", c.name))?;
        }
    }
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
