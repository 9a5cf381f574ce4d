//! A mongodump `--out` folder streamed as a tar, so the tar walker reads a folder as it reads
//! a tar of it.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// A mongodump `--out` folder as a tar stream, made on a thread as it is read, so that the
/// tar walker reads a folder as it reads a tar of it. `dir` is the `--out` folder (a
/// subfolder per database) or one database's folder. Each database's metadata files go
/// first, so that a restore creates every collection with its options before its documents
/// come. Symbolic links go in as links, which the walker refuses.
pub fn directory_stream(dir: PathBuf) -> impl Read + Send {
    crate::files::spawn_reader(move |w| write_directory_tar(&dir, w))
}

fn is_dump_file(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    name.ends_with(crate::archive::names::DATA_SUFFIX)
        || name.ends_with(crate::archive::names::METADATA_SUFFIX)
}

fn sorted_entries(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().into_string().map_err(|n| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("file name {} is not UTF-8", n.display()),
            )
        })?;
        entries.push((name, e.path()));
    }
    entries.sort();
    Ok(entries)
}

fn write_directory_tar(dir: &Path, w: &mut dyn Write) -> io::Result<()> {
    let mut tar = tar::Builder::new(w);
    tar.follow_symlinks(false);
    let entries = sorted_entries(dir)?;
    let one_database = entries.iter().any(|(n, _)| is_dump_file(n) && !n.starts_with("oplog.bson"));
    if one_database {
        let db = dir.file_name().and_then(|n| n.to_str()).unwrap_or("db").to_owned();
        append_database(&mut tar, dir, &db)?;
    } else {
        for (name, path) in entries {
            if std::fs::symlink_metadata(&path)?.is_dir() {
                append_database(&mut tar, &path, &name)?;
            } else {
                tar.append_path_with_name(&path, &name)?;
            }
        }
    }
    tar.finish()
}

fn append_database<W: Write>(tar: &mut tar::Builder<W>, dir: &Path, db: &str) -> io::Result<()> {
    let entries = sorted_entries(dir)?;
    let metadata = |n: &str| {
        n.strip_suffix(".gz").unwrap_or(n).ends_with(crate::archive::names::METADATA_SUFFIX)
    };
    let (first, rest): (Vec<_>, Vec<_>) = entries.into_iter().partition(|(n, _)| metadata(n));
    for (name, path) in first.into_iter().chain(rest) {
        tar.append_path_with_name(&path, format!("{db}/{name}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tar a folder becomes: (name, bytes) of each entry, in order.
    fn entries(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut archive = tar::Archive::new(directory_stream(dir.to_path_buf()));
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = e.path().unwrap().to_string_lossy().into_owned();
                let mut bytes = Vec::new();
                e.read_to_end(&mut bytes).unwrap();
                (name, bytes)
            })
            .collect()
    }

    /// A `--out` folder (a folder per database, the oplog beside them) and one database's
    /// folder read as the tar of it: names prefixed with the database, each database's
    /// metadata before its data, bytes unchanged.
    #[test]
    fn a_dump_folder_reads_as_its_tar_metadata_first() {
        let out = tempfile::tempdir().unwrap();
        let shop = out.path().join("shop");
        std::fs::create_dir(&shop).unwrap();
        for (name, text) in [
            ("orders.bson", "o-data"),
            ("orders.metadata.json", "o-meta"),
            ("طلبات.bson.gz", "t-data"),
            ("طلبات.metadata.json.gz", "t-meta"),
        ] {
            std::fs::write(shop.join(name), text).unwrap();
        }
        std::fs::write(out.path().join("oplog.bson"), "oplog").unwrap();
        let names = |e: Vec<(String, Vec<u8>)>| -> Vec<(String, String)> {
            e.into_iter().map(|(n, b)| (n, String::from_utf8(b).unwrap())).collect()
        };
        let pair = |n: &str, b: &str| (n.to_owned(), b.to_owned());
        let shop_entries = [
            pair("shop/orders.metadata.json", "o-meta"),
            pair("shop/طلبات.metadata.json.gz", "t-meta"),
            pair("shop/orders.bson", "o-data"),
            pair("shop/طلبات.bson.gz", "t-data"),
        ];
        let mut whole = vec![pair("oplog.bson", "oplog")];
        whole.extend(shop_entries.iter().cloned());
        assert_eq!(names(entries(out.path())), whole);
        // One database's folder: its name is the database.
        assert_eq!(names(entries(&shop)), shop_entries);
        // Dump files are data and metadata, plain or gzip'd; a folder's name is none.
        assert!(
            !is_dump_file("shop") && is_dump_file("a.bson.gz") && is_dump_file("a.metadata.json")
        );
    }
}
