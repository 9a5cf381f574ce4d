//! Parallel gzip: input is cut into chunks, each compressed on its own thread into a complete
//! gzip member, and the members are written in order. The output is a multi-member gzip file
//! (RFC 1952 allows it; `gzip -d`, `tar xz` and flate2's `MultiGzDecoder` read it).
//!
//! The same threads write zstd instead for `backup.compression: zstd` ([`Codec`]): each chunk a
//! complete zstd frame, and a series of frames is one zstd stream (RFC 8878; `zstd -d` and
//! the zstd crate's decoder read them all).
//!
//! A chunk whose samples do not compress (random or already compressed bytes) is stored,
//! not deflated: see [`Probe`].
//!
//! The threads are a [`GzPool`]: a writer has its own, or shares one with other writers (a tar
//! backup's staged collections, each compressed once at the archive's level).
//!
//! Memory is bounded: at most `2 × threads` chunks are in flight for a writer with its own
//! threads; on a shared pool as many as the writer asks for (a staged collection: one per pool
//! thread) while it is alone, its share of the threads while others are open
//! ([`GzPool::share`]). Their buffers are reused rather than freed and reallocated (with
//! glibc, a stream of freed 2 MiB blocks raises the mmap threshold and the heap then grows
//! with the amount of data compressed). The members are libdeflate's ([`Gzip`]); the readers
//! stay on flate2 with zlib-rs. The threads are our own ~100 lines rather than gzp's (the
//! parallel-gzip crate): gzp gives each writer threads of its own, where a backup's staged
//! collections share one pool, each with its share of the chunks in flight
//! (docs/architecture.md).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use flate2::{Compress, Compression, FlushCompress};

pub const DEFAULT_CHUNK: usize = 2 * 1024 * 1024;

/// What a pool's chunks become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// gzip members (levels 1-9); a chunk that does not compress is stored ([`Probe`]).
    Gzip,
    /// zstd frames with their content size and checksum (levels 1-19); zstd stores
    /// incompressible blocks by itself.
    Zstd,
}

/// One thread's compressor: a chunk in, one complete member or frame out.
pub(crate) struct Compressor {
    codec: Codec,
    level: u32,
    gzip: Option<Gzip>,
    zstd: Option<zstd::bulk::Compressor<'static>>,
}

impl Compressor {
    pub(crate) fn new(codec: Codec, level: u32) -> Self {
        Compressor { codec, level, gzip: None, zstd: None }
    }

    /// Compresses `data` whole into `out` (cleared first): a gzip member or a zstd frame.
    pub(crate) fn member(&mut self, data: &[u8], mut out: Vec<u8>) -> io::Result<Vec<u8>> {
        out.clear();
        match self.codec {
            Codec::Gzip => {
                let gzip = match &mut self.gzip {
                    Some(g) => g,
                    None => self.gzip.insert(Gzip::new(self.level)?),
                };
                gzip.member(data, &mut out)?;
                Ok(out)
            }
            Codec::Zstd => {
                let zstd = match &mut self.zstd {
                    Some(z) => z,
                    None => {
                        let level = i32::try_from(self.level).map_err(io::Error::other)?;
                        let mut z = zstd::bulk::Compressor::new(level)?;
                        z.include_checksum(true)?;
                        self.zstd.insert(z)
                    }
                };
                out.reserve(zstd::zstd_safe::compress_bound(data.len()));
                zstd.compress_to_buffer(data, &mut out)?;
                Ok(out)
            }
        }
    }
}

/// A thread's gzip members, written by libdeflate: each chunk is whole in memory, which is
/// what libdeflate compresses (one call per member, no stream state to reset), for about a
/// third less CPU than zlib-rs at levels 3-6 (more at 9) and, at level 5, an archive about
/// 1% larger (docs/benchmarks.md, "libdeflate writes the members"). Its header is
/// `GzEncoder`'s but for XFL at level 8 (libdeflate says "best" from 8, flate2 at 9; readers
/// ignore the byte), and so is the trailer (CRC-32, length)
/// (`a_reused_compressor_writes_what_a_new_one_writes_in_gz_encoders_frame`).
struct Gzip {
    probe: Probe,
    /// The configured level, and its compressor.
    level: u32,
    deflate: libdeflater::Compressor,
    /// Level 0, for the chunks the probe stores; made the first time one is.
    stored: Option<libdeflater::Compressor>,
    /// The last member's level (the configured one, or 0: the stored compressor) and how many
    /// times it was compressed; the tests read it.
    last: (u32, u32),
}

