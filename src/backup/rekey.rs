//! `rekey`: re-encrypts existing backups for the configured recipients (key rotation, or
//! encrypting backups written before encryption was on), without decompressing or dumping
//! again (docs/encryption.md).
//!
//! Per backup: the stored file is read once (its size and SHA-256 checked against the
//! sidecar), decrypted with the configured identities and encrypted to the new recipients
//! into a temporary file beside the backups; that file is then opened with the configured
//! identities and verified in full against the manifest. Only then does it replace the old
//! archive in each storage that holds the backup (S3 first, local last), in four writes:
//! the sidecar naming the new file as `replacing`, the new file, the final sidecar, and (when
//! the name changed: a plaintext archive encrypted) the old file deleted. A kill between any
//! two leaves a backup that verifies (the stored file is the old or the `replacing` one) and
//! a rerun finishes it; the temporary file of a killed run is removed by the next one.

use std::io::{BufWriter, Read as _, Write as _};

use anyhow::Context as _;
use serde::Serialize;

use super::Env;
use crate::archive::crypt::{self, Identities, Recipients, Sealer};
use crate::archive::hashing::{HashingReader, HashingWriter};
use crate::archive::{ArchiveInfo, Sidecar, walk};
use crate::error::{CliError, Outcome};
use crate::repo::{self, Entry};
use crate::storage::{self, Storage};

/// One backup `rekey` re-encrypted (or would, with `--dry-run`).
#[derive(Debug, Clone, Serialize)]
pub struct Rekeyed {
    pub id: String,
    /// The recipients it was encrypted for before; empty when it was not encrypted.
    pub from: Vec<String>,
    pub archive: String,
    pub size: u64,
    /// Where it was replaced: `local`, `s3`.
    pub storages: Vec<&'static str>,
}

#[derive(Debug, Default, Serialize)]
pub struct RekeyReport {
    pub dry_run: bool,
    pub recipients: Vec<String>,
    pub rekeyed: Vec<Rekeyed>,
    /// Backups already encrypted for exactly these recipients.
    pub unchanged: Vec<String>,
}

/// Re-encrypts the complete backups named by `ids` (all when empty) whose recipients differ
/// from the configured ones. Holds the backup lock: no backup or prune runs meanwhile.
pub async fn rekey(env: Env<'_>, ids: &[String], dry_run: bool) -> anyhow::Result<RekeyReport> {
    let cfg = env.cfg;
    let recipients = repo::recipients(cfg)?.ok_or_else(|| {
        CliError::usage("backup.encryption has no recipients: there is nothing to re-encrypt to")
            .with_hint("set backup.encryption.recipients (or recipients_files) to the new keys")
    })?;
    let identities = repo::load_identities(&cfg.backup.encryption.identity_files)?;
    let opens_new = identities.as_ref().is_some_and(|i| i.opens_any(recipients.names()));
    if !dry_run && !opens_new {
        return Err(CliError::usage(
            "none of backup.encryption.identity_files is one of the new recipients: rekey proves that each new archive opens before it replaces the old one",
        )
        .with_hint(
            "add the new key's identity file to backup.encryption.identity_files (beside the old one while rotating)",
        )
        .into());
    }
    let local = storage::local(cfg)?;
    crate::lock::with(cfg, &cfg.mongodb.database, "backup", env.cancel, async || {
        // We hold the lock: any temporary file of a rekey is a killed run's.
        remove_temporaries(&local.dir);
        let found = backups(cfg, ids).await?;
        let mut report = RekeyReport {
            dry_run,
            recipients: recipients.names().to_vec(),
            ..RekeyReport::default()
        };
        for (entry, holders) in found {
            let sidecar = entry.sidecar.clone().context("a complete backup has a sidecar")?;
            let from = sidecar
                .archive
                .encryption
                .as_ref()
                .map(|e| e.recipients.clone())
                .unwrap_or_default();
            if sidecar.archive.encryption.is_some()
                && recipients.same_as(&from)
                && sidecar.archive.replacing.is_none()
            {
                // Done; an interrupted run may have left the plaintext file beside it.
                if !dry_run {
                    for s in &holders {
                        finish_stale(s, &entry, &sidecar).await?;
                    }
                }
                report.unchanged.push(entry.id.clone());
                continue;
            }
            let storages: Vec<&'static str> = holders.iter().map(Storage::kind).collect();
            if dry_run {
                report.rekeyed.push(Rekeyed {
                    id: entry.id.clone(),
                    from,
                    archive: entry.archive_name(),
                    size: sidecar.archive.size,
                    storages,
                });
                continue;
            }
            let ids = identities.as_ref().expect("checked above");
            let done = one(env, &local, &entry, &sidecar, &holders, &recipients, ids).await?;
            report.rekeyed.push(Rekeyed { from, storages, ..done });
        }
        anyhow::Ok(report)
    })
    .await
}

