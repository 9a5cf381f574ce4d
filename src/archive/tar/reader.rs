//! The tar walker: a daraa-ops archive, or a tar of a mongodump `--out` folder (a folder
//! itself is streamed as one, see [`crate::archive::mongodump::folder`]). Every member is
//! checked (paths, links, BSON, metadata JSON), counted and hashed, and compared with the
//! archive's own manifest and the sidecar's, or made into a manifest when there is none.

use std::collections::BTreeMap;
use std::io::{self, Read};

use sha2::{Digest, Sha256};

use super::layout;
use crate::archive::bson::{ArchiveError, corrupt, map_read_error, read_documents};
use crate::archive::event::{Batcher, Event, Verified};
use crate::archive::format::SourceFormat;
use crate::archive::found::Found;
use crate::archive::manifest::Manifest;
use crate::archive::metadata::CollectionMetadata;
use crate::digest::{MemberStats, SetDigest};
use crate::files::hex;

/// Checks a member path: relative, no `.`/`..`, at most `depth` parts.
pub fn check_member_path(path: &str, depth: usize) -> Result<(), ArchiveError> {
    let parts: Vec<&str> = path.split('/').collect();
    let bad = path.starts_with('/')
        || path.contains('\\')
        || parts.len() > depth
        || parts.iter().any(|p| p.is_empty() || *p == "." || *p == "..");
    if bad { Err(corrupt(format!("unsafe member path {path:?}"))) } else { Ok(()) }
}

/// Collection name of a `<db>/<escaped>.bson` or `.metadata.json` member.
pub fn collection_of(path: &str, suffix: &str) -> Result<String, ArchiveError> {
    let file = path.rsplit('/').next().unwrap_or(path);
    let escaped = file.strip_suffix(suffix).unwrap_or(file);
    crate::archive::names::unescape_collection(escaped)
        .ok_or_else(|| corrupt(format!("member {path:?} has a malformed collection name")))
}

/// Where a tar member belongs, once its path is understood.
enum Member {
    Prelude,
    Manifest,
    /// `stem` is `<db>/<escaped name>`, shared by a collection's two members.
    Metadata {
        db: String,
        collection: String,
        stem: String,
        gzip: bool,
    },
    Data {
        db: String,
        collection: String,
        stem: String,
        gzip: bool,
    },
    /// The top-level `oplog.bson`: daraa-ops' (replayed by a restore) or mongodump's
    /// `--oplog` (read past).
    Oplog {
        gzip: bool,
    },
    /// Read past: directories.
    Skip,
}

/// Classifies a tar member path. Besides daraa-ops' own layout (`prelude.json`,
/// `<db>/<file>`, `manifest.json`), a tar of a mongodump `--out` folder is read: members may
/// sit under one top-level folder (`dump_20261128/<db>/<file>`), start with `./`, be
/// `--gzip`ped (`.bson.gz`, `.metadata.json.gz`), and directories have entries of their own.
fn classify(path: &str, directory: bool, top: &mut Option<String>) -> Result<Member, ArchiveError> {
    let trimmed = path.strip_prefix("./").unwrap_or(path);
    let trimmed = trimmed.trim_end_matches('/');
    if directory && (trimmed.is_empty() || trimmed == ".") {
        return Ok(Member::Skip);
    }
    check_member_path(trimmed, 3)?;
    if directory {
        return Ok(Member::Skip);
    }
    let mut parts: Vec<&str> = trimmed.split('/').collect();
    if parts.len() == 3 {
        match top {
            Some(t) if t != parts[0] => {
                return Err(corrupt(format!(
                    "member {path:?} is under another top-level folder than {t:?}"
                )));
            }
            Some(_) => {}
            None => *top = Some(parts[0].to_owned()),
        }
        parts.remove(0);
    }
    let file = *parts.last().expect("one part at least");
    if file.strip_suffix(".gz").unwrap_or(file) == layout::PRELUDE {
        return Ok(Member::Prelude);
    }
    if parts.len() == 1 {
        return match file {
            layout::MANIFEST => Ok(Member::Manifest),
            "oplog.bson" | "oplog.bson.gz" => Ok(Member::Oplog { gzip: file.ends_with(".gz") }),
            _ => Err(corrupt(format!("unexpected member {path:?}"))),
        };
    }
    let db = parts[0].to_owned();
    if top.as_deref() == Some(parts[0]) && matches!(file, "oplog.bson" | "oplog.bson.gz") {
        return Ok(Member::Oplog { gzip: file.ends_with(".gz") });
    }
    let (file, gzip) = match file.strip_suffix(".gz") {
        Some(f) => (f, true),
        None => (file, false),
    };
    if let Some(stem) = file.strip_suffix(crate::archive::names::METADATA_SUFFIX) {
        let collection = collection_of(file, crate::archive::names::METADATA_SUFFIX)?;
        Ok(Member::Metadata { stem: format!("{db}/{stem}"), db, collection, gzip })
    } else if let Some(stem) = file.strip_suffix(crate::archive::names::DATA_SUFFIX) {
        let collection = collection_of(file, crate::archive::names::DATA_SUFFIX)?;
        Ok(Member::Data { stem: format!("{db}/{stem}"), db, collection, gzip })
    } else {
        Err(corrupt(format!("unexpected member {path:?}")))
    }
}

