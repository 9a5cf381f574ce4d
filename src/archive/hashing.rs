//! Byte counts and SHA-256 of a stream as it is written or read: the archive file as stored.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

use crate::files::hex;

/// Counts and hashes what passes through.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter { inner, hasher: Sha256::new(), bytes: 0 }
    }

    pub fn into_parts(self) -> (W, u64, String) {
        (self.inner, self.bytes, hex(&self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(data)?;
        self.hasher.update(&data[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Counts and hashes what is read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader { inner, hasher: Sha256::new(), bytes: 0 }
    }

    /// Bytes read and their SHA-256 (hex).
    pub fn finish(self) -> (u64, String) {
        (self.bytes, hex(&self.hasher.finalize()))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most three bytes a call, as a pipe or socket may, and counts
    /// its flushes.
    struct Trickle(Vec<u8>, usize);

    impl Write for Trickle {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            let n = data.len().min(3);
            self.0.extend_from_slice(&data[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            self.1 += 1;
            Ok(())
        }
    }

    /// Both ends count and hash exactly the bytes that went through, also when the inner
    /// writer or reader takes fewer than offered.
    #[test]
    fn counts_and_hashes_what_passed_through() {
        let data: Vec<u8> = (0..10_000_u32).map(|i| (i * 31 % 251) as u8).collect();
        let expected = hex(&Sha256::digest(&data));
        let mut w = HashingWriter::new(Trickle(Vec::new(), 0));
        w.write_all(&data).unwrap();
        w.flush().unwrap();
        let (inner, bytes, sha) = w.into_parts();
        // A flush reaches the writer underneath (a BufWriter's bytes reach the file).
        assert_eq!(inner.1, 1);
        assert_eq!((inner.0.len(), bytes, sha.as_str()), (data.len(), 10_000, expected.as_str()));
        let mut r = HashingReader::new(io::Read::chain(&data[..4_000], &data[4_000..]));
        let mut back = Vec::new();
        let mut buf = [0_u8; 777];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            back.extend_from_slice(&buf[..n]);
        }
        assert_eq!(back, data);
        assert_eq!(r.finish(), (10_000, expected));
        assert_eq!(HashingReader::new(&b""[..]).finish().1, hex(&Sha256::digest(b"")));
    }
}
