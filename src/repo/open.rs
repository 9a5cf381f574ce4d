//! A backup's plaintext: the stored bytes, decrypted with the configured identities when they
//! are an age file (chosen by the file's first bytes), with every reader (verify, restore,
//! drill, import, mask check, rekey) getting the same errors.

use super::keys::load_identities;
use super::resolve::Resolved;
use crate::archive::crypt;
use crate::error::CliError;

impl Resolved {
    /// The backup's plaintext as a stream: [`raw_reader`](Self::raw_reader) decrypted when it
    /// is an age file.
    pub async fn reader(&self) -> anyhow::Result<Box<dyn std::io::Read + Send>> {
        let raw = self.raw_reader().await?;
        tokio::task::block_in_place(|| self.decrypt(raw))
    }

    /// Whether the backup is encrypted, as far as its name and sidecar tell.
    pub fn encrypted(&self) -> bool {
        self.archive_name.ends_with(crypt::SUFFIX)
            || self.sidecar.as_ref().is_some_and(|s| s.archive.encryption.is_some())
    }

    /// The recipients the sidecar says the backup was encrypted for.
    fn recipients_text(&self) -> String {
        match self.sidecar.as_ref().and_then(|s| s.archive.encryption.as_ref()) {
            Some(e) => e.recipients.join(", "),
            None => "recipients not recorded (no sidecar)".into(),
        }
    }

    /// `raw` as plaintext: unchanged when it is not an age file, else decrypted with the
    /// configured identities (reads the age header now; blocking). No identity configured is
    /// exit 2; none that opens it or a damaged header is exit 6, naming the recipients.
    pub fn decrypt<'a, R: std::io::Read + Send + 'a>(
        &self,
        raw: R,
    ) -> anyhow::Result<Box<dyn std::io::Read + Send + 'a>> {
        use std::io::Read as _;
        let mut raw = raw;
        let mut head = vec![0u8; crypt::MAGIC.len()];
        let mut n = 0;
        while n < head.len() {
            match raw.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(
                        anyhow::Error::new(e).context(format!("reading {}", self.describe()))
                    );
                }
            }
        }
        head.truncate(n);
        let encrypted = crypt::is_encrypted(&head);
        let stream = std::io::Cursor::new(head).chain(raw);
        if !encrypted {
            return Ok(Box::new(stream));
        }
        let identities = load_identities(&self.identity_files)
            .map_err(|e| {
                crate::error::KeyError::wrap(e.context(format!(
                    "{} is encrypted with age (for {})",
                    self.describe(),
                    self.recipients_text()
                )))
            })?
            .ok_or_else(|| {
            crate::error::KeyError::wrap(CliError::usage(format!(
                "{} is encrypted with age (for {}) and no identity is configured to open it",
                self.describe(),
                self.recipients_text()
            ))
            .with_hint(
                "set backup.encryption.identity_files (or DARAA_OPS_AGE_IDENTITY_FILE) to the private key file of one of those recipients, mode 0600",
            ).into())
        })?;
        let recorded = self
            .sidecar
            .as_ref()
            .and_then(|s| s.archive.encryption.as_ref())
            .map(|e| e.recipients.clone())
            .unwrap_or_default();
        crypt::open(stream, &identities).map_err(|e| match e {
            // One of the recorded recipients is ours, yet nothing opens: the header changed.
            crypt::OpenError::NoMatchingKey if identities.opens_any(&recorded) => CliError::new(
                crate::error::Outcome::Drift,
                format!(
                    "{}: the age header is damaged: it was encrypted for {} (one of them is {}'s key), and that key does not open it",
                    self.describe(),
                    recorded.join(", "),
                    self.identity_files
                        .iter()
                        .map(|f| f.path().display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            )
            .with_hint("this archive cannot be trusted; nothing was read from it")
            .into(),
            crypt::OpenError::NoMatchingKey => crate::error::KeyError::wrap(CliError::new(
                crate::error::Outcome::Drift,
                format!(
                    "no configured identity opens {}: it was encrypted for {}; the identities in {} answer to {}",
                    self.describe(),
                    self.recipients_text(),
                    self.identity_files
                        .iter()
                        .map(|f| f.path().display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    identities.public().join(", ")
                ),
            )
            .with_hint("add the identity of one of those recipients to backup.encryption.identity_files")
            .into()),
            crypt::OpenError::Damaged(msg) => CliError::new(
                crate::error::Outcome::Drift,
                format!("{}: {msg}", self.describe()),
            )
            .with_hint("this archive cannot be trusted; nothing was read from it")
            .into(),
            crypt::OpenError::Io(e) => {
                anyhow::Error::new(e).context(format!("reading {}", self.describe()))
            }
        })
    }
}