pub(crate) fn walk_tar<R: Read>(
    decoded: R,
    expected: Option<&Manifest>,
    documents: bool,
    mut visit: impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<Verified, ArchiveError> {
    let mut tar = tar::Archive::new(decoded);
    let mut data: BTreeMap<String, MemberStats> = BTreeMap::new();
    let mut metadata: BTreeMap<String, String> = BTreeMap::new();
    let mut manifest: Option<Manifest> = None;
    // Set by a daraa-ops prelude or a sidecar: such an archive must end with its manifest.
    let mut ours = expected.is_some();
    let mut top: Option<String> = None;
    let mut found = Found::default();
    // A collection's name as its metadata gives it (`collectionName`), by member stem: file
    // names are escaped, and tools have escaped them differently over time.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut members = 0;
    let mut oplog: Option<MemberStats> = None;
    for entry in tar.entries().map_err(map_read_error)? {
        let mut entry = entry.map_err(map_read_error)?;
        members += 1;
        let path = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| corrupt("a member name is not valid UTF-8"))?;
        let kind = entry.header().entry_type();
        let directory = kind == tar::EntryType::Directory;
        let member = classify(&path, directory, &mut top)?;
        if directory {
            continue;
        }
        if kind != tar::EntryType::Regular {
            return Err(corrupt(format!(
                "member {path:?} is not a regular file (links are refused)"
            )));
        }
        if manifest.is_some() {
            return Err(corrupt(format!(
                "member {path:?} follows manifest.json, which must be last"
            )));
        }
        match member {
            Member::Skip => {}
            // mongodump's `--oplog` holds every database's entries: read past, as before.
            Member::Oplog { .. } if !ours => {}
            Member::Oplog { gzip } => {
                oplog = Some(read_oplog(
                    member_reader(&mut entry, gzip),
                    &path,
                    documents,
                    &mut visit,
                )?);
            }
            Member::Manifest => manifest = Some(read_manifest(&mut entry)?),
            Member::Prelude => ours |= read_prelude(&mut entry, &path, &mut found)?,
            Member::Metadata { db, collection, stem, gzip } => {
                if !ours && !found.database(&db)? {
                    continue;
                }
                let text = read_small(&mut entry, gzip, 64 * 1024 * 1024)?;
                let parsed = CollectionMetadata::parse(&path, &collection, &text)?;
                let collection = parsed.name.clone();
                names.insert(stem, collection.clone());
                let sha = hex(&Sha256::digest(&text));
                metadata.insert(path.clone(), sha.clone());
                found.metadata(&collection, &parsed, sha);
                visit(Event::Metadata { collection, metadata: parsed })?;
            }
            Member::Data { db, collection, stem, gzip } => {
                if !ours && !found.database(&db)? {
                    continue;
                }
                let collection = names.get(&stem).cloned().unwrap_or(collection);
                let claimed = entry.header().size().map_err(map_read_error)?;
                let stats = read_collection(
                    member_reader(&mut entry, gzip),
                    &path,
                    &collection,
                    documents,
                    &mut visit,
                )?;
                if !gzip && stats.bytes != claimed {
                    return Err(corrupt(format!(
                        "{path} is truncated: {} of the {claimed} bytes its header claims",
                        stats.bytes
                    )));
                }
                found.data(&collection, &stats)?;
                data.insert(path, stats);
            }
        }
    }
    // Read to the end of the gzip stream: the tar reader stops at its end blocks, and damage in
    // the padding or in the last member's CRC would otherwise go unnoticed.
    let mut rest = tar.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(map_read_error)?;
    let Some(manifest) = manifest else {
        if ours {
            return Err(corrupt("manifest.json is missing: the archive is incomplete"));
        }
        return found.into_verified(SourceFormat::MongodumpDirectory, members);
    };
    if let Some(expected) = expected
        && expected != &manifest
    {
        return Err(corrupt(format!(
            "the archive's manifest.json differs from its sidecar manifest at {}",
            first_difference(&manifest, expected)
        )));
    }
    compare(&manifest, &data, &metadata)?;
    compare_oplog(&manifest, oplog.as_ref())?;
    Ok(Verified { manifest, members, format: SourceFormat::Daraa })
}

