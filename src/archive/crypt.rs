//! Encryption at rest with age (docs/encryption.md): archives and cleanup parts are written
//! as age files (X25519 recipients, ChaCha20-Poly1305 in 64 KiB chunks) over their gzip
//! stream, and read back through [`open`]. Pure code over `Read`/`Write`; keys come in as
//! text, parsed here.
//!
//! A decryption failure inside the payload (a flipped or cut chunk) comes out of the reader
//! as [`Tampered`], which the archive reader reports as a damaged archive (exit 6), never as a
//! disk or network error.

use std::io::{self, Read, Write};
use std::str::FromStr as _;

use age::x25519;

/// The first bytes of every age file (the version line of its header).
pub const MAGIC: &[u8] = b"age-encryption.org/v1\n";
/// Appended to the name of an encrypted archive or part (`<id>.tar.gz.age`).
pub const SUFFIX: &str = ".age";

/// Whether a stream that starts with `head` is an age file.
pub fn is_encrypted(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// The public keys archives are encrypted to, with the text they were given as.
#[derive(Clone)]
pub struct Recipients {
    keys: Vec<x25519::Recipient>,
    names: Vec<String>,
}

impl std::fmt::Debug for Recipients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.names).finish()
    }
}

impl Recipients {
    /// Parses `age1…` keys; lines of a recipients file may be given as they are (blank lines
    /// and `#` comments are skipped). Duplicates count once; the order is kept.
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Recipients, String> {
        let mut r = Recipients { keys: Vec::new(), names: Vec::new() };
        for line in lines {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = x25519::Recipient::from_str(line).map_err(|e| {
                let shown: String = line.chars().take(12).collect();
                format!("{shown}… is not an age X25519 recipient (age1…): {e}")
            })?;
            let name = key.to_string();
            if !r.names.contains(&name) {
                r.names.push(name);
                r.keys.push(key);
            }
        }
        Ok(r)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The public keys (`age1…`), as the sidecar records them.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// What a sidecar or part manifest records of a file encrypted to these recipients.
    pub fn record(&self) -> super::Encryption {
        super::Encryption { scheme: "age".into(), recipients: self.names.clone() }
    }

    /// Whether `names` is this set, in any order.
    pub fn same_as(&self, names: &[String]) -> bool {
        names.len() == self.names.len() && names.iter().all(|n| self.names.contains(n))
    }
}

/// Private keys that open archives, each with the public key it answers to.
pub struct Identities {
    keys: Vec<x25519::Identity>,
}

impl Identities {
    /// Parses an identity file's text (`age-keygen` output: `AGE-SECRET-KEY-1…` lines,
    /// `#` comments). The error never echoes a key.
    pub fn parse(text: &str) -> Result<Identities, String> {
        let mut keys = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = x25519::Identity::from_str(line).map_err(|e| {
                format!("line {} is not an age X25519 identity (AGE-SECRET-KEY-1…): {e}", i + 1)
            })?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err("holds no age identity (AGE-SECRET-KEY-1… line)".into());
        }
        Ok(Identities { keys })
    }

    pub fn extend(&mut self, other: Identities) {
        self.keys.extend(other.keys);
    }

    /// The public keys these identities answer to.
    pub fn public(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.to_public().to_string()).collect()
    }

    /// Whether one of these identities opens files encrypted to one of `recipients`.
    pub fn opens_any(&self, recipients: &[String]) -> bool {
        self.public().iter().any(|p| recipients.contains(p))
    }
}

/// A writer that encrypts what passes through to age recipients, or passes it on as it is.
pub enum Sealer<W: Write> {
    Plain(W),
    Age(age::stream::StreamWriter<W>),
}

impl<W: Write> Sealer<W> {
    /// Writes the age header to `out` now when `recipients` is set.
    pub fn new(out: W, recipients: Option<&Recipients>) -> io::Result<Sealer<W>> {
        match recipients.filter(|r| !r.is_empty()) {
            None => Ok(Sealer::Plain(out)),
            Some(r) => {
                let encryptor = age::Encryptor::with_recipients(
                    r.keys.iter().map(|k| k as &dyn age::Recipient),
                )
                .map_err(io::Error::other)?;
                Ok(Sealer::Age(encryptor.wrap_output(out)?))
            }
        }
    }

