//! `verify <ID|latest|PATH>`: stream the archive (local, S3 or a path) and check every member
//! against the manifest and the sidecar; exit 6 naming the first mismatch.

use std::io::Read;
use std::time::Instant;

use crate::archive::SourceFormat;
use crate::archive::foreign::Checksums;
use crate::archive::reader::{self, ArchiveError};
use crate::archive::writer::HashingReader;
use crate::catalog;
use crate::cli::VerifyArgs;
use crate::context::Context;
use crate::outcome::CliError;
use crate::outcome::Outcome;

pub async fn run(ctx: &Context, args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let resolved = catalog::resolve(cfg, &args.target).await?;
    let record = resolved.clone();
    let result = verify(ctx, resolved).await;
    // The result goes beside a catalog backup (`list` and `describe` show it); an
    // interrupted verify says nothing about the backup.
    let about_the_backup = result.as_ref().err().is_none_or(catalog::about_the_backup);
    if !ctx.cancel.is_cancelled() && about_the_backup {
        let contents = ctx.out.get("encryption").and_then(|e| e.get("contents_checked").cloned());
        let check = catalog::Check {
            at: catalog::now_rfc3339(),
            ok: matches!(result, Ok(Outcome::Ok)),
            error: result.as_ref().err().map(|e| format!("{e:#}")),
            contents_checked: Some(contents.and_then(|c| c.as_bool()).unwrap_or(true)),
            restore_seconds: None,
        };
        catalog::record_check(&record, catalog::CheckKind::Verify, check).await;
    }
    result
}

async fn verify(ctx: &Context, resolved: catalog::Resolved) -> anyhow::Result<Outcome> {
    let source = resolved.describe();
    let mut summary =
        Summary { id: resolved.id.clone(), source: source.clone(), ..Summary::default() };
    // Emitted now so that a failed verify still names what it read.
    ctx.out.summary(&summary);
    let started = Instant::now();
    let size = resolved.sidecar.as_ref().map_or(0, |s| s.archive.size);
    let bar = crate::output::progress::Progress::new(&ctx.out).bytes(&resolved.id, size);
    let raw: Box<dyn Read + Send> = Box::new(bar.reader(resolved.raw_reader().await?));
    let encryption = resolved.sidecar.as_ref().and_then(|s| s.archive.encryption.clone());
    summary.encryption = encryption
        .as_ref()
        .map(|e| EncryptionChecked { recipients: e.recipients.clone(), contents_checked: false });
    if resolved.encrypted()
        && resolved.identity_files.is_empty()
        && let Some(sidecar) = &resolved.sidecar
    {
        return keyless(ctx, &resolved, sidecar, raw, summary, started, bar).await;
    }
    let expected = resolved.sidecar.as_ref().map(|s| s.manifest.clone());
    let cancel = ctx.cancel.clone();
    let resolved = std::sync::Arc::new(resolved);
    let opener = std::sync::Arc::clone(&resolved);
    let outcome = tokio::task::spawn_blocking(move || {
        let mut hashing = HashingReader::new(raw);
        // The hash is of the file as stored (the ciphertext when encrypted); `verify` reads
        // the stream to its end, so it covers the whole file.
        let plain = opener.decrypt(&mut hashing).map_err(Opened::Failed)?;
        let verified =
            reader::verify(crate::signal::CancelReader::new(plain, cancel), expected.as_ref())
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
        interrupted_rekey(ctx, &resolved.id);
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
    ctx.out.line(format!(
        "verified {}: {} collection(s), {} document(s), {} of BSON, {} members, {:.1} MB/s{}",
        resolved.id,
        m.totals.collections + m.totals.views,
        m.totals.documents,
        crate::output::human_bytes(m.totals.bytes),
        verified.members,
        m.totals.bytes as f64 / 1e6 / secs.max(1e-6),
        checked_note(verified.format, checksums, resolved.sidecar.is_some())
    ));
    summary.format = Some(verified.format);
    summary.checksums = Some(checksums);
    summary.totals = Some(m.totals.clone());
    summary.archive = Some(ArchiveChecked { size, sha256: sha });
    summary.sidecar_checked = Some(resolved.sidecar.is_some());
    summary.duration_seconds = Some(secs);
    ctx.out.summary(&summary);
    Ok(Outcome::Ok)
}

/// The stored file is the one an interrupted `rekey` was putting in place: whole, but the
/// sidecar still names the old one.
fn interrupted_rekey(ctx: &Context, id: &str) {
    ctx.out.line(format!(
        "note: {id} is the new archive of an interrupted rekey (its sidecar still names the old one); run `daraa-ops rekey {id}` to finish"
    ));
}

/// What a verify checked against, when it was less than a daraa-ops sidecar.
fn checked_note(format: SourceFormat, checksums: Checksums, sidecar: bool) -> String {
    match (format, checksums) {
        (_, Checksums::Sha256) if sidecar => String::new(),
        (_, Checksums::Sha256) => {
            " (no sidecar: checked against the archive's own manifest)".into()
        }
        (format, Checksums::Crc64) => format!(
            " ({}: no daraa-ops manifest; checked structure, BSON, metadata, counts and each collection's CRC-64; `daraa-ops import` records SHA-256 checksums)",
            format.describe()
        ),
        (format, Checksums::None) => format!(
            " ({}: no checksums were recorded; checked structure, BSON, metadata and counts only; `daraa-ops import` records them)",
            format.describe()
        ),
    }
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
    ctx: &Context,
    resolved: &catalog::Resolved,
    sidecar: &crate::archive::Sidecar,
    raw: Box<dyn Read + Send>,
    mut summary: Summary,
    started: Instant,
    bar: crate::output::progress::Bytes,
) -> anyhow::Result<Outcome> {
    let cancel = ctx.cancel.clone();
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
    if sidecar.archive.matches(size, &sha) == Some(true) {
        interrupted_rekey(ctx, &resolved.id);
    }
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
    ctx.out.line(format!(
        "verified {} without a key: the encrypted archive is the one written ({}, SHA-256 as recorded); its contents were not checked: configure backup.encryption.identity_files for a full verify",
        resolved.id,
        crate::output::human_bytes(size)
    ));
    summary.totals = Some(sidecar.manifest.totals.clone());
    summary.archive = Some(ArchiveChecked { size, sha256: sha });
    summary.sidecar_checked = Some(true);
    summary.duration_seconds = Some(secs);
    ctx.out.summary(&summary);
    Ok(Outcome::Ok)
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