/// Where two manifests first differ, for the refusal: `collections[orders].documents: 120 in
/// the archive, 121 in the sidecar` (array elements by their `name` where they have one, by
/// index otherwise; values cut at 60 characters).
fn first_difference(archive: &Manifest, sidecar: &Manifest) -> String {
    use serde_json::Value;
    fn cut(v: &Value) -> String {
        let text = v.to_string();
        match text.char_indices().nth(60) {
            Some((at, _)) => format!("{}...", &text[..at]),
            None => text,
        }
    }
    fn diff(path: &str, ours: &Value, theirs: &Value) -> Option<String> {
        let at = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
        match (ours, theirs) {
            (Value::Object(left), Value::Object(right)) => {
                let keys: std::collections::BTreeSet<&String> =
                    left.keys().chain(right.keys()).collect();
                keys.into_iter().find_map(|k| {
                    let null = &Value::Null;
                    diff(&at(k), left.get(k).unwrap_or(null), right.get(k).unwrap_or(null))
                })
            }
            (Value::Array(left), Value::Array(right)) if left.len() == right.len() => {
                left.iter().zip(right).enumerate().find_map(|(i, (one, other))| {
                    let name = match (one.get("name"), other.get("name")) {
                        (Some(Value::String(name)), Some(Value::String(same))) if name == same => {
                            name.clone()
                        }
                        _ => i.to_string(),
                    };
                    diff(&format!("{path}[{name}]"), one, other)
                })
            }
            _ if ours == theirs => None,
            _ => Some(format!(
                "{path}: {} in the archive, {} in the sidecar",
                cut(ours),
                cut(theirs)
            )),
        }
    }
    let value = |m: &Manifest| serde_json::to_value(m).unwrap_or(Value::Null);
    diff("", &value(archive), &value(sidecar))
        .unwrap_or_else(|| "a field that reads the same in both".to_owned())
}

fn read_manifest<R: Read>(entry: &mut R) -> Result<Manifest, ArchiveError> {
    let text = read_small(entry, false, 64 * 1024 * 1024)?;
    let m: Manifest = serde_json::from_slice(&text)
        .map_err(|e| corrupt(format!("manifest.json is not a valid manifest: {e}")))?;
    check_format(&m)?;
    Ok(m)
}

/// Reads `prelude.json`; true when daraa-ops wrote the archive.
fn read_prelude<R: Read>(
    entry: &mut R,
    path: &str,
    found: &mut Found,
) -> Result<bool, ArchiveError> {
    let text = read_small(entry, path.ends_with(".gz"), 1024 * 1024)?;
    let prelude = serde_json::from_slice::<serde_json::Value>(&text)
        .map_err(|e| corrupt(format!("{path}: {e}")))?;
    let tool = prelude["ToolVersion"].as_str().unwrap_or_default();
    found.versions(prelude["ServerVersion"].as_str().unwrap_or_default(), tool);
    Ok(tool.starts_with("daraa-ops"))
}

/// A small member (JSON) whole, at most `limit` bytes of it.
fn read_small<R: Read>(entry: &mut R, gzip: bool, limit: u64) -> Result<Vec<u8>, ArchiveError> {
    let mut text = Vec::new();
    member_reader(entry, gzip).take(limit).read_to_end(&mut text).map_err(map_read_error)?;
    Ok(text)
}

