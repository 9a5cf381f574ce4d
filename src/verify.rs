//! Verify a backup: stream the archive (local, S3 or a path) and check every member against
//! the manifest and the sidecar; a mismatch is a failed check (exit 6) naming the first one.
//! An encrypted backup without a key is checked as the file written (size and SHA-256).

use std::io::Read;
use std::time::Instant;

use crate::archive::SourceFormat;
use crate::archive::format::Checksums;
use crate::archive::hashing::HashingReader;
use crate::archive::{ArchiveError, walk};
use crate::error::{CliError, Outcome};
use crate::repo::{self, Resolved};

pub use crate::engine::Env;

/// A verify of a resolved backup: whether its contents could be checked (false: encrypted
/// and no key configured), and the result. Resolving it is the outer error of [`run`].
pub struct Checked {
    pub source: Resolved,
    pub contents_checked: bool,
    pub result: anyhow::Result<Verified>,
}

/// What a verify that passed read.
pub struct Verified {
    pub totals: crate::archive::Totals,
    /// Archive members read (None: encrypted and read without a key).
    pub members: Option<usize>,
    pub format: Option<SourceFormat>,
    pub checksums: Option<Checksums>,
    /// Checked against a daraa-ops sidecar.
    pub sidecar: bool,
    /// Bytes of the stored file.
    pub size: u64,
    pub seconds: f64,
    /// The stored file is the new archive of an interrupted `rekey` (its sidecar still names
    /// the old one).
    pub rekey_pending: bool,
}

/// Verifies the backup `target` (an id, `latest`, a path or `-`).
pub async fn run(env: Env<'_>, target: &str) -> anyhow::Result<Checked> {
    let source = repo::resolve(env.cfg, target).await?;
    let contents_checked = !keyless_only(&source);
    let result = verify(env, source.clone()).await;
    Ok(Checked { source, contents_checked, result })
}

/// An encrypted backup with a sidecar and no identity configured: only the stored file can be
/// checked.
fn keyless_only(resolved: &Resolved) -> bool {
    resolved.encrypted() && resolved.identity_files.is_empty() && resolved.sidecar.is_some()
}

async fn verify(env: Env<'_>, resolved: Resolved) -> anyhow::Result<Verified> {
    let source = resolved.describe();
    let mut summary =
        Summary { id: resolved.id.clone(), source: source.clone(), ..Summary::default() };
    // Emitted now so that a failed verify still names what it read.
    env.out.summary(&summary);
    let started = Instant::now();
    let size = resolved.sidecar.as_ref().map_or(0, |s| s.archive.size);
    let bar = crate::output::progress::Progress::new(env.out).bytes(&resolved.id, size);
    let raw: Box<dyn Read + Send> = Box::new(bar.reader(resolved.raw_reader().await?));
    let encryption = resolved.sidecar.as_ref().and_then(|s| s.archive.encryption.clone());
    summary.encryption = encryption
        .as_ref()
        .map(|e| EncryptionChecked { recipients: e.recipients.clone(), contents_checked: false });
    if keyless_only(&resolved)
        && let Some(sidecar) = &resolved.sidecar
    {
        return keyless(env, &resolved, sidecar, raw, summary, started, bar).await;
    }
    let expected = resolved.sidecar.as_ref().map(|s| s.manifest.clone());
    let cancel = env.cancel.clone();
    let resolved = std::sync::Arc::new(resolved);
    let opener = std::sync::Arc::clone(&resolved);
    let outcome = tokio::task::spawn_blocking(move || {
        let mut hashing = HashingReader::new(raw);
        // The hash is of the file as stored (the ciphertext when encrypted); `verify` reads
        // the stream to its end, so it covers the whole file.
        let plain = opener.decrypt(&mut hashing).map_err(Opened::Failed)?;
        let verified =
            walk::verify(crate::signal::CancelReader::new(plain, cancel), expected.as_ref())
                .map_err(Opened::Archive)?;
        let (size, sha) = hashing.finish();
        Ok::<_, Opened>((verified, size, sha))
    })
    .await?;
    bar.clear();
    let outcome = match outcome {
        Ok(v) => Ok(v),
        Err(Opened::Failed(e)) => return Err(e),
        Err(Opened::Archive(e)) => Err(e),
    };
    if let Some(e) = &mut summary.encryption {
        e.contents_checked = true;
    }
    let mut rekey_pending = false;
    let (verified, size, sha) = match outcome {
        Ok(v) => v,
        Err(ArchiveError::Corrupt(msg)) => {
            return Err(CliError::new(Outcome::Drift, format!("{source}: {msg}"))
                .with_hint(
                    "this archive cannot be trusted; verify another backup (`daraa-ops list`)",
                )
                .into());
        }
        Err(ArchiveError::Io(e)) => {
            return Err(anyhow::Error::new(e).context(format!("reading {source}")));
        }
    };
    if let Some(s) = &resolved.sidecar
        && s.archive.matches(size, &sha) == Some(true)
    {
        rekey_pending = true;
    }
    if let Some(s) = &resolved.sidecar
        && s.archive.matches(size, &sha).is_none()
    {
        return Err(CliError::new(
            Outcome::Drift,
            format!(
                "{source}: archive sha256/size differ from the sidecar ({size} bytes, sha256 {sha})"
            ),
        )
        .into());
    }
    let m = &verified.manifest;
    let secs = started.elapsed().as_secs_f64();
    let checksums = verified.format.checksums();
    summary.format = Some(verified.format);
    summary.checksums = Some(checksums);
    summary.totals = Some(m.totals.clone());
    summary.archive = Some(ArchiveChecked { size, sha256: sha });
    summary.sidecar_checked = Some(resolved.sidecar.is_some());
    summary.duration_seconds = Some(secs);
    env.out.summary(&summary);
    Ok(Verified {
        totals: m.totals.clone(),
        members: Some(verified.members),
        format: Some(verified.format),
        checksums: Some(checksums),
        sidecar: resolved.sidecar.is_some(),
        size,
        seconds: secs,
        rekey_pending,
    })
}