    /// Seals the last chunk (without it the file does not decrypt) and returns the sink.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Sealer::Plain(w) => Ok(w),
            Sealer::Age(s) => s.finish(),
        }
    }
}

impl<W: Write> Write for Sealer<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Sealer::Plain(w) => w.write(data),
            Sealer::Age(s) => s.write(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sealer::Plain(w) => w.flush(),
            Sealer::Age(s) => s.flush(),
        }
    }
}

/// Encrypts `data` whole (a cleanup part).
pub fn seal_bytes(data: &[u8], recipients: &Recipients) -> io::Result<Vec<u8>> {
    let mut s = Sealer::new(Vec::with_capacity(data.len() + 256), Some(recipients))?;
    s.write_all(data)?;
    s.finish()
}

/// An age payload that fails authentication: the file was modified or cut.
#[derive(Debug)]
pub struct Tampered(pub String);

impl std::fmt::Display for Tampered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Tampered {}

/// Whether a read error is an age payload failing authentication.
pub fn is_tampered(e: &io::Error) -> bool {
    e.get_ref().is_some_and(<dyn std::error::Error + Send + Sync>::is::<Tampered>)
}

/// Why an age file could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// None of the identities is a recipient of the file.
    NoMatchingKey,
    /// The header is malformed or its MAC does not check: damaged or modified.
    Damaged(String),
    /// Reading the source failed.
    Io(io::Error),
}

/// Reads the age header from `input` and returns the plaintext stream. Errors of `input`
/// come out unchanged; a payload that fails authentication comes out as [`Tampered`].
pub fn open<'a, R: Read + Send + 'a>(
    input: R,
    identities: &Identities,
) -> Result<Box<dyn Read + Send + 'a>, OpenError> {
    let decryptor = age::Decryptor::new(Marked { inner: input }).map_err(classify)?;
    let stream = decryptor
        .decrypt(identities.keys.iter().map(|k| k as &dyn age::Identity))
        .map_err(classify)?;
    Ok(Box::new(Plaintext { inner: stream, at: 0 }))
}

/// The decrypted stream: source errors as they were, authentication failures as [`Tampered`].
struct Plaintext<R> {
    inner: R,
    at: u64,
}

impl<R: Read> Read for Plaintext<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.at += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                if e.get_ref()
                    .is_some_and(<dyn std::error::Error + Send + Sync>::is::<SourceFailure>)
                {
                    let inner = e.into_inner().expect("checked");
                    return Err(inner.downcast::<SourceFailure>().expect("checked").0);
                }
                Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    Tampered(format!(
                        "the encrypted archive fails authentication after {} decrypted bytes ({e}): it was modified or cut short",
                        self.at
                    )),
                ))
            }
        }
    }
}

fn classify(e: age::DecryptError) -> OpenError {
    match e {
        age::DecryptError::NoMatchingKeys => OpenError::NoMatchingKey,
        age::DecryptError::Io(e) => match e.into_inner() {
            Some(inner) => match inner.downcast::<SourceFailure>() {
                Ok(s) => OpenError::Io(s.0),
                Err(other) => OpenError::Damaged(format!("the age header is damaged: {other}")),
            },
            None => OpenError::Damaged("the age header is cut short".into()),
        },
        age::DecryptError::InvalidMac => {
            OpenError::Damaged("the age header's MAC does not check: the file was modified".into())
        }
        other => OpenError::Damaged(format!("the age header is damaged: {other}")),
    }
}

/// An error of the reader under the decryptor, kept apart from decryption failures.
#[derive(Debug)]
struct SourceFailure(io::Error);

impl std::fmt::Display for SourceFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceFailure {}

struct Marked<R> {
    inner: R,
}

impl<R: Read> Read for Marked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted {
                e
            } else {
                io::Error::new(e.kind(), SourceFailure(e))
            }
        })
    }
}

