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
}
