//! A backup's oplog (`backup.oplog`, docs/pitr.md): where the oplog stood before the dump,
//! then every entry of the database written while it ran ([`window`]), where `mongodump
//! --oplog` puts it: the tar member `oplog.bson` ([`finish`]), or the archive format's oplog
//! namespace (`backup::stream`). A restore replays them, so the backup stands for one point
//! in time: the oplog's newest entry once the dump had ended.

use std::io::Write as _;

use anyhow::Context as _;
use bson::Timestamp;
use sha2::{Digest as _, Sha256};

use super::Env;
use super::pipeline::{self, Member, Sender, Stage};
use crate::archive::manifest::{ClusterTime, OplogSlice};
use crate::config::OplogMode;
use crate::files::hex;
use crate::mongo::oplog as server;

/// Where the oplog stood when the dump began, or why the backup takes none.
#[derive(Debug, Clone)]
pub(super) enum Start {
    At(Timestamp),
    Without(String),
}

/// Before the dump. With `backup.oplog: auto` (the default) a server without an oplog, or one
/// this user may not read, gives a backup that says it is not point-in-time; with `true` it
/// is an error.
pub(super) async fn begin(
    env: Env<'_>,
    client: &mongodb::Client,
    no_oplog: bool,
) -> anyhow::Result<Start> {
    let mode = env.cfg.backup.oplog;
    if no_oplog {
        return Ok(Start::Without("taken with --no-oplog".into()));
    }
    if mode == OplogMode::Off {
        return Ok(Start::Without("backup.oplog is false".into()));
    }
    let found = async {
        let newest = server::newest(client).await?;
        let replica_set = server::is_replica_set(client).await?;
        mongodb::error::Result::Ok(match (newest, replica_set) {
            (Some(ts), _) => Ok(ts),
            (None, true) => Ok(Timestamp { time: 0, increment: 0 }),
            (None, false) => Err("the server keeps no oplog (not a replica-set member)".to_owned()),
        })
    }
    .await;
    let why_not = match found {
        Ok(Ok(ts)) => return Ok(Start::At(ts)),
        Ok(Err(why)) => why,
        Err(e) => format!(
            "cannot read {}.{}: {}",
            server::DATABASE,
            server::COLLECTION,
            crate::mongo::describe_error(&e)
        ),
    };
    if mode == OplogMode::On {
        return Err(crate::error::CliError::new(
            crate::error::Outcome::Failed,
            format!("backup.oplog is true, but {why_not}"),
        )
        .with_hint(
            "run against a replica-set member and grant the backup user find on local.oplog.rs \
             (docs/pitr.md), or set backup.oplog: auto",
        )
        .into());
    }
    Ok(Start::Without(why_not))
}

/// The oplog written while the dump ran, as [`window`] read it.
pub(super) struct Window {
    pub until: Timestamp,
    pub entries: u64,
    pub bytes: u64,
    pub sha256: String,
    /// Why a restore cannot replay this window (a drop or a rename in it).
    pub refused: Option<String>,
}

impl Window {
    /// What the manifest records: the slice, or why the backup is not point-in-time.
    pub fn slice(self, start: Timestamp, member: &str) -> Result<OplogSlice, String> {
        if let Some(why) = self.refused {
            tracing::warn!("this backup is not point-in-time: {why}");
            return Err(why);
        }
        let ct = |t: Timestamp| ClusterTime::from(crate::oplog::Ts::from(t));
        Ok(OplogSlice {
            member: member.to_owned(),
            from: ct(start),
            until: ct(self.until),
            entries: self.entries,
            bytes: self.bytes,
            sha256: self.sha256,
        })
    }
}