fn libdeflate(level: u32) -> io::Result<libdeflater::Compressor> {
    let level = i32::try_from(level)
        .ok()
        .and_then(|l| libdeflater::CompressionLvl::new(l).ok())
        .ok_or_else(|| io::Error::other(format!("gzip level {level} is out of range 0-12")))?;
    Ok(libdeflater::Compressor::new(level))
}

impl Gzip {
    fn new(level: u32) -> io::Result<Self> {
        Ok(Gzip {
            probe: Probe::new(),
            level,
            deflate: libdeflate(level)?,
            stored: None,
            last: (level, 0),
        })
    }

    fn member(&mut self, data: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        let (picked, fraction) = self.probe.judge(data, self.level);
        let compressor = if picked == self.level {
            &mut self.deflate
        } else {
            match &mut self.stored {
                Some(c) => c,
                None => self.stored.insert(libdeflate(0)?),
            }
        };
        // libdeflate writes into a slice, zeroed first, or fails when it is too short (and
        // notices only at the end of a block, up to 300,000 bytes: about the whole chunk).
        // Zeroing the worst case's room for every member would touch a chunk's size of memory
        // per member in flight (docs/benchmarks.md, "libdeflate writes the members"), so a
        // chunk whose sample at least halved gets room for half of it, and one that does not
        // fit is compressed again with room for the worst case, which stored chunks, those
        // that halved less and those not sampled get at once.
        let bound = compressor.gzip_compress_bound(data.len());
        // (A sample that halved was not stored: the probe stores only what saves under 3%.)
        let first = match fraction {
            Some(f) if f <= 0.5 => bound.min(data.len() / 2 + 1024),
            _ => bound,
        };
        let failed = |e| io::Error::other(format!("libdeflate could not write a member: {e:?}"));
        out.resize(first, 0);
        let (written, tries) = match compressor.gzip_compress(data, out) {
            Ok(n) => (n, 1),
            Err(_) if first < bound => {
                out.resize(bound, 0);
                (compressor.gzip_compress(data, out).map_err(failed)?, 2)
            }
            Err(e) => return Err(failed(e)),
        };
        out.truncate(written);
        self.last = (picked, tries);
        Ok(())
    }
}

/// (sequence, input chunk back for reuse, compressed member or error)
type Done = (u64, Vec<u8>, io::Result<Vec<u8>>);

/// One chunk to compress, and where its member goes.
struct Job {
    seq: u64,
    data: Vec<u8>,
    out: Vec<u8>,
    reply: Sender<Done>,
}

/// Compression threads at one level, shared by any number of writers (a backup's staged
/// collections share one pool, so many open collections do not mean many threads). The
/// threads end when the last handle is dropped.
pub struct GzPool {
    jobs: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
    threads: usize,
    /// Writers open on the pool ([`Seat`]).
    writers: AtomicUsize,
}

impl GzPool {
    /// gzip at `level` on `threads` threads.
    pub fn new(level: u32, threads: usize) -> Arc<Self> {
        Self::with_codec(Codec::Gzip, level, threads)
    }

    pub fn with_codec(codec: Codec, level: u32, threads: usize) -> Arc<Self> {
        let threads = threads.max(1);
        let (job_tx, job_rx) = sync_channel::<Job>(threads);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let workers = (0..threads)
            .map(|_| {
                let rx = Arc::clone(&job_rx);
                std::thread::spawn(move || {
                    let mut compressor = Compressor::new(codec, level);
                    loop {
                        // Nothing panics while holding the lock (only `recv` runs under it).
                        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok(Job { seq, data, out, reply }) = job else { return };
                        // A panic would leave the writer waiting for this member forever.
                        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            compressor.member(&data, out)
                        }))
                        .unwrap_or_else(|_| Err(io::Error::other("compression thread panicked")));
                        // The writer may be gone (it failed elsewhere): nothing to do then.
                        let _ = reply.send((seq, data, out));
                    }
                })
            })
            .collect();
        Arc::new(GzPool { jobs: Some(job_tx), workers, threads, writers: AtomicUsize::new(0) })
    }

    /// How many compression threads the pool runs.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Chunks a writer may have in flight now, beside its own bound: no limit for a writer
    /// alone on the pool; the threads shared among the open writers otherwise, rounded up so
    /// that they can all be busy, at least one. A tar backup's collections share one pool:
    /// with 2 threads (one per core on two cores) and the default 4 collections at once, one
    /// chunk each, so each holds two chunks, not three (when each could have two in flight, a
    /// backup of ten times the data peaked higher only because small collections never filled
    /// their three: docs/benchmarks.md, "SIMD found at run time, chunks in flight shared");
    /// the last collection left, or the oplog after the dump, gets every thread again.
    fn share(&self) -> usize {
        match self.writers.load(Ordering::Relaxed) {
            0 | 1 => usize::MAX,
            open => self.threads.div_ceil(open),
        }
    }

    fn submit(&self, job: Job) -> io::Result<()> {
        let jobs = self.jobs.as_ref().ok_or_else(|| io::Error::other("compressor stopped"))?;
        jobs.send(job).map_err(|_| io::Error::other("compression thread died"))
    }
}

