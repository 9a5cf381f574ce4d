//! The local backup directory. Files are created 0600 and written atomically (temp + fsync +
//! rename + fsync of the directory).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::ObjectInfo;
use crate::archive::writer::write_atomic;
use crate::error::{CliError, ErrorKind};

#[derive(Debug, Clone)]
pub struct LocalStore {
    pub dir: PathBuf,
}

fn io_err(what: &str, path: &Path, e: &std::io::Error) -> CliError {
    let hint = match e.raw_os_error() {
        Some(28) => Some("the disk is full: free space or point backup.dir elsewhere"),
        Some(13) => Some("check the permissions of the backup directory"),
        _ => None,
    };
    let err = CliError::new(ErrorKind::Runtime, format!("cannot {what} {}: {e}", path.display()));
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

impl LocalStore {
    pub fn new(dir: PathBuf) -> Self {
        LocalStore { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn put_file(&self, name: &str, path: &Path) -> Result<(), CliError> {
        let dest = self.path(name);
        if path != dest {
            std::fs::copy(path, &dest).map_err(|e| io_err("copy to", &dest, &e))?;
        }
        Ok(())
    }

    pub fn put_bytes(&self, name: &str, data: &[u8]) -> Result<(), CliError> {
        let dest = self.path(name);
        write_atomic(&dest, data).map_err(|e| io_err("write", &dest, &e))
    }

    pub fn get_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, CliError> {
        let p = self.path(name);
        match std::fs::read(&p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("read", &p, &e)),
        }
    }

    pub fn reader(&self, name: &str) -> Result<Box<dyn Read + Send>, CliError> {
        let p = self.path(name);
        let f = std::fs::File::open(&p).map_err(|e| io_err("open", &p, &e))?;
        Ok(Box::new(f))
    }

    pub fn list(&self) -> Result<Vec<ObjectInfo>, CliError> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("list", &self.dir, &e)),
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| io_err("list", &self.dir, &e))?;
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            if let Some(name) = entry.file_name().to_str() {
                out.push(ObjectInfo { name: name.to_owned(), size: meta.len() });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub fn delete(&self, names: &[String]) -> Result<(), CliError> {
        for n in names {
            let p = self.path(n);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("delete", &p, &e)),
            }
        }
        Ok(())
    }
}