/// Opening an encrypted archive failed (already an outcome), or reading it did.
enum Opened {
    Failed(anyhow::Error),
    Archive(ArchiveError),
}

/// An encrypted backup and no identity configured: the stored file is read to its end and
/// compared with the sidecar's size and SHA-256. That proves the file is the one written,
/// unmodified; its contents (BSON, counts, checksums) need a key (docs/encryption.md).
async fn keyless(
    env: Env<'_>,
    resolved: &Resolved,
    sidecar: &crate::archive::Sidecar,
    raw: Box<dyn Read + Send>,
    mut summary: Summary,
    started: Instant,
    bar: crate::output::progress::Bytes,
) -> anyhow::Result<Verified> {
    let cancel = env.cancel.clone();
    let read = tokio::task::spawn_blocking(move || {
        let mut hashing = HashingReader::new(raw);
        std::io::copy(
            &mut crate::signal::CancelReader::new(&mut hashing, cancel),
            &mut std::io::sink(),
        )?;
        Ok::<_, std::io::Error>(hashing.finish())
    })
    .await?
    .map_err(|e| anyhow::Error::new(e).context(format!("reading {}", resolved.describe())));
    bar.clear();
    let (size, sha) = read?;
    let source = resolved.describe();
    let rekey_pending = sidecar.archive.matches(size, &sha) == Some(true);
    if sidecar.archive.matches(size, &sha).is_none() {
        return Err(CliError::new(
            Outcome::Drift,
            format!(
                "{source}: the encrypted archive differs from the one written ({size} bytes, sha256 {sha}; the sidecar says {} bytes, sha256 {})",
                sidecar.archive.size, sidecar.archive.sha256
            ),
        )
        .with_hint("this archive cannot be trusted; verify another backup (`daraa-ops list`)")
        .into());
    }
    let secs = started.elapsed().as_secs_f64();
    summary.totals = Some(sidecar.manifest.totals.clone());
    summary.archive = Some(ArchiveChecked { size, sha256: sha });
    summary.sidecar_checked = Some(true);
    summary.duration_seconds = Some(secs);
    env.out.summary(&summary);
    Ok(Verified {
        totals: sidecar.manifest.totals.clone(),
        members: None,
        format: None,
        checksums: None,
        sidecar: true,
        size,
        seconds: secs,
        rekey_pending,
    })
}

/// The JSON summary of `verify` (docs/cli.md); a failed verify has only `id` and `source`.
#[derive(Debug, Default, serde::Serialize)]
struct Summary {
    id: String,
    source: String,
    /// What the backup is: a daraa-ops archive or one of mongodump's shapes.
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<SourceFormat>,
    /// What its documents were checked against: `sha256`, `crc64` or `none` (counts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    checksums: Option<Checksums>,
    #[serde(skip_serializing_if = "Option::is_none")]
    totals: Option<crate::archive::Totals>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archive: Option<ArchiveChecked>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sidecar_checked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<f64>,
    /// Set for an encrypted backup: for whom, and whether the contents were checked (with a
    /// key) or only the stored file (without).
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption: Option<EncryptionChecked>,
}

#[derive(Debug, serde::Serialize)]
struct EncryptionChecked {
    recipients: Vec<String>,
    contents_checked: bool,
}

/// The archive file as read: its size and SHA-256.
#[derive(Debug, serde::Serialize)]
struct ArchiveChecked {
    size: u64,
    sha256: String,
}
