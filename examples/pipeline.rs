//! The archive pipeline alone, for scripts/bench.sh: raw BSON from a file to a `.tar.gz` on
//! disk through the same writer `backup` uses (tar framing, parallel multi-member gzip,
//! SHA-256 of the output, fsync). Prints one JSON line.
//!
//!     pipeline --input raw.bson --out out.tar.gz [--level 6] [--threads 2] [--encrypt]
//!
//! `--encrypt`: the archive is an age file for a recipient made for the run
//! (`backup.encryption`).
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut input: Option<PathBuf> = None;
    let mut out: Option<PathBuf> = None;
    let (mut level, mut threads) = (6u32, 2usize);
    let mut encrypt = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| anyhow::anyhow!("{a} needs a value"));
        match a.as_str() {
            "--input" => input = Some(value()?.into()),
            "--out" => out = Some(value()?.into()),
            "--level" => level = value()?.parse()?,
            "--threads" => threads = value()?.parse()?,
            "--encrypt" => encrypt = true,
            _ => anyhow::bail!(
                "usage: pipeline --input FILE --out FILE [--level N] [--threads N] [--encrypt]"
            ),
        }
    }
    let input = input.ok_or_else(|| anyhow::anyhow!("--input is required"))?;
    let out = out.ok_or_else(|| anyhow::anyhow!("--out is required"))?;
    let bytes = std::fs::metadata(&input)?.len();
    let _ = std::fs::remove_file(&out);
    let recipients = encrypt.then(|| {
        let key = daraa_ops::archive::crypt::EphemeralKey::generate();
        key.recipients().clone()
    });
    let t0 = Instant::now();
    let mut w = daraa_ops::archive::tar::writer::ArchiveWriter::create(
        &out,
        level,
        threads,
        0,
        recipients.as_ref(),
    )?;
    w.append_file("db/collection.bson", &input)?;
    let (size, _sha) = w.finish()?;
    let seconds = t0.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "bytes": bytes,
            "seconds": seconds,
            "mb_per_s": bytes as f64 / 1e6 / seconds,
            "compressed": size,
            "ratio": bytes as f64 / size as f64,
            "level": level,
            "threads": threads,
            "encrypted": encrypt,
        })
    );
    Ok(())
}
