//! `verify <ID|latest|PATH>`: stream the archive (local, S3 or a path) and check every member
//! against the manifest and the sidecar; exit 6 naming the first mismatch.

use std::io::Read;
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::archive::SourceFormat;
use crate::archive::foreign::Checksums;
use crate::archive::reader::{self, ArchiveError};
use crate::catalog;
use crate::cli::VerifyArgs;
use crate::context::Context;
use crate::files::hex;
use crate::outcome::CliError;
use crate::outcome::Outcome;

/// Hashes and counts what is read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

pub async fn run(ctx: &Context, args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let resolved = catalog::resolve(cfg, &args.target).await?;
    let source = resolved.describe();
    let mut summary =
        Summary { id: resolved.id.clone(), source: source.clone(), ..Summary::default() };
    // Emitted now so that a failed verify still names what it read.
    ctx.out.summary(&summary);
    let started = Instant::now();
    let reader = resolved.reader().await?;
    let expected = resolved.sidecar.as_ref().map(|s| s.manifest.clone());
    let cancel = ctx.cancel.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut hashing = HashingReader { inner: reader, hasher: Sha256::new(), bytes: 0 };
        // `verify` reads the gzip stream to its end, so the hash covers the whole file.
        let verified = reader::verify(
            crate::signal::CancelReader::new(&mut hashing, cancel),
            expected.as_ref(),
        )?;
        Ok::<_, ArchiveError>((verified, hashing.bytes, hex(&hashing.hasher.finalize())))
    })
    .await?;
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
        && (s.archive.size != size || s.archive.sha256 != sha)
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
        match (verified.format, checksums) {
            (_, Checksums::Sha256) if resolved.sidecar.is_some() => String::new(),
            (_, Checksums::Sha256) => {
                " (no sidecar: checked against the archive's own manifest)".to_owned()
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
}

/// The archive file as read: its size and SHA-256.
#[derive(Debug, serde::Serialize)]
struct ArchiveChecked {
    size: u64,
    sha256: String,
}