/// After the dump: hands every entry of the database from `start` to the oplog's newest to
/// `sink`, in order (on FerretDB after settling, see below; MongoDB shows no entry before
/// every earlier one is visible). Only the collections the backup takes; a window in which
/// a collection was dropped or renamed is marked `refused`: a restore could not replay it
/// faithfully.
pub(super) async fn window(
    env: Env<'_>,
    client: &mongodb::Client,
    start: Timestamp,
    mut sink: impl FnMut(&[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<Window> {
    // FerretDB writes an entry in a transaction of its own just after the change: a change
    // the dump saw may get its entry a moment later. A second before reading `until`, and a
    // second before reading the entries up to it.
    let settle = !server::is_replica_set(client).await?;
    if settle {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let until = server::newest(client).await?.unwrap_or(start);
    if settle {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let db = env.cfg.mongodb.database.clone();
    let mut hasher = Sha256::new();
    let (mut entries, mut bytes) = (0u64, 0u64);
    let mut refused: Option<String> = None;
    server::read(client, start, until, env.cancel, |raw| {
        let entry = crate::oplog::Entry::parse(&raw)?;
        if !crate::oplog::keep(&entry, &db) {
            return Ok(());
        }
        // Only the collections the backup takes (include/exclude_collections).
        let takes = |c: &str| env.cfg.backup.takes(c);
        let Some(raw) = crate::oplog::only_taken(&raw, &entry, &db, &takes)? else {
            return Ok(());
        };
        if refused.is_none() {
            refused = unreplayable(&entry);
        }
        hasher.update(raw.as_bytes());
        sink(raw.as_bytes())?;
        entries += 1;
        bytes += raw.as_bytes().len() as u64;
        Ok(())
    })
    .await
    .context("reading the oplog written during the dump")?;
    Ok(Window { until, entries, bytes, sha256: hex(&hasher.finalize()), refused })
}

/// The tar backup's oplog: [`window`] staged like a collection, then the member
/// `oplog.bson`; a window a restore cannot replay is left out of the archive.
pub(super) async fn finish(
    env: Env<'_>,
    client: &mongodb::Client,
    start: Timestamp,
    stage: &Stage,
    tx: &Sender,
) -> anyhow::Result<Result<OplogSlice, String>> {
    // A name no collection's staged file can have (a collection's name is escaped, and an
    // escaped `%` is always `%25`): a collection named `oplog` stages as `oplog.bson.gz`.
    let (path, mut out) = stage.create("%oplog.bson")?;
    let window = window(env, client, start, |raw| {
        tokio::task::block_in_place(|| out.write_all(raw)).map_err(Into::into)
    })
    .await?;
    let staged = tokio::task::block_in_place(|| pipeline::finish_staged(out, window.bytes))
        .with_context(|| format!("cannot write {}", path.display()))?;
    let member = crate::archive::tar::layout::OPLOG;
    let slice = window.slice(start, member);
    if slice.is_err() {
        let _ = std::fs::remove_file(&path);
        return Ok(slice);
    }
    pipeline::send(tx, Member::File { name: member.to_owned(), path, staged })?;
    Ok(slice)
}

/// Why an entry makes the window's oplog one a restore cannot replay faithfully: a
/// collection dropped or renamed, the database dropped (also inside `applyOps`).
fn unreplayable(entry: &crate::oplog::Entry) -> Option<String> {
    let command = entry.command()?;
    let what = match command {
        "drop" | "renameCollection" | "dropDatabase" => command,
        "applyOps" => {
            let nested = entry.o.get_array("applyOps").ok()?;
            nested
                .iter()
                .filter_map(bson::Bson::as_document)
                .filter(|op| op.get_str("op").is_ok_and(|o| o == "c"))
                .filter_map(|op| op.get_document("o").ok()?.keys().next().cloned())
                .find(|c| matches!(c.as_str(), "drop" | "renameCollection" | "dropDatabase"))
                .map(|_| "applyOps with a drop or rename")?
        }
        _ => return None,
    };
    Some(format!(
        "{what} on {} at {} while the dump ran: the oplog of this window is not stored",
        entry.ns, entry.ts
    ))
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::unreplayable;
    use crate::oplog::{Entry, Ts};

    fn entry(d: &bson::Document) -> Entry {
        Entry::from_doc(d, Ts { t: 5, i: 1 }).unwrap()
    }

    /// Shapes from MongoDB 7's oplog (tests/fixtures/mongodb7/oplog/history.json).
    #[test]
    fn drops_and_renames_keep_the_window_out_of_the_backup() {
        let drop = entry(&doc! {"op": "c", "ns": "d.$cmd", "o": {"drop": "carts"}});
        let why = unreplayable(&drop).unwrap();
        assert!(why.starts_with("drop on d.$cmd at") && why.contains("(5,1)"), "{why}");
        let rename = entry(&doc! {"op": "c", "ns": "d.$cmd",
        "o": {"renameCollection": "d.a", "to": "d.b", "stayTemp": false}});
        assert!(unreplayable(&rename).is_some());
        let nested = entry(&doc! {"op": "c", "ns": "admin.$cmd", "o": {"applyOps": [
            {"op": "i", "ns": "d.a", "o": {"_id": 1}},
            {"op": "c", "ns": "d.$cmd", "o": {"drop": "a"}},
        ]}});
        assert!(unreplayable(&nested).is_some());
        for fine in [
            doc! {"op": "c", "ns": "d.$cmd", "o": {"create": "new"}},
            doc! {"op": "c", "ns": "d.$cmd", "o": {"createIndexes": "a", "v": 2, "key": {"x": 1}, "name": "x_1"}},
            doc! {"op": "i", "ns": "d.a", "o": {"_id": 1}},
            doc! {"op": "c", "ns": "admin.$cmd", "o": {"applyOps": [{"op": "i", "ns": "d.a", "o": {"_id": 1}}]}},
        ] {
            assert_eq!(unreplayable(&entry(&fine)), None, "{fine}");
        }
    }
}
