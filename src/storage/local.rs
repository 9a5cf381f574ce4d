//! The local backup directory. Files are created 0600 and written atomically (temp + fsync +
//! rename + fsync of the directory).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{ObjectInfo, StorageError};
use crate::files::write_atomic;

#[derive(Debug, Clone)]
pub struct LocalStore {
    pub dir: PathBuf,
}

fn io_err(what: &str, path: &Path, e: &std::io::Error) -> StorageError {
    StorageError::local(what, path, e)
}

impl LocalStore {
    pub fn new(dir: PathBuf) -> Self {
        LocalStore { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Puts `path`'s content under `name`. A file already staged inside the directory is
    /// renamed into place (a backup never copies its archive); another is copied to a
    /// temporary name first. Either way the name appears only complete, and durably.
    pub fn put_file(&self, name: &str, path: &Path) -> Result<(), StorageError> {
        let dest = self.path(name);
        if path == dest {
            return Ok(());
        }
        if path.parent() == Some(self.dir.as_path()) {
            std::fs::rename(path, &dest)
                .and_then(|()| crate::files::sync_dir(&self.dir))
                .map_err(|e| io_err("rename into", &dest, &e))?;
            return Ok(());
        }
        let tmp = self.path(&format!(".{name}.tmp-{}", std::process::id()));
        let copied = std::fs::copy(path, &tmp)
            .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
            .and_then(|()| std::fs::rename(&tmp, &dest))
            .and_then(|()| crate::files::sync_dir(&self.dir));
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err("copy to", &dest, &e));
        }
        Ok(())
    }

    /// Writes `name` atomically and durably; the folder is created (0700) on first write.
    pub fn put_bytes(&self, name: &str, data: &[u8]) -> Result<(), StorageError> {
        use std::os::unix::fs::DirBuilderExt as _;
        let dest = self.path(name);
        if !self.dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir)
                .map_err(|e| io_err("create", &self.dir, &e))?;
        }
        write_atomic(&dest, data).map_err(|e| io_err("write", &dest, &e))
    }

    pub fn get_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let p = self.path(name);
        match std::fs::read(&p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("read", &p, &e)),
        }
    }

    pub fn reader(&self, name: &str) -> Result<Box<dyn Read + Send>, StorageError> {
        let p = self.path(name);
        let f = std::fs::File::open(&p).map_err(|e| io_err("open", &p, &e))?;
        Ok(Box::new(f))
    }

    pub fn list(&self) -> Result<Vec<ObjectInfo>, StorageError> {
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

    pub fn delete(&self, names: &[String]) -> Result<(), StorageError> {
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
