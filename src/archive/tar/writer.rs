//! Writing a daraa-ops archive: a tar stream as a series of gzip members (or zstd frames,
//! `backup.compression: zstd`), sealed with age when recipients are configured, hashed as it
//! is written.
//!
//! Each byte is compressed once. A collection's data is compressed at the archive's level while
//! it is dumped ([`EntryData`], in parallel across collections, padded to the tar block) and
//! staged that way; [`ArchiveWriter::append_compressed`] then writes the entry's header as its
//! own small gzip member and copies the staged members after it unchanged. A gzip file may be a
//! series of members (RFC 1952), so the result is a plain `.tar.gz`: decompressed, it is the
//! same tar stream, byte for byte, that one compressor over the whole tar would give
//! (`archive::tests` checks both).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::sync::Arc;

use crate::archive::crypt::{Recipients, Sealer};
use crate::archive::gz::{Codec, Compressor, GzPool, ParallelGzWriter};
use crate::archive::hashing::HashingWriter;

/// age (when encrypting) over the hashing file writer: the hash is the stored file's.
type Sink = Sealer<HashingWriter<BufWriter<File>>>;

const BLOCK: u64 = 512;

/// Plain tar bytes above this size are compressed as a member of their own right away.
const MEMBER: usize = 1 << 20;

/// The writer under the tar builder: plain tar bytes (headers, small members, the end of the
/// archive) are gathered and compressed as one gzip member when a precompressed piece is
/// spliced in, when they reach [`MEMBER`] bytes, and at the end.
struct Members<W: Write> {
    inner: W,
    plain: Vec<u8>,
    compressor: Compressor,
    /// The last member written, its buffer kept for the next.
    out: Vec<u8>,
}

impl<W: Write> Members<W> {
    fn new(inner: W, codec: Codec, level: u32) -> Self {
        Members {
            inner,
            plain: Vec::new(),
            compressor: Compressor::new(codec, level),
            out: Vec::new(),
        }
    }

    fn compress_plain(&mut self) -> io::Result<()> {
        if self.plain.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        self.out = self.compressor.member(&self.plain, out)?;
        self.inner.write_all(&self.out)?;
        self.plain.clear();
        Ok(())
    }

    /// Copies gzip members as they are, after what came before; returns how many bytes.
    fn splice(&mut self, members: &mut impl Read) -> io::Result<u64> {
        self.compress_plain()?;
        io::copy(members, &mut self.inner)
    }
}

impl<W: Write> Write for Members<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.plain.extend_from_slice(data);
        if self.plain.len() >= MEMBER {
            self.compress_plain()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Counts what passes through.
struct Counted<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(data)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The data of one tar entry, compressed at the archive's level as it is written (chunks in
/// `pool`), then padded to the tar block: what [`ArchiveWriter::append_compressed`] splices in
/// after the entry's header.
pub struct EntryData<W: Write> {
    gz: ParallelGzWriter<Counted<W>>,
    written: u64,
}

/// What a finished [`EntryData`] holds: `size` raw bytes (the header's size), `compressed`
/// bytes written to its writer (what the archive writer must copy, no more, no less).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressed {
    pub size: u64,
    pub compressed: u64,
}

impl<W: Write> EntryData<W> {
    /// Chunks of 256 KiB, as many in flight as the pool has threads while the writer is alone
    /// on it (one collection alone uses every core), its share of them while other writers
    /// are open ([`GzPool::share`]); a writer holds about 1.5 MiB per thread at most.
    pub fn new(inner: W, pool: Arc<GzPool>) -> Self {
        let in_flight = pool.threads();
        let inner = Counted { inner, bytes: 0 };
        EntryData {
            gz: ParallelGzWriter::with_pool(inner, pool, 256 * 1024, in_flight),
            written: 0,
        }
    }

    /// Pads to the block and ends the compressed stream. `size`, the entry's size in its
    /// header, must be what was written: anything else would shift every later member.
    pub fn finish(mut self, size: u64) -> io::Result<(W, Compressed)> {
        if self.written != size {
            return Err(io::Error::other(format!(
                "{} bytes staged where {size} were dumped",
                self.written
            )));
        }
        let pad = (BLOCK - size % BLOCK) % BLOCK;
        self.gz.write_all(&[0; BLOCK as usize][..pad as usize])?;
        let counted = self.gz.finish()?;
        Ok((counted.inner, Compressed { size, compressed: counted.bytes }))
    }
}

impl<W: Write> Write for EntryData<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.gz.write(data)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub struct ArchiveWriter {
    tar: tar::Builder<Members<Sink>>,
    mtime: u64,
}

