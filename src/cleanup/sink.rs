//! Where a cleanup rule's archived batches go: files in a storage (the local archive folder
//! or S3, through the same `Storage` as backups) or another collection. A part is written
//! and made durable (fsync'd, or uploaded with its size and MD5 ETag checked, or counted back)
//! before its documents are deleted.

use bson::{Bson, RawDocumentBuf, doc};
use mongodb::{Collection, Database};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::{PartInfo, id_of};
use crate::archive::crypt::Recipients;
use crate::config::{ArchiveTarget, CleanupRule, Config};
use crate::error::CliError;
use crate::files::hex;
use crate::storage::Storage;
use crate::storage::local::LocalStore;
use crate::storage::s3::S3Store;

/// Where archived batches go.
pub enum Sink {
    /// Part files named `<base>/part-NNNNNN.bson.gz` (`base` empty for a local folder);
    /// `.bson.gz.age` when encrypted to `recipients` (`backup.encryption`).
    Files {
        storage: Storage,
        base: String,
        recipients: Option<Recipients>,
    },
    Collection {
        coll: Collection<RawDocumentBuf>,
        name: String,
    },
}

/// The run-level manifest, written when a rule ends (also when it stops early).
#[derive(Debug, Serialize)]
pub(super) struct RunManifest<'a> {
    pub format: &'static str,
    pub database: &'a str,
    pub collection: &'a str,
    pub rule: &'a str,
    pub run: &'a str,
    pub cutoff: &'a str,
    pub parts: u32,
    pub documents: u64,
    pub bytes: u64,
    pub stopped: super::Stopped,
    pub completed_at: String,
}

impl Sink {
    pub async fn for_rule(
        cfg: &Config,
        db: &Database,
        rule: &CleanupRule,
        run_id: &str,
    ) -> anyhow::Result<Sink> {
        let recipients = crate::repo::recipients(cfg)?;
        let rel = format!("{}/{}/{run_id}", cfg.mongodb.database, rule.name);
        match rule.archive_to {
            Some(ArchiveTarget::S3) => {
                let s3 = cfg.s3.as_ref().ok_or_else(|| {
                    CliError::usage(format!(
                        "cleanup rule {}: archive_to s3 needs the s3 section",
                        rule.name
                    ))
                })?;
                let storage = Storage::S3(Box::new(S3Store::new(s3).await));
                Ok(Sink::Files { storage, base: format!("cleanup/{rel}"), recipients })
            }
            Some(ArchiveTarget::Local) => {
                let base = rule
                    .archive_dir
                    .clone()
                    .or_else(|| cfg.cleanup.archive_dir.clone())
                    .unwrap_or_else(|| cfg.backup.dir.join("archive"));
                let storage = Storage::Local(LocalStore::new(base.join(rel)));
                Ok(Sink::Files { storage, base: String::new(), recipients })
            }
            Some(ArchiveTarget::Collection) => {
                let name = rule.archive_collection.clone().unwrap_or_default();
                Ok(Sink::Collection { coll: db.collection(&name), name })
            }
            None => {
                Err(CliError::usage(format!("cleanup rule {} has no archive_to", rule.name)).into())
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Sink::Files { storage, base, .. } if base.is_empty() => storage.describe(),
            Sink::Files { storage, base, .. } => format!("{}{base}", storage.describe()),
            Sink::Collection { name, .. } => format!("collection {name}"),
        }
    }

    fn file(base: &str, name: &str) -> String {
        if base.is_empty() { name.to_owned() } else { format!("{base}/{name}") }
    }

    /// Writes one batch and makes sure it is stored; returns only when it is.
    pub(super) async fn write_part(
        &self,
        part: &PartInfo,
        docs: &[RawDocumentBuf],
    ) -> anyhow::Result<()> {
        match self {
            Sink::Collection { coll, name } => {
                insert_ignoring_duplicates(coll, docs).await?;
                let ids: Vec<Bson> = docs.iter().filter_map(id_of).collect();
                let n = coll.count_documents(doc! {"_id": {"$in": &ids}}).await?;
                if n != ids.len() as u64 {
                    anyhow::bail!(
                        "archive collection {name} holds {n} of the {} documents just written",
                        ids.len()
                    );
                }
                Ok(())
            }
            Sink::Files { storage, base, recipients } => {
                let (data, meta) = encode_part(part, docs, recipients.as_ref())?;
                let stem = part.file_stem();
                let ext = if recipients.is_some() { ".bson.gz.age" } else { ".bson.gz" };
                storage
                    .put_bytes_durable(&Self::file(base, &format!("{stem}{ext}")), &data)
                    .await?;
                storage
                    .put_bytes_durable(&Self::file(base, &format!("{stem}.json")), &meta)
                    .await?;
                Ok(())
            }
        }
    }

    pub(super) async fn write_manifest(&self, manifest: &RunManifest<'_>) -> anyhow::Result<()> {
        let data = serde_json::to_vec_pretty(manifest)?;
        match self {
            Sink::Collection { .. } => Ok(()),
            Sink::Files { storage, base, .. } => {
                storage.put_bytes_durable(&Self::file(base, "manifest.json"), &data).await?;
                Ok(())
            }
        }
    }
}

async fn insert_ignoring_duplicates(
    coll: &Collection<RawDocumentBuf>,
    docs: &[RawDocumentBuf],
) -> anyhow::Result<()> {
    match coll.insert_many(docs).ordered(false).await {
        Ok(_) => Ok(()),
        Err(e) => match e.kind.as_ref() {
            // A retry after a crash: the copies already there are the same documents.
            mongodb::error::ErrorKind::InsertMany(ime)
                if ime.write_concern_error.is_none()
                    && ime
                        .write_errors
                        .as_ref()
                        .is_some_and(|w| w.iter().all(|w| w.code == 11000)) =>
            {
                Ok(())
            }
            _ => Err(e.into()),
        },
    }
}

/// A part file: gzip of the raw BSON (the same as a `mongodump --gzip` `.bson.gz`), sealed
/// with age for `recipients` when set, and its JSON manifest with counts and checksums (those
/// of the stored file are of what is stored: the ciphertext when encrypted).
pub(super) fn encode_part(
    part: &PartInfo,
    docs: &[RawDocumentBuf],
    recipients: Option<&Recipients>,
) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    use std::io::Write as _;
    let mut raw_hash = Sha256::new();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    for d in docs {
        raw_hash.update(d.as_bytes());
        gz.write_all(d.as_bytes())?;
    }
    let mut data = gz.finish()?;
    let mut meta = part.clone();
    if let Some(r) = recipients {
        data = crate::archive::crypt::seal_bytes(&data, r)?;
        meta.encryption = Some(r.record());
    }
    meta.sha256 = hex(&raw_hash.finalize());
    meta.compressed_bytes = data.len() as u64;
    meta.compressed_sha256 = hex(&Sha256::digest(&data));
    Ok((data, serde_json::to_vec_pretty(&meta)?))
}