/// Whether a chunk is worth compressing. Deflate spends about as much time on bytes that do
/// not compress (random GridFS files, JPEGs, already compressed uploads) as on text, for
/// nothing: such a chunk is stored instead (deflate's stored blocks, level 0, a copy).
/// Samples spread over the chunk (one of 4 KiB per 64 KiB, at least four) are compressed at
/// level 2 first, whose Huffman codes are built for the data (level 1's fixed codes see no
/// gain in base64 text, which deflate still shrinks by a quarter); the chunk is stored only
/// when every sample saves less than [`PROBE_MIN_SAVING`], so a chunk with any compressible
/// part is deflated, and a compressible chunk costs one sample.
struct Probe {
    deflate: Compress,
    out: Vec<u8>,
}

/// Bytes of each sample, and the stretch of a chunk each sample stands for.
const PROBE_SAMPLE: usize = 4 * 1024;
const PROBE_STRIDE: usize = 64 * 1024;
/// The level samples are compressed at.
const PROBE_LEVEL: u32 = 2;
/// Chunks shorter than this are compressed without a probe (a header member, a small tail).
const PROBE_MIN_CHUNK: usize = 64 * 1024;
/// A sample that saves less than this fraction (3%) does not compress.
const PROBE_MIN_SAVING: f64 = 0.03;

impl Probe {
    fn new() -> Self {
        Probe {
            deflate: Compress::new(Compression::new(PROBE_LEVEL), false),
            out: Vec::with_capacity(PROBE_SAMPLE * 2),
        }
    }

    /// The level [`Probe::judge`] picks (the tests' shorthand).
    #[cfg(test)]
    fn level_for(&mut self, data: &[u8], level: u32) -> u32 {
        self.judge(data, level).0
    }

    /// `level`, or 0 when the samples of `data` do not compress; and what the sample that
    /// decided it came to, as a fraction of its size: `None` when nothing was sampled (level
    /// 0, a short chunk).
    fn judge(&mut self, data: &[u8], level: u32) -> (u32, Option<f64>) {
        if level == 0 || data.len() < PROBE_MIN_CHUNK {
            return (level, None);
        }
        let samples = (data.len() / PROBE_STRIDE).max(4);
        let step = data.len() / samples;
        let mut fraction = None;
        for k in 0..samples {
            let sample = &data[k * step..(k * step + PROBE_SAMPLE).min(data.len())];
            self.deflate.reset();
            self.out.clear();
            // Room for a sample that grows (stored blocks add a few bytes): one call ends it.
            self.out.reserve(sample.len() + 64);
            if self.deflate.compress_vec(sample, &mut self.out, FlushCompress::Finish).is_err() {
                return (level, None);
            }
            let came_to = self.out.len() as f64 / sample.len() as f64;
            fraction = Some(came_to);
            if came_to < 1.0 - PROBE_MIN_SAVING {
                return (level, fraction);
            }
        }
        (0, fraction)
    }
}

impl Drop for GzPool {
    fn drop(&mut self) {
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// A writer's place on its pool, counted while it lives ([`GzPool::share`]).
struct Seat(Arc<GzPool>);

impl Seat {
    fn take(pool: Arc<GzPool>) -> Self {
        pool.writers.fetch_add(1, Ordering::Relaxed);
        Seat(pool)
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.writers.fetch_sub(1, Ordering::Relaxed);
    }
}

pub struct ParallelGzWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
    chunk: usize,
    pool: Seat,
    reply: Sender<Done>,
    results: Receiver<Done>,
    next_submit: u64,
    next_write: u64,
    ready: BTreeMap<u64, Vec<u8>>,
    in_flight: usize,
    max_in_flight: usize,
    /// Empty input and output buffers, kept for the next chunks.
    spare_in: Vec<Vec<u8>>,
    spare_out: Vec<Vec<u8>>,
}

impl<W: Write> ParallelGzWriter<W> {
    pub fn new(inner: W, level: u32, threads: usize) -> Self {
        Self::with_chunk(inner, level, threads, DEFAULT_CHUNK)
    }