impl ArchiveWriter {
    /// Creates `path` (which must not exist) with mode 0600; with `recipients`, an age file.
    /// `level` is the gzip level of what this writer compresses itself (headers, small
    /// members); [`EntryData`] pieces come compressed.
    pub fn create(
        path: &Path,
        level: u32,
        mtime: u64,
        recipients: Option<&Recipients>,
    ) -> io::Result<Self> {
        Self::create_with(path, Codec::Gzip, level, mtime, recipients)
    }

    /// [`ArchiveWriter::create`] with `codec` for what this writer compresses itself; the
    /// [`EntryData`] pieces spliced in must have been compressed with the same codec.
    pub fn create_with(
        path: &Path,
        codec: Codec,
        level: u32,
        mtime: u64,
        recipients: Option<&Recipients>,
    ) -> io::Result<Self> {
        let file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
        let sealer =
            Sealer::new(HashingWriter::new(BufWriter::with_capacity(1 << 20, file)), recipients)?;
        let mut tar = tar::Builder::new(Members::new(sealer, codec, level));
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

    /// Appends a file of known size, compressing it here (tests, small files).
    pub fn append_file(&mut self, name: &str, path: &Path) -> io::Result<()> {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        let mut h = self.header(size);
        // `take` guards against the file growing while it is read.
        let reader = io::BufReader::with_capacity(1 << 20, file).take(size);
        self.tar.append_data(&mut h, name, reader)
    }

    /// Appends an entry whose data and padding are `members`, as [`EntryData`] wrote them
    /// (`staged` says how many raw and compressed bytes): the header (and a GNU long-name
    /// entry before it, for a long name) is written by the tar builder with no data, the
    /// compressed members follow as they are. Fewer or more bytes than were staged (a
    /// truncated or grown staging file) is an error, never a shifted archive.
    pub fn append_compressed(
        &mut self,
        name: &str,
        staged: Compressed,
        members: &mut impl Read,
    ) -> io::Result<()> {
        let mut h = self.header(staged.size);
        // The builder writes the header and pads what it copied (nothing): the data and its
        // padding are the spliced members.
        self.tar.append_data(&mut h, name, io::empty())?;
        let copied = self.tar.get_mut().splice(&mut members.take(staged.compressed + 1))?;
        if copied != staged.compressed {
            return Err(io::Error::other(format!(
                "the staged data of {name} is {copied} bytes where {} were written",
                staged.compressed
            )));
        }
        Ok(())
    }

    /// Ends the tar stream, compresses the rest, fsyncs; returns (size, sha256) of the file.
    pub fn finish(self) -> io::Result<(u64, String)> {
        let mut members = self.tar.into_inner()?;
        members.compress_plain()?;
        let hashing = members.inner.finish()?;
        let (buf, size, sha) = hashing.into_parts();
        let file = buf.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        Ok((size, sha))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};

    use super::Members;

    /// Each gzip member of `gz`, decompressed.
    fn members(gz: &[u8]) -> Vec<Vec<u8>> {
        let (mut out, mut rest) = (Vec::new(), gz);
        while !rest.is_empty() {
            let mut member = flate2::bufread::GzDecoder::new(rest);
            let mut plain = Vec::new();
            member.read_to_end(&mut plain).unwrap();
            rest = member.into_inner();
            out.push(plain);
        }
        out
    }

    /// Plain tar bytes (headers, small entries) are gathered: one gzip member per splice, or
    /// per mebibyte, not one per write.
    #[test]
    fn plain_bytes_are_gathered_into_members_of_up_to_a_mebibyte() {
        let mut m = Members::new(Vec::new(), super::Codec::Gzip, 1);
        for _ in 0..100 {
            m.write_all(&[7_u8; 512]).unwrap();
        }
        assert_eq!(m.splice(&mut &b"spliced"[..]).unwrap(), 7);
        for _ in 0..3 {
            m.write_all(&vec![1_u8; 512 * 1024]).unwrap();
        }
        m.compress_plain().unwrap();
        // The spliced bytes (no gzip member here) come right after the first member.
        assert_eq!(m.inner.windows(7).filter(|w| w == b"spliced").count(), 1);
        let at = m.inner.windows(7).position(|w| w == b"spliced").unwrap();
        let (before, after) = (&m.inner[..at], &m.inner[at + 7..]);
        assert_eq!(members(before).iter().map(Vec::len).collect::<Vec<_>>(), [51_200]);
        assert_eq!(members(after).iter().map(Vec::len).collect::<Vec<_>>(), [1 << 20, 512 * 1024]);
    }
}
