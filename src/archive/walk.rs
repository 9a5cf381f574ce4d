//! One entry for every reader: [`walk`] detects the backup's shape from its bytes (gzip, zstd
//! or neither, then tar or mongodump's archive format) and hands the stream to that format's walker;
//! every walker reports the same [`Event`]s. Decompression runs on a thread of its own.

use std::io::{self, BufRead as _, Read};

use super::bson::{ArchiveError, Source, corrupt, map_read_error};
use super::event::{Event, Verified};
use super::manifest::Manifest;
use super::mongodump::MAGIC;
use super::{mongodump, tar};

/// Streams the whole archive and checks it against its own manifest and, if given, the
/// sidecar's. Returns the first problem found.
pub fn verify<R: Read + Send>(
    reader: R,
    expected: Option<&Manifest>,
) -> Result<Verified, ArchiveError> {
    walk(reader, expected, false, |_| Ok(()))
}

/// Streams the archive, checking it as [`verify`] does, and hands each collection's metadata
/// and (with `documents`) its documents in batches to `visit`, in archive order.
///
/// The stream may be a daraa-ops archive or a backup mongodump wrote (see [`super::mongodump`]): the
/// first bytes tell gzip or not, the first decoded bytes tell a tar from mongodump's archive
/// format. Decompression runs on its own thread, ahead of the tar, BSON and SHA-256 work on
/// this one (about half of the time each): verify and restore use both cores.
pub fn walk<R: Read + Send>(
    reader: R,
    expected: Option<&Manifest>,
    documents: bool,
    visit: impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<Verified, ArchiveError> {
    let mut raw = io::BufReader::with_capacity(1 << 20, Source(reader));
    let compression = Compressed::of(raw.fill_buf().map_err(map_read_error)?);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(4);
        let (free_tx, free_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        scope.spawn(move || {
            let mut input: Box<dyn Read + Send> = match compression {
                Compressed::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
                // Every frame in turn, as `zstd -d` reads them (a tar.zst is one per chunk).
                // Any window a zstd file may declare (`zstd --long` writes up to 2 GiB ones).
                Compressed::Zstd => match zstd::stream::read::Decoder::with_buffer(raw)
                    .and_then(|mut d| d.window_log_max(31).map(|()| d))
                {
                    Ok(d) => Box::new(d),
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                },
                Compressed::No => Box::new(raw),
            };
            loop {
                let mut buf = free_rx.try_recv().unwrap_or_default();
                buf.resize(DECODED_CHUNK, 0);
                let mut n = 0;
                let result = loop {
                    match input.read(&mut buf[n..]) {
                        Ok(0) => break Ok(()),
                        Ok(k) => {
                            n += k;
                            if n == buf.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                buf.truncate(n);
                let end = n < DECODED_CHUNK || result.is_err();
                if n > 0 && tx.send(Ok(buf)).is_err() {
                    return;
                }
                if let Err(e) = result {
                    let _ = tx.send(Err(e));
                    return;
                }
                if end {
                    return;
                }
            }
        });
        let mut decoded = ChannelReader { rx, free: free_tx, current: Vec::new(), pos: 0 };
        let mut head = Vec::with_capacity(512);
        (&mut decoded).take(512).read_to_end(&mut head).map_err(map_read_error)?;
        let shape = detect(&head);
        let stream = io::Cursor::new(head).chain(decoded);
        match shape {
            Shape::Tar => tar::reader::walk_tar(stream, expected, documents, visit),
            Shape::MongodumpArchive => {
                mongodump::reader::walk_mongodump_archive(stream, expected, documents, visit)
            }
            Shape::Unknown(what) => Err(corrupt(format!(
                "not a backup: {}{what}; expected a daraa-ops .tar.gz or .tar.zst, a mongodump --archive file (gzip'd or not), a mongodump --out directory, or a tar(.gz) of one",
                compression.describe()
            ))),
        }
    })
}

/// How a stream is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compressed {
    Gzip,
    Zstd,
    No,
}

impl Compressed {
    fn of(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compressed::Gzip
        } else if head.starts_with(&ZSTD_MAGIC) {
            Compressed::Zstd
        } else {
            Compressed::No
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Compressed::Gzip => "gzip-compressed ",
            Compressed::Zstd => "zstd-compressed ",
            Compressed::No => "",
        }
    }
}

/// A zstd frame's first four bytes (RFC 8878, 3.1.1).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Bytes per chunk handed from the decompression thread.
const DECODED_CHUNK: usize = 1 << 20;

/// The consuming end of the decompression thread; emptied buffers go back for reuse.
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    free: std::sync::mpsc::Sender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            match self.rx.recv() {
                Ok(Ok(next)) => {
                    let done = std::mem::replace(&mut self.current, next);
                    let _ = self.free.send(done);
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// What the first decoded bytes of a stream are.
pub(crate) enum Shape {
    Tar,
    MongodumpArchive,
    /// Neither; says what it looks like instead.
    Unknown(&'static str),
}

pub(crate) fn detect(head: &[u8]) -> Shape {
    if head.starts_with(&MAGIC) {
        Shape::MongodumpArchive
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Shape::Tar
    } else {
        Shape::Unknown(looks_like(head))
    }
}

/// A name for what a file that is no backup looks like, for the error message.
fn looks_like(head: &[u8]) -> &'static str {
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if head.is_empty() {
        "an empty file"
    } else if head.iter().all(|b| *b == 0) {
        "only zero bytes (an empty tar or folder, or a file that was never written)"
    } else if head.starts_with(b"PK\x03\x04") {
        "a zip file"
    } else if head.starts_with(b"BZh") {
        "a bzip2 file"
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        "an xz file"
    } else if head.starts_with(&ZSTD_MAGIC) {
        "zstd data"
    } else if head.starts_with(&[0x1f, 0x8b]) {
        "gzip inside gzip"
    } else if matches!(first, Some(b'{' | b'[')) {
        "JSON text"
    } else if looks_like_bson(head) {
        "one collection's .bson file (give the mongodump --out folder, or a tar of it)"
    } else if head.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) {
        "text"
    } else {
        "unrecognised binary data"
    }
}

fn looks_like_bson(head: &[u8]) -> bool {
    if head.len() < 5 {
        return false;
    }
    let len = i32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let Some(n) = usize::try_from(len).ok().filter(|n| (5..=16 * 1024 * 1024).contains(n)) else {
        return false;
    };
    let element = matches!(head[4], 0x00..=0x13 | 0x7f | 0xff);
    // The document's last byte is its terminating zero, where the head reaches it.
    let ends = n > head.len() || head[n - 1] == 0;
    element && ends
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn refusal(bytes: &[u8]) -> String {
        match verify(bytes, None) {
            Err(ArchiveError::Corrupt(m)) => m,
            Err(ArchiveError::Io(e)) => panic!("expected Corrupt, got Io({e})"),
            Ok(_) => panic!("expected Corrupt, got Ok"),
        }
    }

    /// A file that is no backup is named by what it is, through its compression: gzip and
    /// zstd are decoded first, and what they hold is named after the codec.
    #[test]
    fn what_is_no_backup_is_named_through_its_compression() {
        let text = b"just some words, no archive here\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(1));
        gz.write_all(text).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::stream::encode_all(&text[..], 1).unwrap();
        let zst_in_gz = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(1));
            e.write_all(&zst).unwrap();
            e.finish().unwrap()
        };
        for (bytes, said) in [
            (&text[..], "not a backup: text; expected a daraa-ops .tar.gz or .tar.zst"),
            (&gz[..], "not a backup: gzip-compressed text;"),
            (&zst[..], "not a backup: zstd-compressed text;"),
            (&zst_in_gz[..], "not a backup: gzip-compressed zstd data;"),
        ] {
            let m = refusal(bytes);
            assert!(m.starts_with(said), "{m}");
        }
    }

    /// Every name a file that is no backup can get, and the order they are tried in.
    #[test]
    fn a_file_that_is_no_backup_is_named_by_what_it_looks_like() {
        let mut bson5 = vec![5, 0, 0, 0, 0];
        bson5.extend(b"tail");
        for (head, said) in [
            (&b""[..], "an empty file"),
            (
                &[0; 600][..],
                "only zero bytes (an empty tar or folder, or a file that was never written)",
            ),
            (b"PK\x03\x04rest", "a zip file"),
            (b"BZh91AY&SY", "a bzip2 file"),
            (&[0xfd, b'7', b'z', b'X', b'Z', 0, 0, 4][..], "an xz file"),
            (&[0x28, 0xb5, 0x2f, 0xfd, 0x20][..], "zstd data"),
            (&[0x1f, 0x8b, 8, 0][..], "gzip inside gzip"),
            (b" \n {\"a\": 1}", "JSON text"),
            (b"[1, 2]", "JSON text"),
            (
                &bson5[..],
                "one collection's .bson file (give the mongodump --out folder, or a tar of it)",
            ),
            (b"  \n\t", "text"),
            (b"id,name\n1,Dina\n", "text"),
            (&[0x80, 1, 2, 3, 4, 5][..], "unrecognised binary data"),
            (&[0, 0, 0, 0, 1][..], "unrecognised binary data"),
        ] {
            assert_eq!(looks_like(head), said, "{head:?}");
        }
    }

    /// A .bson file's head: a length from 5 bytes to 16 MiB, a known element type, and the
    /// terminating zero where the head reaches the document's end.
    #[test]
    fn a_bson_head_is_known_by_its_length_its_first_type_and_its_end() {
        let head = |len: i32, element: u8, rest: &[u8]| {
            let mut h = len.to_le_bytes().to_vec();
            h.push(element);
            h.extend(rest);
            h
        };
        let mib16 = 16 * 1024 * 1024;
        for (h, is) in [
            (vec![5, 0, 0, 0], false),
            (head(5, 0, b""), true),
            (head(4, 0, b""), false),
            (head(-5, 2, b"abc"), false),
            (head(mib16, 2, b"abc"), true),
            (head(mib16 + 1, 2, b"abc"), false),
            (head(100, 0x13, b""), true),
            (head(100, 0x14, b""), false),
            (head(100, 0x7f, b""), true),
            (head(100, 0xff, b""), true),
            (head(100, 0x80, b""), false),
            (head(8, 0x0a, b"a\0\0"), true),
            (head(8, 0x0a, b"a\0\x01"), false),
            (head(8, 0x0a, b"a\0\0more"), true),
            (head(8, 0x0a, b"a\0\x01more"), false),
        ] {
            assert_eq!(looks_like_bson(&h), is, "{h:?}");
        }
    }

    #[test]
    fn the_shape_is_read_from_the_first_decoded_bytes() {
        let mut tar = vec![b'x'; 262];
        tar[257..262].copy_from_slice(b"ustar");
        assert!(matches!(detect(&tar), Shape::Tar));
        assert!(matches!(detect(&tar[..261]), Shape::Unknown("text")));
        let mut archive = MAGIC.to_vec();
        archive.extend([0; 300]);
        assert!(matches!(detect(&archive), Shape::MongodumpArchive));
        assert!(matches!(detect(&archive[..3]), Shape::Unknown(_)));
        assert_eq!(Compressed::of(&[0x1f, 0x8b]), Compressed::Gzip);
        assert_eq!(Compressed::of(&[0x1f]), Compressed::No);
        assert_eq!(Compressed::of(&[0x28, 0xb5, 0x2f, 0xfd]), Compressed::Zstd);
        assert_eq!(Compressed::of(&[0x28, 0xb5, 0x2f]), Compressed::No);
    }
}