    /// A writer with its own `threads` compression threads.
    pub fn with_chunk(inner: W, level: u32, threads: usize, chunk: usize) -> Self {
        let threads = threads.max(1);
        Self::with_pool(inner, GzPool::new(level, threads), chunk, threads * 2)
    }

    /// A writer whose chunks are compressed by `pool`, at most `max_in_flight` at a time and
    /// at most its share of the pool's threads while other writers are open on it
    /// ([`GzPool::share`]). Nothing is allocated before the first write.
    pub fn with_pool(inner: W, pool: Arc<GzPool>, chunk: usize, max_in_flight: usize) -> Self {
        let (reply, results) = channel();
        ParallelGzWriter {
            inner,
            buf: Vec::new(),
            chunk,
            pool: Seat::take(pool),
            reply,
            results,
            next_submit: 0,
            next_write: 0,
            ready: BTreeMap::new(),
            in_flight: 0,
            max_in_flight: max_in_flight.max(1),
            spare_in: Vec::new(),
            spare_out: Vec::new(),
        }
    }

    fn submit(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        // Both bounds are at least one (a pool has a thread, a writer a place in flight), so
        // this never waits with nothing in flight.
        while self.in_flight >= self.max_in_flight.min(self.pool.0.share()) {
            self.collect_one()?;
        }
        let next = self.spare_in.pop().unwrap_or_default();
        let data = std::mem::replace(&mut self.buf, next);
        let out = self.spare_out.pop().unwrap_or_else(|| Vec::with_capacity(self.chunk / 2 + 1024));
        let reply = self.reply.clone();
        self.pool.0.submit(Job { seq: self.next_submit, data, out, reply })?;
        self.next_submit += 1;
        self.in_flight += 1;
        Ok(())
    }

    /// Waits for one compressed chunk, then writes every chunk that is next in order.
    fn collect_one(&mut self) -> io::Result<()> {
        let (seq, mut input, out) =
            self.results.recv().map_err(|_| io::Error::other("compression thread died"))?;
        self.in_flight -= 1;
        input.clear();
        self.spare_in.push(input);
        self.ready.insert(seq, out?);
        while let Some(mut data) = self.ready.remove(&self.next_write) {
            self.inner.write_all(&data)?;
            self.next_write += 1;
            data.clear();
            self.spare_out.push(data);
        }
        Ok(())
    }

    /// The chunk-sized input buffers this writer holds now: the one it fills, those in
    /// flight, and the spare ones kept for reuse.
    #[cfg(test)]
    pub(crate) fn inputs_held(&self) -> usize {
        usize::from(self.buf.capacity() > 0) + self.in_flight + self.spare_in.len()
    }

    /// Compresses what is buffered, writes everything, and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.submit()?;
        while self.in_flight > 0 {
            self.collect_one()?;
        }
        self.inner.flush()?;
        // `self` has no Drop impl, so the field can be moved out.
        Ok(self.inner)
    }
}