/// A member's bytes, gunzipped when mongodump wrote it with `--gzip`.
fn member_reader<'a, R: Read + 'a>(entry: &'a mut R, gzip: bool) -> Box<dyn Read + 'a> {
    if gzip { Box::new(flate2::read::MultiGzDecoder::new(entry)) } else { Box::new(entry) }
}

/// Reads one collection's documents, handing them to `visit` in batches (with `documents`)
/// between a `DataStart` and a `DataEnd`.
fn read_collection<R: Read>(
    input: R,
    member: &str,
    collection: &str,
    documents: bool,
    visit: &mut impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<MemberStats, ArchiveError> {
    if documents {
        visit(Event::DataStart { collection: collection.to_owned() })?;
    }
    let mut digest = SetDigest::default();
    let mut batch = Batcher::default();
    let stats = read_documents(input, member, |doc| {
        if documents {
            digest.add(doc);
            if let Some(docs) = batch.push(doc, member)? {
                visit(Event::Batch { collection: collection.to_owned(), docs })?;
            }
        }
        Ok(())
    })?;
    if documents {
        if let Some(docs) = batch.take() {
            visit(Event::Batch { collection: collection.to_owned(), docs })?;
        }
        visit(Event::DataEnd {
            collection: collection.to_owned(),
            stats: stats.clone(),
            digest: digest.hex(),
        })?;
    }
    Ok(stats)
}

/// Reads the oplog member, handing its entries to `visit` in batches (with `documents`).
fn read_oplog<R: Read>(
    input: R,
    member: &str,
    documents: bool,
    visit: &mut impl FnMut(Event) -> Result<(), ArchiveError>,
) -> Result<MemberStats, ArchiveError> {
    let mut batch = Batcher::default();
    let stats = read_documents(input, member, |doc| {
        if documents && let Some(docs) = batch.push(doc, member)? {
            visit(Event::Oplog { docs })?;
        }
        Ok(())
    })?;
    if let Some(docs) = batch.take() {
        visit(Event::Oplog { docs })?;
    }
    Ok(stats)
}

/// The oplog member against the manifest's record of it: both or neither, equal.
fn compare_oplog(manifest: &Manifest, found: Option<&MemberStats>) -> Result<(), ArchiveError> {
    match (&manifest.oplog, found) {
        (None, Some(_)) => Err(corrupt(format!("member {} is not in the manifest", layout::OPLOG))),
        (Some(o), None) => Err(corrupt(format!("member {} is missing", o.member))),
        (Some(o), Some(got)) if got.documents != o.entries => Err(corrupt(format!(
            "{}: {} entries, manifest says {}",
            o.member, got.documents, o.entries
        ))),
        (Some(o), Some(got)) if got.bytes != o.bytes || got.sha256 != o.sha256 => {
            Err(corrupt(format!("checksum mismatch in {}", o.member)))
        }
        (None, None) | (Some(_), Some(_)) => Ok(()),
    }
}

/// A manifest of another format, or of a newer version of this one, is refused rather than
/// read as if it were this version.
fn check_format(m: &Manifest) -> Result<(), ArchiveError> {
    use crate::archive::manifest::{FORMAT, FORMAT_VERSION};
    if m.format != FORMAT {
        return Err(corrupt(format!(
            "manifest.json is of format {:?}, not {FORMAT:?}: not a daraa-ops backup",
            m.format
        )));
    }
    if m.format_version > FORMAT_VERSION {
        return Err(corrupt(format!(
            "archive format version {} is newer than this daraa-ops {} reads (version {FORMAT_VERSION}): upgrade daraa-ops to read it",
            m.format_version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(())
}

fn compare(
    manifest: &Manifest,
    data: &BTreeMap<String, MemberStats>,
    metadata: &BTreeMap<String, String>,
) -> Result<(), ArchiveError> {
    let mut seen_data = 0;
    for c in &manifest.collections {
        let meta = metadata.get(&c.metadata_file).ok_or_else(|| {
            corrupt(format!("collection {}: member {} is missing", c.name, c.metadata_file))
        })?;
        if *meta != c.metadata_sha256 {
            return Err(corrupt(format!(
                "collection {}: checksum mismatch in {}",
                c.name, c.metadata_file
            )));
        }
        let Some(file) = &c.data_file else { continue };
        seen_data += 1;
        let got = data
            .get(file)
            .ok_or_else(|| corrupt(format!("collection {}: member {file} is missing", c.name)))?;
        if got.documents != c.documents {
            return Err(corrupt(format!(
                "collection {}: {} documents in {file}, manifest says {}",
                c.name, got.documents, c.documents
            )));
        }
        if got.bytes != c.bytes {
            return Err(corrupt(format!(
                "collection {}: {} bytes in {file}, manifest says {}",
                c.name, got.bytes, c.bytes
            )));
        }
        if Some(&got.sha256) != c.sha256.as_ref() {
            return Err(corrupt(format!("collection {}: checksum mismatch in {file}", c.name)));
        }
    }
    if seen_data != data.len() || manifest.collections.len() != metadata.len() {
        let extra = data
            .keys()
            .find(|k| {
                !manifest.collections.iter().any(|c| c.data_file.as_deref() == Some(k.as_str()))
            })
            .or_else(|| {
                metadata
                    .keys()
                    .find(|k| !manifest.collections.iter().any(|c| &c.metadata_file == *k))
            });
        return Err(corrupt(format!(
            "member {} is not in the manifest",
            extra.map_or("?", String::as_str)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A member as the walker sees it, in words (for the table below).
    fn shown(path: &str, directory: bool, top: &mut Option<String>) -> String {
        match classify(path, directory, top) {
            Ok(Member::Prelude) => "prelude".into(),
            Ok(Member::Manifest) => "manifest".into(),
            Ok(Member::Oplog { gzip }) => format!("oplog gzip={gzip}"),
            Ok(Member::Skip) => "skip".into(),
            Ok(Member::Metadata { db, collection, stem, gzip }) => {
                format!("metadata {db} {collection} {stem} gzip={gzip}")
            }
            Ok(Member::Data { db, collection, stem, gzip }) => {
                format!("data {db} {collection} {stem} gzip={gzip}")
            }
            Err(ArchiveError::Corrupt(m)) => format!("refused: {m}"),
            Err(ArchiveError::Io(e)) => panic!("{e}"),
        }
    }

    /// Every member path a daraa-ops archive or a tar of a mongodump folder holds, and the
    /// paths refused: absolute, `..`, `.`, empty parts, backslashes, deeper than three parts,
    /// a second top-level folder, unknown files, malformed escapes.
    #[test]
    fn member_paths_are_classified_or_refused() {
        let mut none = None;
        for (path, dir, want) in [
            ("prelude.json", false, "prelude"),
            ("prelude.json.gz", false, "prelude"),
            ("manifest.json", false, "manifest"),
            ("oplog.bson", false, "oplog gzip=false"),
            ("oplog.bson.gz", false, "oplog gzip=true"),
            ("db/c.bson", false, "data db c db/c gzip=false"),
            ("db/oplog.bson", false, "data db oplog db/oplog gzip=false"),
            ("db/a.b%2Fc.metadata.json.gz", false, "metadata db a.b/c db/a.b%2Fc gzip=true"),
            ("db/order+events.bson.gz", false, "data db order events db/order+events gzip=true"),
            ("./", true, "skip"),
            (".", true, "skip"),
            ("", true, "skip"),
            ("./", false, "refused: unsafe member path \"\""),
            (".", false, "refused: unsafe member path \".\""),
            ("..", true, "refused: unsafe member path \"..\""),
            ("db/", true, "skip"),
            ("/etc/passwd", false, "refused: unsafe member path \"/etc/passwd\""),
            ("db/../c.bson", false, "refused: unsafe member path \"db/../c.bson\""),
            ("db/./c.bson", false, "refused: unsafe member path \"db/./c.bson\""),
            ("db//c.bson", false, "refused: unsafe member path \"db//c.bson\""),
            ("db\\c.bson", false, "refused: unsafe member path \"db\\\\c.bson\""),
            ("a/b/c/d.bson", false, "refused: unsafe member path \"a/b/c/d.bson\""),
            ("readme.txt", false, "refused: unexpected member \"readme.txt\""),
            ("db/c.txt", false, "refused: unexpected member \"db/c.txt\""),
            (
                "db/bad%zz.bson",
                false,
                "refused: member \"bad%zz.bson\" has a malformed collection name",
            ),
        ] {
            let mut top = None;
            assert_eq!(shown(path, dir, &mut top), want, "{path}");
            assert_eq!(top, none, "{path}: no top-level folder");
        }
        // A tar of a mongodump folder: everything under one top-level folder, `./` or not.
        let mut top = None;
        assert_eq!(shown("./dump_1/db/c.bson", false, &mut top), "data db c db/c gzip=false");
        assert_eq!(top.as_deref(), Some("dump_1"));
        assert_eq!(shown("dump_1/oplog.bson", false, &mut top), "oplog gzip=false");
        assert_eq!(
            shown("dump_1/db/c.metadata.json", false, &mut top),
            "metadata db c db/c gzip=false"
        );
        assert_eq!(shown("dump_1/prelude.json", false, &mut top), "prelude");
        assert_eq!(
            shown("dump_2/db/c.bson", false, &mut top),
            "refused: member \"dump_2/db/c.bson\" is under another top-level folder than \"dump_1\""
        );
        none = None;
        assert_eq!(shown("dump_1/", true, &mut none), "skip");
        assert_eq!(none, None, "a directory entry sets no top-level folder");
    }
}