/// A key that exists only in this process's memory, for files that must hold no plaintext
/// and never outlive the run (the tar path's staged collections when encryption is on): once
/// the process ends, nobody can read them.
pub struct EphemeralKey {
    identities: Identities,
    recipients: Recipients,
}

impl EphemeralKey {
    pub fn generate() -> EphemeralKey {
        let identity = x25519::Identity::generate();
        let public = identity.to_public();
        EphemeralKey {
            recipients: Recipients { names: vec![public.to_string()], keys: vec![public] },
            identities: Identities { keys: vec![identity] },
        }
    }

    pub fn recipients(&self) -> &Recipients {
        &self.recipients
    }

    /// Opens a file this key sealed.
    pub fn open<'a, R: Read + Send + 'a>(&self, input: R) -> io::Result<Box<dyn Read + Send + 'a>> {
        open(input, &self.identities).map_err(|e| match e {
            OpenError::Io(e) => e,
            OpenError::NoMatchingKey => io::Error::other("a staged file was sealed by another run"),
            OpenError::Damaged(m) => io::Error::other(format!("a staged file is damaged: {m}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::testio::Uneven;
    use age::secrecy::ExposeSecret as _;

    fn key() -> (x25519::Identity, String) {
        let id = x25519::Identity::generate();
        let public = id.to_public().to_string();
        (id, public)
    }

    fn identities(keys: Vec<x25519::Identity>) -> Identities {
        Identities { keys }
    }

    #[test]
    fn recipients_parse_files_and_refuse_bad_keys() {
        let (_, a) = key();
        let (_, b) = key();
        let text = format!("# daily\n{a}\n\n  {b}  \n{a}\n");
        let r = Recipients::parse(text.lines()).unwrap();
        assert_eq!(r.names(), [a.clone(), b.clone()]);
        assert!(r.same_as(&[b.clone(), a.clone()]));
        assert!(!r.same_as(std::slice::from_ref(&a)));
        let err = Recipients::parse(["age1notakey"]).unwrap_err();
        assert!(err.contains("not an age X25519 recipient"), "{err}");
        let secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
        let err = Identities::parse(&format!("# key\n{secret}\n")).err().unwrap();
        assert!(!err.contains("QQQQQQQQQQQQQQQQ"), "an error echoed the key: {err}");
        assert!(Identities::parse("# nothing\n").is_err());
    }

    /// The small accessors the commands decide by: an age file is known by its header line
    /// only; an empty recipients file is empty (backup then refuses to encrypt to nobody);
    /// identity files given one after another all count; Debug shows the public keys, no
    /// more.
    #[test]
    fn recipients_and_identities_say_what_they_hold() {
        assert!(is_encrypted(b"age-encryption.org/v1\n-> X25519 abc"));
        assert!(!is_encrypted(b"age-encryption.org/v2\n"));
        assert!(!is_encrypted(&[0x1f, 0x8b, 8, 0]));
        assert!(!is_encrypted(b"age"));
        let (id_a, a) = key();
        let (id_b, b) = key();
        assert!(Recipients::parse(["# none", ""]).unwrap().is_empty());
        let r = Recipients::parse([a.as_str(), b.as_str()]).unwrap();
        assert!(!r.is_empty());
        assert_eq!(format!("{r:?}"), format!("[{a:?}, {b:?}]"));
        let mut ids = identities(vec![id_a]);
        ids.extend(identities(vec![id_b]));
        assert_eq!(ids.public(), [a.clone(), b.clone()]);
        assert!(ids.opens_any(std::slice::from_ref(&b)));
    }

    /// A sealer passes `flush` on to what it writes to (plain, the bytes reach it; the
    /// archive format's writer flushes through it when it finishes).
    #[test]
    fn flush_reaches_the_writer_under_a_plain_sealer() {
        let mut s = Sealer::new(io::BufWriter::new(Vec::new()), None).unwrap();
        s.write_all(b"abc").unwrap();
        s.flush().unwrap();
        let Sealer::Plain(w) = &s else { panic!("no recipients: plain") };
        assert_eq!(w.get_ref(), b"abc");
    }

    #[test]
    fn sealed_streams_open_only_with_a_recipient_key_and_detect_tampering() {
        let (id_a, a) = key();
        let (id_c, _) = key();
        let r = Recipients::parse([a.as_str()]).unwrap();
        let data: Vec<u8> = (0..300_000u32).flat_map(u32::to_le_bytes).collect();
        let sealed = seal_bytes(&data, &r).unwrap();
        assert!(is_encrypted(&sealed));
        let mut out = Vec::new();
        open(&sealed[..], &identities(vec![id_a])).ok().unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
        assert!(matches!(
            open(&sealed[..], &identities(vec![id_c])),
            Err(OpenError::NoMatchingKey)
        ));

        // An identity file as age-keygen writes it.
        let (id_b, b) = key();
        let text = format!("# public key: {b}\n{}\n", id_b.to_string().expose_secret());
        let parsed = Identities::parse(&text).unwrap();
        assert_eq!(parsed.public(), std::slice::from_ref(&b));
        assert!(parsed.opens_any(&[a.clone(), b]));
        assert!(!parsed.opens_any(&[a]));

        let eph = EphemeralKey::generate();
        let sealed = seal_bytes(&data, eph.recipients()).unwrap();
        let mut tampered = sealed.clone();
        let at = tampered.len() / 2;
        tampered[at] ^= 1;
        let err = eph.open(&tampered[..]).unwrap().read_to_end(&mut Vec::new()).unwrap_err();
        assert!(is_tampered(&err), "{err}");
        // The message says where and what (it reaches the operator as "damaged archive: …"),
        // and only an authentication failure counts as tampering.
        assert!(err.to_string().contains("fails authentication after"), "{err}");
        assert!(err.to_string().contains("decrypted bytes"), "{err}");
        assert!(!is_tampered(&io::Error::other("disk gone")));
        assert!(!is_tampered(&io::Error::from(io::ErrorKind::UnexpectedEof)));
        let cut = &sealed[..sealed.len() - 10];
        assert!(eph.open(cut).unwrap().read_to_end(&mut Vec::new()).is_err());
        let mut whole = Vec::new();
        eph.open(&sealed[..]).unwrap().read_to_end(&mut whole).unwrap();
        assert_eq!(whole, data);
    }

    /// The source's own errors come out as they were, from the header and from the payload
    /// (never as damage or tampering); interrupted reads are retried; tampering names how
    /// many bytes were decrypted before it.
    #[test]
    fn source_errors_stay_source_errors_and_tampering_says_where() {
        let eph = EphemeralKey::generate();
        let data: Vec<u8> = (0..100_000u32).flat_map(u32::to_le_bytes).collect();
        let sealed = seal_bytes(&data, eph.recipients()).unwrap();
        let source = |fail_at, interrupt_every| Uneven {
            interrupt_every,
            fail_at,
            ..Uneven::new(&sealed, 1000)
        };

        match open(source(10, 0), &eph.identities) {
            Err(OpenError::Io(e)) => assert_eq!(e.to_string(), "disk gone"),
            Err(other) => panic!("a source error in the header came out as {other:?}"),
            Ok(_) => panic!("opened a header cut at 10 bytes"),
        }
        let err = eph.open(source(300_000, 0)).unwrap().read_to_end(&mut Vec::new()).unwrap_err();
        assert!(!is_tampered(&err), "{err}");
        assert_eq!((err.kind(), err.to_string().as_str()), (io::ErrorKind::Other, "disk gone"));

        let mut out = Vec::new();
        eph.open(source(usize::MAX, 3)).unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out, data);

        // The last chunk's tag fails: the six whole 64 KiB chunks before it were decrypted.
        let mut tampered = sealed.clone();
        let at = tampered.len() - 100;
        tampered[at] ^= 0x80;
        let err = eph.open(&tampered[..]).unwrap().read_to_end(&mut Vec::new()).unwrap_err();
        assert!(is_tampered(&err), "{err}");
        assert!(
            err.to_string().contains("fails authentication after 393216 decrypted bytes ("),
            "{err}"
        );
    }
}