impl<W: Write> Write for ParallelGzWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.capacity() == 0 {
            self.buf.reserve_exact(self.chunk);
        }
        let room = self.chunk - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= self.chunk {
            self.submit()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Chunks are only cut at `chunk` bytes so compression stays good; the data reaches the
        // inner writer on `finish`.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Read as _;

    #[test]
    fn multi_member_output_round_trips() {
        let data: Vec<u8> = (0..5_000_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        for threads in [1, 3] {
            let mut w = ParallelGzWriter::with_chunk(Vec::new(), 6, threads, 64 * 1024);
            for piece in data.chunks(10_007) {
                w.write_all(piece).unwrap();
            }
            let out = w.finish().unwrap();
            let mut back = Vec::new();
            flate2::read::MultiGzDecoder::new(&out[..]).read_to_end(&mut back).unwrap();
            assert_eq!(back, data);
            // Many members: a single-member decoder stops after the first.
            let mut first = Vec::new();
            flate2::read::GzDecoder::new(&out[..]).read_to_end(&mut first).unwrap();
            assert_eq!(first.len(), 64 * 1024);
        }
    }

    /// Writes `data` to `w` in pieces; returns the most chunk buffers it held at once.
    fn most_held<W: Write>(w: &mut ParallelGzWriter<W>, data: &[u8]) -> usize {
        let mut most = 0;
        for piece in data.chunks(10_007) {
            w.write_all(piece).unwrap();
            most = most.max(w.inputs_held());
        }
        most
    }

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(gz).read_to_end(&mut back).unwrap();
        back
    }

    /// A writer alone on its pool holds the chunk it fills and at most `max_in_flight` more;
    /// writers sharing a pool hold their share of its threads (rounded up) instead, and the
    /// last one open gets its own bound back. Those buffers are a backup's memory
    /// (docs/benchmarks.md, "SIMD found at run time, chunks in flight shared"). Every output
    /// is whole.
    #[test]
    fn a_writer_holds_its_share_of_the_pools_chunks_in_flight() {
        // 30 chunks of 64 KiB each: enough for every bound to be reached, none to be passed.
        let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 241) as u8).collect();
        let chunk = 64 * 1024;
        let pool = GzPool::new(5, 2);
        for max in [1, 2, 3] {
            let mut w = ParallelGzWriter::with_pool(Vec::new(), Arc::clone(&pool), chunk, max);
            assert_eq!(most_held(&mut w, &data), max + 1, "alone, max_in_flight {max}");
            assert!(gunzip(&w.finish().unwrap()) == data, "alone, max_in_flight {max}");
        }
        // Four writers open on 2 threads: one chunk in flight each, as a tar backup's
        // collections with the defaults. Three on 4 threads: two each (rounded up), as two.
        for (threads, open, share) in [(2, 4, 1), (4, 3, 2), (4, 2, 2)] {
            let pool = GzPool::new(5, threads);
            let mut ws: Vec<_> = (0..open)
                .map(|_| ParallelGzWriter::with_pool(Vec::new(), Arc::clone(&pool), chunk, 3))
                .collect();
            for (k, w) in ws.iter_mut().enumerate() {
                assert_eq!(most_held(w, &data), share + 1, "{open} open on {threads}: writer {k}");
            }
            // Finished writers leave: the last one open is bounded by its own 3 again.
            let mut last = ws.pop().unwrap();
            for w in ws {
                assert!(gunzip(&w.finish().unwrap()) == data, "{open} open on {threads}");
            }
            assert_eq!(most_held(&mut last, &data), 3 + 1, "the last of {open} on {threads}");
            let mut twice = data.clone();
            twice.extend_from_slice(&data);
            assert!(gunzip(&last.finish().unwrap()) == twice, "the last of {open} on {threads}");
        }
    }

    #[test]
    fn writers_sharing_a_pool_each_get_their_own_bytes_back() {
        let pool = GzPool::new(6, 2);
        let inputs: Vec<Vec<u8>> = (0..5u8)
            .map(|k| (0..300_000u32).map(|i| (i % (97 + u32::from(k))) as u8).collect())
            .collect();
        let mut writers: Vec<_> = (0..5)
            .map(|_| ParallelGzWriter::with_pool(Vec::new(), Arc::clone(&pool), 16 * 1024, 2))
            .collect();
        // Interleaved, as an import writes collections whose batches alternate.
        for at in (0..300_000).step_by(7_001) {
            for (w, input) in writers.iter_mut().zip(&inputs) {
                w.write_all(&input[at..(at + 7_001).min(input.len())]).unwrap();
            }
        }
        for (w, input) in writers.into_iter().zip(&inputs) {
            let out = w.finish().unwrap();
            let mut back = Vec::new();
            flate2::read::MultiGzDecoder::new(&out[..]).read_to_end(&mut back).unwrap();
            assert!(back == *input, "a writer got another writer's bytes or lost some");
        }
    }

    /// A writer of its own cuts members at 2 MiB of input (its memory bound: 2 × threads
    /// chunks in flight); a pool runs the threads it was asked for, at least one.
    #[test]
    fn members_are_cut_at_two_mib_and_pools_run_their_threads() {
        let data: Vec<u8> = (0..5 * 1024 * 1024_u32).map(|i| (i % 253) as u8).collect();
        let mut w = ParallelGzWriter::new(Vec::new(), 1, 2);
        w.write_all(&data).unwrap();
        let out = w.finish().unwrap();
        let lengths: Vec<usize> = members(&out)
            .iter()
            .map(|m| {
                let mut back = Vec::new();
                flate2::read::GzDecoder::new(*m).read_to_end(&mut back).unwrap();
                back.len()
            })
            .collect();
        assert_eq!(lengths, [2 << 20, 2 << 20, 1 << 20]);
        assert_eq!((GzPool::new(6, 3).threads(), GzPool::new(6, 0).threads()), (3, 1));
    }

    /// The probe stores a chunk exactly when its samples save less than 3% at level 2:
    /// chunks of random bytes whose samples start with more and more zeros, from saving
    /// nothing to saving a third.
    #[test]
    fn the_probe_stores_exactly_the_chunks_saving_under_three_percent() {
        use rand::{Rng as _, SeedableRng as _};
        let mut block = vec![0_u8; PROBE_STRIDE];
        rand::rngs::StdRng::seed_from_u64(9).fill(&mut block[..]);
        let (mut stored, mut deflated) = (0, 0);
        for zeros in (0..1600).step_by(8) {
            let mut stretch = block.clone();
            stretch[..zeros].fill(0);
            // Four equal stretches: the four samples are equal, so one gives the saving.
            let chunk = stretch.repeat(4);
            let mut deflate = Compress::new(Compression::new(2), false);
            let mut out = Vec::with_capacity(2 * PROBE_SAMPLE);
            deflate
                .compress_vec(&stretch[..PROBE_SAMPLE], &mut out, FlushCompress::Finish)
                .unwrap();
            let saving = 1.0 - out.len() as f64 / PROBE_SAMPLE as f64;
            let level = Probe::new().level_for(&chunk, 6);
            assert_eq!(
                level == 0,
                saving < 0.03,
                "{zeros} zeros: saving {saving:.4}, level {level}"
            );
            if level == 0 {
                stored += 1;
            } else {
                deflated += 1;
            }
        }
        assert!(stored > 10 && deflated > 10, "{stored} stored, {deflated} deflated");
    }

    /// Data that deflate shrinks by its letters' frequencies alone (base64 of random bytes:
    /// no repeated strings) is deflated, and so is a 2 MiB chunk of random bytes with one
    /// 64 KiB stretch of text away from its quarters (the archive format's chunks are 2 MiB).
    #[test]
    fn the_probe_deflates_base64_and_a_chunk_with_any_text() {
        use rand::{Rng as _, SeedableRng as _};
        const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let base64: Vec<u8> = (0..256 * 1024).map(|_| B64[rng.random_range(0..64)]).collect();
        assert_eq!(Probe::new().level_for(&base64, 5), 5);
        let mut w = ParallelGzWriter::with_chunk(Vec::new(), 5, 1, base64.len());
        w.write_all(&base64).unwrap();
        let out = w.finish().unwrap();
        assert!(out.len() < base64.len() * 4 / 5, "{} of {}", out.len(), base64.len());
        let mut chunk = vec![0_u8; 2 << 20];
        rng.fill(&mut chunk[..]);
        assert_eq!(Probe::new().level_for(&chunk, 5), 0);
        let text: Vec<u8> = (0..)
            .flat_map(|i: u32| format!("order {i} paid; ").into_bytes())
            .take(64 * 1024)
            .collect();
        chunk[(1 << 20) + PROBE_STRIDE..(1 << 20) + 2 * PROBE_STRIDE].copy_from_slice(&text);
        assert_eq!(Probe::new().level_for(&chunk, 5), 5);
    }

    /// Each sample is 4 KiB from the start of its stretch (text in its second half, after
    /// random bytes, gets the chunk deflated), and a chunk under 64 KiB is not probed (a
    /// random one keeps the level), while a random one of 64 KiB is stored.
    #[test]
    fn the_probe_reads_4_kib_samples_and_leaves_short_chunks_alone() {
        use rand::{Rng as _, SeedableRng as _};
        let mut rng = rand::rngs::StdRng::seed_from_u64(13);
        let mut chunk = vec![0_u8; 4 * 65_536];
        rng.fill(&mut chunk[..]);
        assert_eq!(Probe::new().level_for(&chunk, 5), 0);
        let text: Vec<u8> =
            (0..).flat_map(|i: u32| format!("cart {i} open; ").into_bytes()).take(2048).collect();
        for k in 0..4 {
            let at = k * 65_536 + 2048;
            chunk[at..at + 2048].copy_from_slice(&text);
        }
        assert_eq!(Probe::new().level_for(&chunk, 5), 5);
        let mut random = vec![0_u8; 65_536];
        rng.fill(&mut random[..]);
        assert_eq!(Probe::new().level_for(&random[..65_535], 5), 5);
        assert_eq!(Probe::new().level_for(&random, 5), 0);
    }

    /// A compressor that has written members before writes the same member as a new one
    /// (nothing carried over, each chunk at the level the probe picks): text, random bytes
    /// (stored, by the level-0 compressor), text again, random bytes with a little text every
    /// 64 KiB (deflated), the empty chunk, a short tail, text then random bytes; at the
    /// fastest, the default and the best level. Each member decodes alone to its chunk,
    /// carries `GzEncoder`'s header (but for XFL at level 8) and trailer, and is at most 2%
    /// larger (text smaller); text shrinks more at each level, into room for half its chunk.
    /// Room: a chunk whose sample at least halved is compressed into room for half of it,
    /// and again with room for the worst case when it does not fit (text then random bytes);
    /// one whose sample did not halve (the speckled one) is compressed once.
    #[test]
    fn a_reused_compressor_writes_what_a_new_one_writes_in_gz_encoders_frame() {
        use rand::{Rng as _, SeedableRng as _};
        let mut random = vec![0_u8; 300 * 1024];
        rand::rngs::StdRng::seed_from_u64(11).fill(&mut random[..]);
        let text: Vec<u8> = (0..40_000_u32)
            .flat_map(|i| format!("cart {i} of user {}, ", i * 31 % 977).into_bytes())
            .collect();
        let mut speckled = random.clone();
        for at in (2048..speckled.len() - 4096).step_by(PROBE_STRIDE) {
            speckled[at..at + 4096].copy_from_slice(&text[..4096]);
        }
        let mut text_then_random = random[..256 * 1024].to_vec();
        text_then_random[..8192].copy_from_slice(&text[..8192]);
        let chunks: [&[u8]; 7] =
            [&text, &random, &text[1000..], &speckled, &[], &text[..100], &text_then_random];
        let mut text_sizes = Vec::new();
        for level in [1, 5, 9] {
            let mut reused = Compressor::new(Codec::Gzip, level);
            for (k, chunk) in chunks.iter().enumerate() {
                let member = reused.member(chunk, vec![7; 3]).unwrap();
                let new = Compressor::new(Codec::Gzip, level).member(chunk, Vec::new()).unwrap();
                assert!(member == new, "level {level}, chunk {k}: state carried over");
                let mut back = Vec::new();
                let mut d = flate2::bufread::GzDecoder::new(&member[..]);
                d.read_to_end(&mut back).unwrap();
                assert!(back == *chunk && d.into_inner().is_empty(), "level {level}, chunk {k}");
                let picked = Probe::new().level_for(chunk, level);
                assert_eq!(picked == 0, k == 1, "level {level}, chunk {k}: probe");
                // libdeflate ends an empty member with an empty stored block.
                let stored = stored_blocks(&member);
                assert_eq!(stored.is_some(), k == 1 || k == 4, "level {level}, chunk {k}");
                if k == 1 {
                    // Stored by libdeflate's level 0, a copy in blocks of 64 KiB - 1.
                    let lens = stored.unwrap_or_default();
                    assert!(lens[..lens.len() - 1].iter().all(|&n| n == 65_535), "{lens:?}");
                }
                let gzip = reused.gzip.as_ref().unwrap();
                assert_eq!(gzip.stored.is_some(), k >= 1, "level {level}, chunk {k}");
                let tries = if k == 6 { 2 } else { 1 };
                assert_eq!(gzip.last, (picked, tries), "level {level}, chunk {k}: compressor");
                if k == 6 {
                    assert!(member.len() > chunk.len() / 2 + 1024, "{}", member.len());
                }
                let mut enc = GzEncoder::new(Vec::new(), Compression::new(picked));
                enc.write_all(chunk).unwrap();
                let theirs = enc.finish().unwrap();
                assert_eq!(member[..10], theirs[..10], "level {level}, chunk {k}: header");
                assert_eq!(member[member.len() - 8..], theirs[theirs.len() - 8..]);
                let (ours, theirs) = (member.len() as f64, theirs.len() as f64);
                assert!(ours <= theirs * 1.02 + 16.0, "{level} {k}: {ours} {theirs}");
                if k == 0 {
                    assert!(ours < theirs, "{level}: {ours} {theirs}");
                    text_sizes.push(member.len());
                    // Room for half the chunk, not its worst case, was zeroed for it.
                    assert!(member.capacity() <= chunk.len() / 2 + 1024, "{}", member.capacity());
                }
            }
        }
        // Each level is the one asked for: text shrinks more at each.
        assert!(text_sizes.windows(2).all(|w| w[0] > w[1]), "{text_sizes:?}");
        // Every level's header, on a chunk too short to be probed: XFL says "best" from level
        // 8 in libdeflate, from 9 in flate2.
        for level in 0..=9 {
            let member = Compressor::new(Codec::Gzip, level).member(&text[..500], Vec::new());
            let mut enc = GzEncoder::new(Vec::new(), Compression::new(level));
            enc.write_all(&text[..500]).unwrap();
            let (mut member, theirs) = (member.unwrap(), enc.finish().unwrap());
            if level == 8 {
                assert_eq!((member[8], theirs[8]), (2, 0), "XFL");
                member[8] = 0;
            }
            assert_eq!(member[..10], theirs[..10], "level {level}");
        }
    }

    #[test]
    fn empty_input_gives_empty_output() {
        let w = ParallelGzWriter::new(Vec::new(), 6, 2);
        assert!(w.finish().unwrap().is_empty());
    }

    /// The lengths of a member's deflate blocks when every one is stored, `None` when one is
    /// compressed. Stored blocks are byte-aligned (header byte, LEN, NLEN, bytes), after
    /// gzip's 10-byte header (no name, no extra field, as libdeflate and flate2 write it).
    /// libdeflate stores in blocks of 65,535 bytes, at level 0 and wherever storing is the
    /// smallest at other levels (random bytes).
    fn stored_blocks(member: &[u8]) -> Option<Vec<usize>> {
        let (mut at, mut lens) = (10, Vec::new());
        loop {
            let header = member[at];
            if (header >> 1) & 0b11 != 0 {
                return None;
            }
            let len = usize::from(u16::from_le_bytes([member[at + 1], member[at + 2]]));
            lens.push(len);
            at += 5 + len;
            if header & 1 == 1 {
                return Some(lens);
            }
        }
    }

    /// Splits a multi-member gzip file into its members (each decoded to find its end).
    fn members(gz: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut rest = gz;
        while !rest.is_empty() {
            let mut d = flate2::bufread::GzDecoder::new(rest);
            std::io::copy(&mut d, &mut std::io::sink()).unwrap();
            let left = d.into_inner().len();
            out.push(&rest[..rest.len() - left]);
            rest = &rest[rest.len() - left..];
        }
        out
    }

    /// Random bytes are stored (a copy, not deflated for nothing), text is compressed, and
    /// both come back: chunks of random, text, random-with-text-tail, text-with-random-tail.
    #[test]
    fn chunks_that_do_not_compress_are_stored_and_the_rest_compressed() {
        use rand::{Rng as _, SeedableRng as _};
        const CHUNK: usize = 256 * 1024;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut random = vec![0_u8; CHUNK];
        rng.fill(&mut random[..]);
        let text: Vec<u8> = (0..)
            .flat_map(|i: u32| {
                format!("order {i} paid by سارة +963 912 {:06}; ", i * 7919 % 1_000_000)
                    .into_bytes()
            })
            .take(CHUNK)
            .collect();
        let mut mixed = random.clone();
        mixed[CHUNK - 64 * 1024..].copy_from_slice(&text[..64 * 1024]);
        let mut text_then_random = text.clone();
        text_then_random[CHUNK - 64 * 1024..].copy_from_slice(&random[..64 * 1024]);
        let input = [&random[..], &text, &mixed, &text_then_random].concat();
        let mut w = ParallelGzWriter::with_chunk(Vec::new(), 5, 2, CHUNK);
        w.write_all(&input).unwrap();
        let out = w.finish().unwrap();
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&out[..]).read_to_end(&mut back).unwrap();
        assert!(back == input, "the bytes did not come back");
        let m = members(&out);
        assert_eq!(m.len(), 4);
        // random: stored by the probe's decision, by the level-0 compressor (XFL 4, "fastest";
        // libdeflate at level 5 would store random bytes in the same blocks, but say 0).
        assert_eq!(m[0][8], 4, "XFL of the random chunk's member");
        let stored = stored_blocks(m[0]).expect("the random chunk is stored");
        assert!(stored.iter().max() >= Some(&32_768), "{stored:?}");
        assert!(m[0].len() < CHUNK + 64, "{}", m[0].len());
        // text, text with a random quarter, random with a text quarter: deflated.
        for (k, member) in m.iter().enumerate().skip(1) {
            assert!(stored_blocks(member).is_none(), "chunk {k} was stored");
        }
        assert!(m[1].len() < CHUNK / 3, "{}", m[1].len());
        // A quarter of text is one sample of four, and saves enough to be worth deflating.
        assert_eq!(Probe::new().level_for(&mixed, 5), 5);
        assert!(m[2].len() < CHUNK, "{}", m[2].len());
        // Level 0 asked for stays level 0; small chunks are compressed as asked.
        let mut probe = Probe::new();
        assert_eq!(probe.level_for(&random, 0), 0);
        assert_eq!(probe.level_for(&random[..PROBE_MIN_CHUNK - 1], 5), 5);
        assert_eq!(probe.level_for(&random[..PROBE_MIN_CHUNK], 5), 0);
        assert_eq!(probe.level_for(&text, 9), 9);
    }
}