/// Complete backups by id, with every storage that holds each (local first).
async fn backups(
    cfg: &crate::config::Config,
    ids: &[String],
) -> anyhow::Result<Vec<(Entry, Vec<Storage>)>> {
    let mut found: Vec<(Entry, Vec<Storage>)> = Vec::new();
    for s in storage::all(cfg).await {
        let entries = repo::scan(&s, &cfg.backup.name_prefix, &cfg.mongodb.database)
            .await
            .with_context(|| format!("listing {}", s.describe()))?;
        for e in entries.into_iter().filter(|e| e.complete) {
            if !ids.is_empty() && !ids.contains(&e.id) {
                continue;
            }
            match found.iter_mut().find(|(f, _)| f.id == e.id) {
                Some((_, holders)) => holders.push(s.clone()),
                None => found.push((e, vec![s.clone()])),
            }
        }
    }
    if let Some(missing) = ids.iter().find(|id| !found.iter().any(|(e, _)| &e.id == *id)) {
        return Err(CliError::usage(format!("no complete backup with id {missing}"))
            .with_hint("see `daraa-ops list`")
            .into());
    }
    Ok(found)
}

/// Re-encrypts one backup and puts it in place in every storage that holds it.
async fn one(
    env: Env<'_>,
    local: &storage::local::LocalStore,
    entry: &Entry,
    sidecar: &Sidecar,
    holders: &[Storage],
    recipients: &Recipients,
    identities: &Identities,
) -> anyhow::Result<Rekeyed> {
    let base = entry.suffix.strip_suffix(crypt::SUFFIX).unwrap_or(entry.suffix);
    let new_name = format!("{}{base}{}", entry.id, crypt::SUFFIX);
    std::fs::create_dir_all(&local.dir)
        .with_context(|| format!("cannot create {}", local.dir.display()))?;
    let tmp = local.dir.join(format!(".{}.rekey", entry.id));
    let _ = std::fs::remove_file(&tmp);
    let cleanup = tmp.clone();
    let _abort = crate::signal::on_abort(move || async move {
        let _ = std::fs::remove_file(&cleanup);
    });
    let result = async {
        let source = repo::Resolved {
            id: entry.id.clone(),
            storage: holders[0].clone(),
            archive_name: entry.archive_name(),
            sidecar: Some(sidecar.clone()),
            directory: None,
            stdin: false,
            identity_files: env.cfg.backup.encryption.identity_files.clone(),
            in_catalog: false,
        };
        let (size, sha256) = reencrypt(env, &source, &tmp, recipients).await?;
        check_new(env, &source, &tmp, identities).await?;
        let new_info = ArchiveInfo::new(new_name.clone(), size, sha256, Some(recipients.record()));
        let new_sidecar = Sidecar { manifest: sidecar.manifest.clone(), archive: new_info.clone() };
        let bytes = serde_json::to_vec_pretty(&new_sidecar)?;
        // S3 copies first: the local rename consumes the temporary file.
        let mut ordered: Vec<&Storage> = holders.iter().collect();
        ordered.sort_by_key(|s| matches!(s, Storage::Local(_)));
        for s in ordered {
            // The sidecar in the storage now, as rekey read it, says what is coming.
            let current = current_sidecar(s, entry).await?.unwrap_or_else(|| sidecar.clone());
            let mut pending = current.clone();
            pending.archive.replacing = Some(Box::new(new_info.clone()));
            let stored = current.archive.file.clone();
            s.put_bytes(&entry.sidecar_name(), &serde_json::to_vec_pretty(&pending)?).await?;
            s.put_file(&new_name, &tmp, env.cancel).await?;
            s.put_bytes(&entry.sidecar_name(), &bytes).await?;
            // Any other archive file of this backup (the plaintext one when it was encrypted,
            // also one an earlier, interrupted rekey left).
            for name in [stored, other_name(&new_name)] {
                if name != new_name {
                    s.delete(&[name]).await?;
                }
            }
        }
        anyhow::Ok(Rekeyed {
            id: entry.id.clone(),
            from: Vec::new(),
            archive: new_name.clone(),
            size,
            storages: Vec::new(),
        })
    }
    .await;
    let _ = std::fs::remove_file(&tmp);
    result.with_context(|| {
        format!(
            "re-encrypting backup {} (each copy holds its old archive, or the new one its sidecar already names: it verifies either way; run `daraa-ops rekey` again to finish)",
            entry.id
        )
    })
}

