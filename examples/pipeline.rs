//! The archive pipeline alone, for scripts/bench.sh: raw BSON from a file to a `.tar.gz` on
//! disk through the same writers `backup` uses (the data compressed once into a staging file
//! in parallel chunks, then copied after its tar header; SHA-256 of the output, fsync).
//! Prints one JSON line.
//!
//!     pipeline --input raw.bson --out out.tar.gz [--level 6] [--threads 2] [--encrypt]
//!
//! `--encrypt`: the archive is an age file for a recipient made for the run
//! (`backup.encryption`).
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use daraa_ops::archive::crypt::{EphemeralKey, Sealer};
use daraa_ops::archive::tar::writer::{ArchiveWriter, EntryData};

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
    // One key for the archive's recipient and one for the staging file, as `backup` has.
    let keys = encrypt.then(|| (EphemeralKey::generate(), EphemeralKey::generate()));
    let t0 = Instant::now();
    // As `backup` does: the data compressed once into a staging file (chunks in a pool of
    // `threads`, sealed when encrypting), then copied after its tar header.
    let staged = out.with_extension("staged");
    let sealer = Sealer::new(
        std::io::BufWriter::new(std::fs::File::create(&staged)?),
        keys.as_ref().map(|(_, stage)| stage.recipients()),
    )?;
    let mut data = EntryData::new(sealer, daraa_ops::archive::gz::GzPool::new(level, threads));
    std::io::copy(&mut std::io::BufReader::new(std::fs::File::open(&input)?), &mut data)?;
    let (sealer, info) = data.finish(bytes)?;
    sealer.finish()?.into_inner()?.sync_all()?;
    let recipients = keys.as_ref().map(|(archive, _)| archive.recipients());
    let mut w = ArchiveWriter::create(&out, level, 0, recipients)?;
    let file = std::io::BufReader::new(std::fs::File::open(&staged)?);
    let mut members: Box<dyn std::io::Read + Send> = match &keys {
        Some((_, stage)) => stage.open(file)?,
        None => Box::new(file),
    };
    w.append_compressed("db/collection.bson", info, &mut members)?;
    std::fs::remove_file(&staged)?;
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
