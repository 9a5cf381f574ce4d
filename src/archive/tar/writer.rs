//! Writing a daraa-ops archive: a tar over parallel multi-member gzip, sealed with age when
//! recipients are configured, hashed as it is written.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use crate::archive::crypt::{Recipients, Sealer};
use crate::archive::gz::ParallelGzWriter;
use crate::archive::hashing::HashingWriter;

/// gzip over (when encrypting) age over the hashing file writer: the hash is the stored file's.
type Sink = ParallelGzWriter<Sealer<HashingWriter<BufWriter<File>>>>;

/// Reads exactly `left` bytes: an early end is an error.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "a staged collection is shorter than dumped",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

pub struct ArchiveWriter {
    tar: tar::Builder<Sink>,
    mtime: u64,
}

impl ArchiveWriter {
    /// Creates `path` (which must not exist) with mode 0600; with `recipients`, an age file.
    pub fn create(
        path: &Path,
        level: u32,
        threads: usize,
        mtime: u64,
        recipients: Option<&Recipients>,
    ) -> io::Result<Self> {
        let file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
        let sealer =
            Sealer::new(HashingWriter::new(BufWriter::with_capacity(1 << 20, file)), recipients)?;
        let sink = ParallelGzWriter::new(sealer, level, threads);
        let mut tar = tar::Builder::new(sink);
        tar.mode(tar::HeaderMode::Deterministic);
        Ok(ArchiveWriter { tar, mtime })
    }

    fn header(&self, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o600);
        h.set_mtime(self.mtime);
        h.set_entry_type(tar::EntryType::Regular);
        h
    }

    pub fn append_bytes(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        let mut h = self.header(data.len() as u64);
        self.tar.append_data(&mut h, name, data)
    }

    /// Appends a file of known size (a staged collection dump).
    pub fn append_file(&mut self, name: &str, path: &Path) -> io::Result<()> {
        self.append_file_with(name, path, |r| r)
    }

    /// [`append_file`](Self::append_file) reading through `wrap` (e.g. a reader that stops on
    /// a signal, so a large member does not delay an interrupted backup).
    pub fn append_file_with<R: Read>(
        &mut self,
        name: &str,
        path: &Path,
        wrap: impl FnOnce(io::BufReader<File>) -> R,
    ) -> io::Result<()> {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        let mut h = self.header(size);
        // `take` guards against the file growing while it is read.
        let reader = wrap(io::BufReader::with_capacity(1 << 20, file)).take(size);
        self.tar.append_data(&mut h, name, reader)
    }

    /// Appends a staged collection: `raw` yields its documents (decoded from the staging
    /// file `path`), `size` is their raw size, which the tar header needs first. Fewer or more
    /// bytes than `size` is an error, never a short member.
    pub fn append_staged<R: Read>(
        &mut self,
        name: &str,
        raw: R,
        size: u64,
        path: &Path,
    ) -> io::Result<()> {
        let mut exact = Exact { inner: raw, left: size };
        let mut h = self.header(size);
        self.tar.append_data(&mut h, name, &mut exact)?;
        let mut extra = [0u8; 1];
        if exact.inner.read(&mut extra)? != 0 {
            return Err(io::Error::other(format!(
                "staged {} holds more than {size} bytes",
                path.display()
            )));
        }
        Ok(())
    }

    /// Ends the tar stream, compresses the rest, fsyncs; returns (size, sha256) of the file.
    pub fn finish(self) -> io::Result<(u64, String)> {
        let sink = self.tar.into_inner()?;
        let hashing = sink.finish()?.finish()?;
        let (buf, size, sha) = hashing.into_parts();
        let file = buf.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        Ok((size, sha))
    }
}
