//! Test readers for the archive's reader tests. Imports nothing of the crate, so any module's
//! tests may use it without an import circle.

/// A source as a disk or a pipe may be: at most `step` bytes a read, interrupted (EINTR) on
/// every `interrupt_every`-th read (never when 0), failing for good ("disk gone") once
/// `fail_at` bytes are out. Shared by the reader tests of `archive`
/// (here, not in `archive::tests`: `crypt`'s tests use it, and `archive::tests` uses `crypt`).
pub(crate) struct Uneven<'a> {
    pub data: &'a [u8],
    pub pos: usize,
    pub step: usize,
    pub interrupt_every: usize,
    pub fail_at: usize,
    pub reads: usize,
}

impl<'a> Uneven<'a> {
    /// `step` bytes a read, nothing else.
    pub fn new(data: &'a [u8], step: usize) -> Self {
        Uneven { data, pos: 0, step, interrupt_every: 0, fail_at: usize::MAX, reads: 0 }
    }
}

impl std::io::Read for Uneven<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reads += 1;
        if self.interrupt_every > 0 && self.reads.is_multiple_of(self.interrupt_every) {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        if self.pos >= self.fail_at {
            return Err(std::io::Error::other("disk gone"));
        }
        let n =
            buf.len().min(self.step).min(self.fail_at - self.pos).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
