//! The two deflate implementations side by side, for scripts/bench.sh --codecs: a file cut into
//! the backup's 256 KiB chunks, each compressed alone into a gzip member on one thread, by
//! zlib-rs (flate2, what the readers use) and by libdeflate (what the backup writes), at each
//! level. Seconds are wall time of the one thread (medians of `--reps`), sizes the sum of the
//! members. No probe: incompressible chunks are deflated too.
//!
//!     deflaters --input raw.bson [--reps 3]
#![allow(clippy::print_stdout)]

use std::time::Instant;

use flate2::{Compress, Compression, FlushCompress, Status};

const CHUNK: usize = 256 * 1024;
const LEVELS: [u32; 6] = [1, 3, 4, 5, 6, 9];

fn zlib_rs(data: &[u8], level: u32) -> anyhow::Result<usize> {
    let mut deflate = Compress::new_gzip(Compression::new(level), 15);
    let mut out = Vec::with_capacity(CHUNK + CHUNK / 8);
    let mut total = 0;
    for chunk in data.chunks(CHUNK) {
        deflate.reset();
        out.clear();
        // Room for the worst case: one call ends the member.
        let status = deflate.compress_vec(chunk, &mut out, FlushCompress::Finish)?;
        anyhow::ensure!(status == Status::StreamEnd, "zlib-rs did not finish a member");
        total += out.len();
    }
    Ok(total)
}

fn libdeflate(data: &[u8], level: u32) -> anyhow::Result<usize> {
    let level = libdeflater::CompressionLvl::new(i32::try_from(level)?)
        .map_err(|e| anyhow::anyhow!("level {level}: {e:?}"))?;
    let mut compressor = libdeflater::Compressor::new(level);
    let mut out = vec![0; compressor.gzip_compress_bound(CHUNK)];
    let mut total = 0;
    for chunk in data.chunks(CHUNK) {
        total += compressor
            .gzip_compress(chunk, &mut out)
            .map_err(|e| anyhow::anyhow!("libdeflate: {e:?}"))?;
    }
    Ok(total)
}

fn main() -> anyhow::Result<()> {
    let (mut input, mut reps) = (None, 3_usize);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| anyhow::anyhow!("{arg} needs a value"));
        match arg.as_str() {
            "--input" => input = Some(value()?),
            "--reps" => reps = value()?.parse()?,
            _ => anyhow::bail!("usage: deflaters --input FILE [--reps N]"),
        }
    }
    let input = input.ok_or_else(|| anyhow::anyhow!("--input is required"))?;
    let data = std::fs::read(&input)?;
    print!("| level | zlib-rs s | zlib-rs MB | libdeflate s | libdeflate MB ");
    println!("| time libdeflate / zlib-rs | size libdeflate / zlib-rs |");
    println!("|---|---|---|---|---|---|---|");
    for level in LEVELS {
        let mut runs: [(Vec<f64>, usize); 2] = [(Vec::new(), 0), (Vec::new(), 0)];
        for _ in 0..reps {
            for (k, (times, size)) in runs.iter_mut().enumerate() {
                let start = Instant::now();
                *size = if k == 0 { zlib_rs(&data, level)? } else { libdeflate(&data, level)? };
                times.push(start.elapsed().as_secs_f64());
            }
        }
        let median = |times: &mut Vec<f64>| {
            times.sort_by(f64::total_cmp);
            times[times.len() / 2]
        };
        let (zt, zs) = (median(&mut runs[0].0), runs[0].1);
        let (lt, ls) = (median(&mut runs[1].0), runs[1].1);
        println!(
            "| {level} | {zt:.2} | {:.2} | {lt:.2} | {:.2} | {:.2} | {:.3} |",
            zs as f64 / 1e6,
            ls as f64 / 1e6,
            lt / zt,
            ls as f64 / zs as f64
        );
    }
    Ok(())
}
