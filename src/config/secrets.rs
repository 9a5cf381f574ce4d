//! Secrets read from files (the Docker secrets convention), never from argv or the config text.
//!
//! A [`SecretFile`] is only a path until a command needs the value; then [`SecretFile::read`]
//! returns a `SecretString`, whose `Debug` is redacted. A file readable by group or others gets
//! a warning, as ssh does for keys.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct SecretFile(pub PathBuf);

impl SecretFile {
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Reads the secret: the file's content without one trailing newline (`echo pw > file`).
    pub fn read(&self, key: &str) -> Result<SecretString, ConfigError> {
        // Warned once per file and process, however often the file is read.
        static WARNED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
        let path = &self.0;
        let meta = std::fs::metadata(path).map_err(|source| ConfigError::SecretFile {
            key: key.to_owned(),
            path: path.clone(),
            source,
        })?;
        let mode = meta.permissions().mode();
        let first = WARNED.lock().is_ok_and(|mut w| {
            let new = !w.contains(path);
            if new {
                w.push(path.clone());
            }
            new
        });
        if mode & 0o077 != 0 && first {
            tracing::warn!(
                "secret file {} ({key}) is readable by group or others (mode {:o}); run: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
        let mut text = std::fs::read_to_string(path).map_err(|source| ConfigError::SecretFile {
            key: key.to_owned(),
            path: path.clone(),
            source,
        })?;
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        if text.is_empty() {
            return Err(ConfigError::EmptySecret { key: key.to_owned(), path: path.clone() });
        }
        Ok(SecretString::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn reads_without_trailing_newline_and_names_missing_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "s3cr3t\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let s = SecretFile(p).read("mongodb.password_file").unwrap();
        assert_eq!(s.expose_secret(), "s3cr3t");

        let missing = dir.path().join("nope");
        let err = SecretFile(missing.clone()).read("redis.password_file").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&missing.display().to_string()), "{msg}");
        assert!(msg.contains("redis.password_file"), "{msg}");
    }

    #[test]
    fn empty_secret_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "\n").unwrap();
        assert!(matches!(SecretFile(p).read("k"), Err(ConfigError::EmptySecret { .. })));
    }

    /// What `tracing` writes, kept for the test to read.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A secret file group or others can read is warned about once per file however often it
    /// is read, with its mode and the command that mends it; a private one never. The value is
    /// read either way.
    #[test]
    fn a_readable_secret_file_is_warned_about_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, mode: u32| {
            let p = dir.path().join(name);
            std::fs::write(&p, "pw\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            SecretFile(p)
        };
        let (open, group, private) =
            (file("open", 0o644), file("group", 0o640), file("own", 0o600));
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            for f in [&open, &open, &private, &group, &private, &open] {
                assert_eq!(f.read("mongodb.password_file").unwrap().expose_secret(), "pw");
            }
        });
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let warned = |f: &SecretFile, mode: &str| {
            let p = f.path().display();
            format!(
                "secret file {p} (mongodb.password_file) is readable by group or others (mode {mode}); run: chmod 600 {p}"
            )
        };
        assert_eq!(text.matches("is readable by group or others").count(), 2, "{text}");
        assert_eq!(text.matches(&warned(&open, "644")).count(), 1, "{text}");
        assert_eq!(text.matches(&warned(&group, "640")).count(), 1, "{text}");
    }
}
