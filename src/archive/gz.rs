//! Parallel gzip: input is cut into chunks, each compressed on its own thread into a complete
//! gzip member, and the members are written in order. The output is a multi-member gzip file
//! (RFC 1952 allows it; `gzip -d`, `tar xz` and flate2's `MultiGzDecoder` read it).
//!
//! The threads are a [`GzPool`]: a writer has its own, or shares one with other writers (a tar
//! backup's staged collections, each compressed once at the archive's level).
//!
//! Memory is bounded: at most `2 × threads` chunks are in flight for a writer with its own
//! threads, and as many as it asks for on a shared pool (a staged collection: one per pool
//! thread), and their buffers are reused
//! rather than freed and reallocated (with glibc, a stream of freed 2 MiB blocks raises the
//! mmap threshold and the heap then grows with the amount of data compressed). We use our own ~100 lines
//! rather than a crate because the parallel-gzip crates either bundle C zlib/libdeflate or fall
//! back to miniz_oxide, while the project picks flate2 with zlib-rs (docs/architecture.md).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use flate2::Compression;
use flate2::write::GzEncoder;

pub const DEFAULT_CHUNK: usize = 2 * 1024 * 1024;

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
}

impl GzPool {
    pub fn new(level: u32, threads: usize) -> Arc<Self> {
        let threads = threads.max(1);
        let (job_tx, job_rx) = sync_channel::<Job>(threads);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let workers = (0..threads)
            .map(|_| {
                let rx = Arc::clone(&job_rx);
                std::thread::spawn(move || {
                    loop {
                        // Nothing panics while holding the lock (only `recv` runs under it).
                        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok(Job { seq, data, out, reply }) = job else { return };
                        // A panic would leave the writer waiting for this member forever.
                        let out = std::panic::catch_unwind(|| {
                            let mut enc = GzEncoder::new(out, Compression::new(level));
                            enc.write_all(&data).and_then(|()| enc.finish())
                        })
                        .unwrap_or_else(|_| Err(io::Error::other("compression thread panicked")));
                        // The writer may be gone (it failed elsewhere): nothing to do then.
                        let _ = reply.send((seq, data, out));
                    }
                })
            })
            .collect();
        Arc::new(GzPool { jobs: Some(job_tx), workers, threads })
    }

    /// How many compression threads the pool runs.
    pub fn threads(&self) -> usize {
        self.threads
    }

    fn submit(&self, job: Job) -> io::Result<()> {
        let jobs = self.jobs.as_ref().ok_or_else(|| io::Error::other("compressor stopped"))?;
        jobs.send(job).map_err(|_| io::Error::other("compression thread died"))
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

pub struct ParallelGzWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
    chunk: usize,
    pool: Arc<GzPool>,
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

    /// A writer whose chunks are compressed by `pool`, at most `max_in_flight` at a time.
    /// Nothing is allocated before the first write.
    pub fn with_pool(inner: W, pool: Arc<GzPool>, chunk: usize, max_in_flight: usize) -> Self {
        let (reply, results) = channel();
        ParallelGzWriter {
            inner,
            buf: Vec::new(),
            chunk,
            pool,
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
        while self.in_flight >= self.max_in_flight {
            self.collect_one()?;
        }
        let next = self.spare_in.pop().unwrap_or_default();
        let data = std::mem::replace(&mut self.buf, next);
        let out = self.spare_out.pop().unwrap_or_else(|| Vec::with_capacity(self.chunk / 2));
        let reply = self.reply.clone();
        self.pool.submit(Job { seq: self.next_submit, data, out, reply })?;
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

    #[test]
    fn empty_input_gives_empty_output() {
        let w = ParallelGzWriter::new(Vec::new(), 6, 2);
        assert!(w.finish().unwrap().is_empty());
    }
}
