//! Temporary collections of a restore, in one place: their names, dropping them after a
//! failure, and recovering what a killed restore left behind.
//!
//! Each run has a random token; its collections are `daraa_restore_<token>_<name>` (new data)
//! and, during the swap, `daraa_restore_<token>_old_<name>` (the live collection moved aside).

use bson::Document;
use mongodb::Database;

use crate::mongo::load;

pub const TEMP_PREFIX: &str = "daraa_restore_";

/// The temporary names of one restore run.
#[derive(Debug, Clone)]
pub struct Temps {
    token: String,
}

impl Default for Temps {
    fn default() -> Self {
        Self::new()
    }
}

impl Temps {
    /// A run with a fresh random token.
    pub fn new() -> Self {
        let mut token = [0u8; 3];
        rand::fill(&mut token);
        Temps { token: crate::files::hex(&token) }
    }

    /// Where a collection's new data is loaded.
    pub fn loading(&self, collection: &str) -> String {
        format!("{TEMP_PREFIX}{}_{collection}", self.token)
    }

    /// Where the live collection waits during its swap.
    pub fn aside(&self, collection: &str) -> String {
        format!("{TEMP_PREFIX}{}_old_{collection}", self.token)
    }

    /// Drops this run's loading collections (never a collection moved aside: until the swap
    /// finishes that may be the only copy of the live data).
    pub async fn drop_loading(&self, db: &Database) {
        let prefix = format!("{TEMP_PREFIX}{}_", self.token);
        let Ok(names) = db.list_collection_names().await else { return };
        for n in names
            .iter()
            .filter(|n| n.starts_with(&prefix) && !n[prefix.len()..].starts_with("old_"))
        {
            if let Err(e) = db.collection::<Document>(n).drop().await {
                tracing::warn!("cannot drop temporary collection {n}: {e}");
            }
        }
    }
}

/// Cleans up after a restore that was killed: loading collections are dropped, and a live
/// collection that was moved aside while its replacement had not yet taken its name is renamed
/// back. Returns what was done, for the log.
pub async fn recover(db: &Database) -> mongodb::error::Result<Vec<String>> {
    let names = db.list_collection_names().await?;
    let mut actions = Vec::new();
    for n in names.iter().filter(|n| n.starts_with(TEMP_PREFIX)) {
        let rest = &n[TEMP_PREFIX.len()..];
        let original = rest.split_once('_').and_then(|(_, r)| r.strip_prefix("old_"));
        match original {
            Some(orig) if !names.iter().any(|x| x == orig) => {
                load::rename(db, n, orig).await?;
                actions.push(format!("renamed {n} back to {orig}"));
            }
            // Its name was taken again (a writer recreated the collection): this may be the
            // only copy of the original data, so it stays, and says so every time.
            Some(orig) => {
                actions.push(format!(
                    "kept {n}: it holds what {orig} had before an interrupted restore, and {orig} exists again; compare them and drop one by hand"
                ));
            }
            None => {
                db.collection::<Document>(n).drop().await?;
                actions.push(format!("dropped {n}"));
            }
        }
    }
    Ok(actions)
}