/// Reads the stored archive (checked against the sidecar's size and SHA-256), decrypts it and
/// writes it encrypted to `recipients` into `tmp`; returns the new file's size and SHA-256.
async fn reencrypt(
    env: Env<'_>,
    source: &repo::Resolved,
    tmp: &std::path::Path,
    recipients: &Recipients,
) -> anyhow::Result<(u64, String)> {
    let bar = env.progress.bytes(&source.id, source.sidecar.as_ref().map_or(0, |s| s.archive.size));
    // An interrupted rekey's sidecar names the old file; the stored one may be the new.
    let raw = bar.reader(source.raw_reader().await?);
    let expected = source.sidecar.as_ref().map(|s| s.archive.clone());
    let cancel = env.cancel.clone();
    let (tmp, recipients) = (tmp.to_path_buf(), recipients.clone());
    let described = source.describe();
    let opener = source.clone();
    tokio::task::spawn_blocking(move || {
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut hashing = HashingReader::new(raw);
        let mut plain = crate::signal::CancelReader::new(opener.decrypt(&mut hashing)?, cancel);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut out =
            Sealer::new(HashingWriter::new(BufWriter::with_capacity(1 << 20, file)), Some(&recipients))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match plain.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(e, &described)),
            };
            out.write_all(&buf[..n]).with_context(|| format!("cannot write {}", tmp.display()))?;
        }
        drop(plain);
        let (buf, size, sha) = out.finish()?.into_parts();
        buf.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()?;
        let read = hashing.finish();
        // The stored file is the sidecar's, or the one an interrupted rekey was putting in
        // its place.
        if let Some(expected) = expected
            && expected.matches(read.0, &read.1).is_none()
        {
            return Err(CliError::new(
                Outcome::Drift,
                format!(
                    "{described}: the stored archive differs from the one written ({} bytes, sha256 {}; the sidecar says {} bytes, sha256 {})",
                    read.0, read.1, expected.size, expected.sha256
                ),
            )
            .with_hint("run `daraa-ops verify` on it; a damaged backup is not re-encrypted")
            .into());
        }
        bar.clear();
        Ok((size, sha))
    })
    .await?
}

/// Temporary files of earlier rekeys (`.<id>.rekey`): killed runs' (the caller holds the lock).
fn remove_temporaries(dir: &std::path::Path) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".rekey") {
            tracing::info!("removing {} left by an interrupted rekey", e.path().display());
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The backup's sidecar as the storage holds it now.
async fn current_sidecar(s: &Storage, entry: &Entry) -> anyhow::Result<Option<Sidecar>> {
    Ok(s.get_bytes(&entry.sidecar_name())
        .await?
        .and_then(|b| serde_json::from_slice::<Sidecar>(&b).ok()))
}

/// The archive's name encrypted (`.age` added) or not (removed).
fn other_name(name: &str) -> String {
    name.strip_suffix(crypt::SUFFIX)
        .map_or_else(|| format!("{name}{}", crypt::SUFFIX), str::to_owned)
}

/// A rekey killed after its final sidecar and before it deleted the old file (a plaintext
/// archive that was encrypted): that file goes now.
async fn finish_stale(s: &Storage, entry: &Entry, sidecar: &Sidecar) -> anyhow::Result<()> {
    let kept = &sidecar.archive.file;
    let other = other_name(kept);
    let listed = s.list().await?;
    if listed.iter().any(|o| o.name == other) && listed.iter().any(|o| &o.name == kept) {
        tracing::info!(
            "backup {}: removing {other} from {}, left by an interrupted rekey",
            entry.id,
            s.describe()
        );
        s.delete(&[other]).await?;
    }
    Ok(())
}

/// A payload failing authentication is a damaged archive (exit 6); anything else is a read
/// error.
fn read_error(e: std::io::Error, what: &str) -> anyhow::Error {
    if crypt::is_tampered(&e) {
        return CliError::new(Outcome::Drift, format!("{what}: {e}"))
            .with_hint("this archive cannot be trusted; it was not re-encrypted")
            .into();
    }
    anyhow::Error::new(e).context(format!("reading {what}"))
}

/// Opens the new file with the configured identities and verifies it in full against the
/// backup's manifest.
async fn check_new(
    env: Env<'_>,
    source: &repo::Resolved,
    tmp: &std::path::Path,
    identities: &Identities,
) -> anyhow::Result<()> {
    let manifest = source.sidecar.as_ref().map(|s| s.manifest.clone());
    let file =
        std::fs::File::open(tmp).with_context(|| format!("cannot open {}", tmp.display()))?;
    let plain =
        crypt::open(std::io::BufReader::with_capacity(1 << 20, file), identities).map_err(|e| {
            anyhow::anyhow!("the re-encrypted file {} does not open: {e:?}", tmp.display())
        })?;
    let cancel = env.cancel.clone();
    let checked = tokio::task::spawn_blocking(move || {
        walk::verify(crate::signal::CancelReader::new(plain, cancel), manifest.as_ref())
    })
    .await?;
    checked.map(|_| ()).map_err(|e| source.archive_error(e, env.cancel, "the old archive is kept"))
}
