//! Archive format tests without a server: every bsonzoo value through writer and verifier,
//! corruption, truncation, and hostile members.

mod mongodump;

use std::io::Write as _;

use bson::RawDocumentBuf;
use sha2::{Digest, Sha256};

use super::bson::{ArchiveError, read_documents};
use super::gz::{Codec, GzPool};
use super::manifest::{CollectionEntry, FORMAT, FORMAT_VERSION, Manifest};
use super::tar::writer::{ArchiveWriter, Compressed, EntryData};
use super::testio::Uneven;
use super::walk::verify;
use crate::files::hex;
use daraa_devdata::zoo;

fn zoo_bson() -> Vec<u8> {
    zoo::documents()
        .iter()
        .flat_map(|d| RawDocumentBuf::try_from(d).unwrap().into_bytes())
        .collect()
}

fn manifest_for(data: &[u8], docs: u64, meta: &[u8]) -> Manifest {
    let entries = vec![CollectionEntry {
        name: "bsonzoo".into(),
        kind: "collection".into(),
        data_file: Some("db/bsonzoo.bson".into()),
        metadata_file: "db/bsonzoo.metadata.json".into(),
        documents: docs,
        bytes: data.len() as u64,
        sha256: Some(hex(&Sha256::digest(data))),
        metadata_sha256: hex(&Sha256::digest(meta)),
        cluster_time: None,
    }];
    Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        tool_version: "test".into(),
        id: "daraa-db-20260101T000000Z".into(),
        label: None,
        created_at: "2026-01-01T00:00:00Z".into(),
        completed_at: "2026-01-01T00:00:01Z".into(),
        server_version: "7.0.0".into(),
        database: "db".into(),
        totals: Manifest::totals_of(&entries),
        shrunk: None,
        imported: None,
        container: None,
        oplog: None,
        not_point_in_time: None,
        collections: entries,
    }
}

/// Writes a valid archive of the zoo; returns (archive bytes, manifest).
fn zoo_archive(dir: &std::path::Path) -> (Vec<u8>, Manifest) {
    archive_of(dir, &zoo_bson(), zoo::documents().len() as u64)
}

/// 9,000 orders-like documents of varied numbers and text (about 5 MiB of BSON: three gzip
/// members), deterministic.
fn varied_archive(dir: &std::path::Path) -> (Vec<u8>, Manifest) {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut data = Vec::new();
    for i in 0..9000_i64 {
        let d = bson::doc! {
            "_id": i, "total": (next() % 1_000_000) as i64, "rate": (next() % 1000) as f64 / 7.0,
            "note": format!("{:x}-{:x}-{:x}", next(), next(), next()),
            "items": [(next() % 97) as i32, (next() % 89) as i32],
            "blob": bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: next().to_le_bytes().repeat(60) },
        };
        data.extend(RawDocumentBuf::try_from(&d).unwrap().into_bytes());
    }
    archive_of(dir, &data, 9000)
}

/// [`varied_archive`] written twice, gzip and zstd (the same data and manifest):
/// (gzip bytes, zstd bytes, manifest).
fn varied_archives(dir: &std::path::Path) -> (Vec<u8>, Vec<u8>, Manifest) {
    let (gz, gz_manifest) = varied_archive(dir);
    let data = member(&decompressed(Codec::Gzip, &gz), "db/bsonzoo.bson");
    let (zst, manifest) = archive_with(dir, &data, 9000, Codec::Zstd);
    assert_eq!(manifest, gz_manifest);
    (gz, zst, manifest)
}

fn archive_of(dir: &std::path::Path, data: &[u8], documents: u64) -> (Vec<u8>, Manifest) {
    archive_with(dir, data, documents, Codec::Gzip)
}

fn archive_with(
    dir: &std::path::Path,
    data: &[u8],
    documents: u64,
    codec: Codec,
) -> (Vec<u8>, Manifest) {
    archive_edited(dir, data, documents, codec, |_| {})
}

/// As [`archive_with`], with the manifest changed by `edit` before it is written.
fn archive_edited(
    dir: &std::path::Path,
    data: &[u8],
    documents: u64,
    codec: Codec,
    edit: impl FnOnce(&mut Manifest),
) -> (Vec<u8>, Manifest) {
    let data = data.to_vec();
    let meta = br#"{"options":{},"indexes":[],"collectionName":"bsonzoo","type":"collection"}"#;
    let mut manifest = manifest_for(&data, documents, meta);
    edit(&mut manifest);
    let path = dir.join(format!("a.{codec:?}"));
    let _ = std::fs::remove_file(&path);
    let mut w = ArchiveWriter::create_with(&path, codec, 6, 0, None).unwrap();
    w.append_bytes("prelude.json", br#"{"ServerVersion":"7.0.0"}"#).unwrap();
    // As a backup writes it: compressed once while dumped, spliced in.
    let (staged, info) = staged_with(&data, 6, codec);
    w.append_compressed("db/bsonzoo.bson", info, &mut &staged[..]).unwrap();
    w.append_bytes("db/bsonzoo.metadata.json", meta).unwrap();
    w.append_bytes("manifest.json", &serde_json::to_vec(&manifest).unwrap()).unwrap();
    let (size, sha) = w.finish().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(size, bytes.len() as u64);
    assert_eq!(sha, hex(&Sha256::digest(&bytes)));
    (bytes, manifest)
}

#[test]
fn every_bson_type_round_trips_through_an_archive() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, manifest) = zoo_archive(dir.path());
    let v = verify(&bytes[..], Some(&manifest)).unwrap();
    assert_eq!(v.manifest, manifest);
    assert_eq!(v.members, 4);

    // Extracted bytes equal the encoded zoo, document by document (decimal128, min/max key,
    // code, NaN, -0.0, infinities, nested arrays: everything FerretDB cannot store).
    let zoo = member(&decompressed(Codec::Gzip, &bytes), "db/bsonzoo.bson");
    let mut got = Vec::new();
    read_documents(&zoo[..], "zoo", |d| {
        got.push(d.to_vec());
        Ok(())
    })
    .unwrap();
    let expected: Vec<Vec<u8>> = zoo::documents()
        .iter()
        .map(|d| RawDocumentBuf::try_from(d).unwrap().into_bytes())
        .collect();
    assert_eq!(got, expected);
    let negzero = bson::Document::from_reader(&got[2][..]).unwrap();
    assert!(negzero.get_f64("v").unwrap().is_sign_negative());
}

/// `data` as the dump stages it: compressed at `level` by [`EntryData`], padded to the block.
fn staged(data: &[u8], level: u32) -> (Vec<u8>, Compressed) {
    staged_with(data, level, Codec::Gzip)
}

fn staged_with(data: &[u8], level: u32, codec: Codec) -> (Vec<u8>, Compressed) {
    let mut e = EntryData::new(Vec::new(), GzPool::with_codec(codec, level, 2));
    for piece in data.chunks(70_001) {
        e.write_all(piece).unwrap();
    }
    let (bytes, info) = e.finish(data.len() as u64).unwrap();
    assert_eq!(info, Compressed { size: data.len() as u64, compressed: bytes.len() as u64 });
    (bytes, info)
}

/// Entries spliced in compressed, decompressed, are the tar stream one tar builder writes for
/// the same entries, byte for byte: headers, GNU long names (over 100 bytes, unicode), the
/// padding of sizes around the block, empty data, the end blocks. GNU tar, Python's tarfile
/// and mongorestore read the real archives (tests/it/backup.rs, tests/it/interop.rs).
#[test]
fn compressed_once_entries_are_the_same_tar_stream() {
    for codec in [Codec::Gzip, Codec::Zstd] {
        same_tar_stream(codec);
    }
}

/// The data of the member `name` of a plain tar stream.
fn member(tar: &[u8], name: &str) -> Vec<u8> {
    let mut archive = tar::Archive::new(tar);
    let mut entry = archive
        .entries()
        .unwrap()
        .map(Result::unwrap)
        .find(|e| e.path().unwrap().to_str() == Some(name))
        .unwrap_or_else(|| panic!("no member {name}"));
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
    data
}

/// The whole of a file written with `codec`, decompressed as `tar xz` or `zstd -dc` would.
fn decompressed(codec: Codec, file: &[u8]) -> Vec<u8> {
    use std::io::Read as _;
    let mut got = Vec::new();
    match codec {
        Codec::Gzip => flate2::read::MultiGzDecoder::new(file).read_to_end(&mut got),
        Codec::Zstd => zstd::stream::read::Decoder::new(file).unwrap().read_to_end(&mut got),
    }
    .unwrap();
    got
}

fn same_tar_stream(codec: Codec) {
    use std::io::Read as _;
    let long = format!("db/{}.bson", "commandes.détails.ünïcode".repeat(6));
    let sizes = [0usize, 1, 511, 512, 513, 1024, 300_000, 700_001];
    let entries: Vec<(String, Vec<u8>)> = sizes
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            let name = if k == 3 { long.clone() } else { format!("db/c{k}.bson") };
            (name, (0..n).map(|i| (i * 31 + k * 7 + i / 1000) as u8).collect())
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("a.{codec:?}"));
    let mut w = ArchiveWriter::create_with(&path, codec, 6, 7, None).unwrap();
    let mut expected = tar::Builder::new(Vec::new());
    let mut spliced = Vec::new();
    for (k, (name, data)) in entries.iter().enumerate() {
        let meta = format!("{{\"n\":{k}}}");
        w.append_bytes(&format!("db/m{k}.metadata.json"), meta.as_bytes()).unwrap();
        let (bytes, info) = staged_with(data, 6, codec);
        w.append_compressed(name, info, &mut &bytes[..]).unwrap();
        spliced.push(bytes);
        for (n, d) in
            [(format!("db/m{k}.metadata.json"), meta.as_bytes()), (name.clone(), &data[..])]
        {
            let mut h = tar::Header::new_gnu();
            h.set_size(d.len() as u64);
            h.set_mode(0o600);
            h.set_mtime(7);
            h.set_entry_type(tar::EntryType::Regular);
            expected.append_data(&mut h, n, d).unwrap();
        }
    }
    w.finish().unwrap();
    let expected = expected.into_inner().unwrap();
    let file = std::fs::read(&path).unwrap();
    // Compressed once: each entry's staged bytes are in the file as they were staged, in order.
    let mut at = 0;
    for bytes in spliced.iter().filter(|b| !b.is_empty()) {
        let found = file[at..].windows(bytes.len()).position(|w| w == &bytes[..]);
        at += found.expect("a staged entry's bytes are not in the archive as staged") + bytes.len();
    }
    let got = decompressed(codec, &file);
    assert_eq!(got.len(), expected.len(), "{codec:?}");
    assert!(got == expected, "{codec:?}: the decompressed archive is not the tar stream");
    // And the tar crate reads every entry back whole.
    let mut archive = tar::Archive::new(&got[..]);
    let back: Vec<(String, Vec<u8>)> = archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let mut d = Vec::new();
            e.read_to_end(&mut d).unwrap();
            (e.path().unwrap().to_string_lossy().into_owned(), d)
        })
        .filter(|(n, _)| !n.ends_with(".metadata.json"))
        .collect();
    assert!(back == entries, "entries read back differ");
}

/// A staged entry whose size is not what was written is refused, and so is staged data
/// shorter or longer than was staged: never a shifted archive.
#[test]
fn a_staged_entry_of_the_wrong_size_is_an_error() {
    for declared in [599, 601] {
        let mut e = EntryData::new(Vec::new(), GzPool::new(1, 1));
        e.write_all(&[1; 600]).unwrap();
        let err = e.finish(declared).unwrap_err();
        assert!(err.to_string().contains(&format!("600 bytes staged where {declared}")), "{err}");
    }
    let (bytes, info) = staged(&[7; 5000], 1);
    let dir = tempfile::tempdir().unwrap();
    for (k, data) in
        [&bytes[..bytes.len() - 1], &[&bytes[..], &[0]].concat()[..]].iter().enumerate()
    {
        let mut w =
            ArchiveWriter::create(&dir.path().join(format!("{k}.tar.gz")), 1, 0, None).unwrap();
        let err = w.append_compressed("db/c.bson", info, &mut &data[..]).unwrap_err();
        assert!(err.to_string().contains("the staged data of db/c.bson is"), "{err}");
    }
}

/// A `.tar.zst` (`backup.compression: zstd`) is a series of zstd frames, one per compressed
/// chunk, with their checksums: the same tar stream as the `.tar.gz` of the same data,
/// verified like one (found by its magic), and a flipped byte or a cut anywhere is found.
#[test]
fn zstd_archives_hold_the_same_tar_and_verify_like_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let (gz, zst, manifest) = varied_archives(dir.path());
    assert!(zst.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]), "no zstd magic");
    assert!(decompressed(Codec::Zstd, &zst) == decompressed(Codec::Gzip, &gz), "another tar");
    // One frame per chunk of 256 KiB (and the plain tar bytes), each with a checksum: the
    // frame header's descriptor has bit 2 set (RFC 8878, 3.1.1.1.1).
    let mut frames = Vec::new();
    let mut rest = &zst[..];
    while !rest.is_empty() {
        let n = zstd::zstd_safe::find_frame_compressed_size(rest).unwrap();
        frames.push(&rest[..n]);
        rest = &rest[n..];
    }
    let data_len = manifest.collections[0].bytes as usize;
    assert!(frames.len() >= data_len / (256 * 1024), "{} frames", frames.len());
    for f in &frames {
        assert!(f.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) && f[4] & 0b100 != 0, "{:?}", &f[..6]);
    }
    let v = verify(&zst[..], Some(&manifest)).unwrap();
    assert_eq!((v.manifest, v.members), (manifest.clone(), 4));
    for pos in [10, zst.len() / 3, zst.len() / 2, zst.len() - 10] {
        let mut bad = zst.clone();
        bad[pos] ^= 0x01;
        let msg = corrupt_message(verify(&bad[..], Some(&manifest)));
        assert!(!msg.is_empty(), "{pos}");
    }
    for cut in [zst.len() / 2, zst.len() - 1, 100] {
        let msg = corrupt_message(verify(&zst[..cut], Some(&manifest)));
        assert!(!msg.is_empty(), "{cut}");
    }
}

/// Short and interrupted reads anywhere (in the first bytes, inside compressed members, over
/// the decoded 1 MiB chunks) change nothing that verify finds, with either codec.
#[test]
fn short_and_interrupted_reads_are_retried_wherever_they_fall() {
    let dir = tempfile::tempdir().unwrap();
    let (gz, zst, manifest) = varied_archives(dir.path());
    for (bytes, step) in [(&gz, 13), (&gz, 7_001), (&zst, 5), (&zst, 65_537)] {
        let v = verify(Uneven { interrupt_every: 2, ..Uneven::new(bytes, step) }, Some(&manifest))
            .unwrap();
        assert_eq!(v.manifest.collections[0].documents, 9000);
        assert_eq!(v.manifest.collections[0].sha256, manifest.collections[0].sha256);
    }
}

fn corrupt_message(r: Result<super::Verified, ArchiveError>) -> String {
    match r {
        Err(ArchiveError::Corrupt(m)) => m,
        Err(ArchiveError::Io(e)) => panic!("expected Corrupt, got Io({e})"),
        Ok(_) => panic!("expected Corrupt, got Ok"),
    }
}

#[test]
fn flipped_byte_and_truncation_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, manifest) = zoo_archive(dir.path());
    for pos in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 30] {
        let mut bad = bytes.clone();
        bad[pos] ^= 0x01;
        let msg = corrupt_message(verify(&bad[..], Some(&manifest)));
        assert!(!msg.is_empty());
    }
    for cut in [bytes.len() / 2, bytes.len() - 1, 100] {
        let msg = corrupt_message(verify(&bytes[..cut], Some(&manifest)));
        assert!(!msg.is_empty(), "{cut}");
    }
}

/// Where each gzip member of a multi-member file starts.
fn member_starts(bytes: &[u8]) -> Vec<usize> {
    use std::io::Read as _;
    let mut starts = Vec::new();
    let mut cursor = std::io::Cursor::new(bytes);
    while (cursor.position() as usize) < bytes.len() {
        starts.push(cursor.position() as usize);
        let mut d = flate2::bufread::GzDecoder::new(&mut cursor);
        std::io::copy(&mut d, &mut std::io::sink()).unwrap();
        let _ = d.read(&mut [0u8; 1]);
    }
    starts
}

/// No flipped bit changes the data undetected. Every flip either fails the archive as damaged
/// (exit 6 — never an I/O error, exit 1) or leaves the decompressed bytes exactly as they
/// were: the MTIME, XFL and OS fields of each gzip member's header (bytes 4 to 9: no checksum
/// covers them and no reader uses them), and bits a deflate decoder never reads or whose flip
/// decodes to the same bytes (padding after a block's end code, Huffman-table entries of
/// symbols the block does not use). Every header byte and last deflate byte of every member
/// is flipped, and every k-th byte of the rest; detections are counted.
#[test]
#[allow(clippy::print_stderr)] // the counts, for docs/testing.md
fn no_flipped_bit_changes_the_data_undetected() {
    use std::io::Read as _;
    let dir = tempfile::tempdir().unwrap();
    let (bytes, manifest) = varied_archive(dir.path());
    let starts = member_starts(&bytes);
    assert!(starts.len() >= 2, "a multi-member archive: {starts:?}");
    let mut original = Vec::new();
    flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut original).unwrap();
    let header_field = |pos: usize| starts.iter().any(|s| (s + 4..s + 10).contains(&pos));
    let mut positions: std::collections::BTreeSet<usize> =
        (0..bytes.len()).step_by(bytes.len() / 150 + 1).collect();
    for s in &starts {
        positions.extend(*s..(*s + 10).min(bytes.len()));
    }
    positions.extend(starts.iter().skip(1).chain(std::iter::once(&bytes.len())).map(|e| e - 9));
    positions.insert(bytes.len() - 1);
    let (mut detected, mut in_header, mut harmless, mut flips) = (0, 0, 0, 0);
    for &pos in &positions {
        for bit in [0x04, 0x80] {
            let mut bad = bytes.clone();
            bad[pos] ^= bit;
            flips += 1;
            match verify(&bad[..], Some(&manifest)) {
                Err(ArchiveError::Corrupt(_)) => {
                    assert!(!header_field(pos), "a header field flip at {pos} was an error");
                    detected += 1;
                }
                Err(ArchiveError::Io(e)) => panic!("flip at {pos} (bit {bit:#x}): I/O error {e}"),
                Ok(_) => {
                    let mut out = Vec::new();
                    flate2::read::MultiGzDecoder::new(&bad[..]).read_to_end(&mut out).unwrap();
                    assert!(
                        out == original,
                        "flip at {pos} (bit {bit:#x}) changed the data undetected"
                    );
                    if header_field(pos) {
                        in_header += 1;
                    } else {
                        harmless += 1;
                    }
                }
            }
        }
    }
    eprintln!(
        "{flips} flips: {detected} detected, {in_header} in gzip header fields, {harmless} decoding to the same bytes"
    );
    assert_eq!(in_header, starts.len() * 6 * 2, "{starts:?}");
    assert_eq!(detected + in_header + harmless, flips);
    assert!(
        detected > 300 && harmless < flips / 20,
        "{detected} detected, {harmless} harmless of {flips}"
    );
}

/// Builds a tar.gz from raw (header, data) pairs, bypassing the writer's safety.
fn raw_archive(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    build(&mut b);
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

fn header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o600);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

/// A tar of a mongodump `--out` folder (taken with `--oplog`, so with every database the
/// server has): `admin` is passed over, the oplog is read past and never handed on (it holds
/// every database's entries), and a metadata file of 2 MiB is read whole.
#[test]
fn a_mongodump_folder_tar_is_read_for_its_one_database_only() {
    let doc = |i: i32| bson::RawDocumentBuf::try_from(&bson::doc! {"_id": i}).unwrap().into_bytes();
    let description = "v".repeat(2 << 20);
    let meta = |name: &str, extra: &str| {
        format!(r#"{{"options":{{{extra}}},"indexes":[],"collectionName":"{name}","type":"collection"}}"#)
            .into_bytes()
    };
    let huge = meta(
        "huge",
        &format!(r#""validator":{{"$jsonSchema":{{"description":"{description}"}}}}"#),
    );
    let tar = raw_archive(|b| {
        let mut add = |path: &str, data: &[u8]| {
            b.append_data(&mut header(data.len() as u64), path, data).unwrap();
        };
        let padding = "p".repeat(4096);
        let prelude = format!(
            r#"{{"ServerVersion":"7.0.14","ToolVersion":"100.18.0","Padding":"{padding}"}}"#
        );
        add("dump/prelude.json", prelude.as_bytes());
        add("dump/admin/system.version.metadata.json", &meta("system.version", ""));
        add("dump/admin/system.version.bson", &doc(1));
        add("dump/shop/c.metadata.json", &meta("c", ""));
        add("dump/shop/c.bson", &[doc(1), doc(2)].concat());
        add("dump/shop/huge.metadata.json", &huge);
        add("dump/shop/huge.bson", &[]);
        add("dump/oplog.bson", &doc(9));
    });
    let mut seen = Vec::new();
    let v = super::walk::walk(&tar[..], None, true, |e| {
        seen.push(match e {
            super::Event::Metadata { collection, metadata } => {
                let described = metadata
                    .options
                    .get_document("validator")
                    .and_then(|v| v.get_document("$jsonSchema"))
                    .and_then(|v| v.get_str("description"))
                    .map_or(0, str::len);
                format!("metadata {collection} {described}")
            }
            super::Event::DataStart { collection } => format!("start {collection}"),
            super::Event::Batch { collection, docs } => {
                format!("batch {collection} {}", docs.len())
            }
            super::Event::DataEnd { collection, .. } => format!("end {collection}"),
            other => format!("{other:?}"),
        });
        Ok(())
    })
    .unwrap();
    assert_eq!(
        (v.manifest.database.as_str(), v.manifest.server_version.as_str()),
        ("shop", "7.0.14")
    );
    assert_eq!(
        seen,
        [
            "metadata c 0".to_owned(),
            "start c".into(),
            "batch c 2".into(),
            "end c".into(),
            format!("metadata huge {}", 2 << 20),
            "start huge".into(),
            "end huge".into(),
        ]
    );
}

/// A plain member cut at a document boundary, the tar ending with it: no manifest says
/// what is missing in a mongodump folder's tar, so the member's own size must.
#[test]
fn a_plain_member_cut_at_a_document_boundary_is_truncated() {
    let doc = |i: i32| bson::RawDocumentBuf::try_from(&bson::doc! {"_id": i}).unwrap().into_bytes();
    let data = [doc(1), doc(2), doc(3)].concat();
    let mut b = tar::Builder::new(Vec::new());
    let meta = br#"{"options":{},"indexes":[],"collectionName":"c","type":"collection"}"#;
    b.append_data(&mut header(meta.len() as u64), "dump/shop/c.metadata.json", &meta[..]).unwrap();
    b.append_data(&mut header(data.len() as u64), "dump/shop/c.bson", &data[..]).unwrap();
    let tar = b.into_inner().unwrap();
    let at = tar.windows(data.len()).position(|w| w == data).unwrap() + 2 * doc(1).len();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar[..at]).unwrap();
    let cut = gz.finish().unwrap();
    assert_eq!(
        corrupt_message(verify(&cut[..], None)),
        format!(
            "dump/shop/c.bson is truncated: {} of the {} bytes its header claims",
            2 * doc(1).len(),
            data.len()
        )
    );
}

/// manifest.json up to 64 MiB is read whole (here 2 MiB, a label that long); a manifest of
/// another format, or of a newer version, is refused by name; this version is read.
#[test]
fn the_manifest_is_read_whole_and_its_format_checked() {
    let dir = tempfile::tempdir().unwrap();
    let data = zoo_bson();
    let docs = zoo::documents().len() as u64;
    let (bytes, manifest) = archive_edited(dir.path(), &data, docs, Codec::Gzip, |m| {
        m.label = Some("l".repeat(2 << 20));
    });
    assert_eq!(verify(&bytes[..], Some(&manifest)).unwrap().manifest, manifest);
    let (bytes, _) =
        archive_edited(dir.path(), &data, docs, Codec::Gzip, |m| m.format = "other".into());
    assert_eq!(
        corrupt_message(verify(&bytes[..], None)),
        "manifest.json is of format \"other\", not \"daraa-ops-backup\": not a daraa-ops backup"
    );
    let (bytes, _) = archive_edited(dir.path(), &data, docs, Codec::Gzip, |m| {
        m.format_version = FORMAT_VERSION + 1;
    });
    assert!(
        corrupt_message(verify(&bytes[..], None))
            .starts_with("archive format version 2 is newer than this daraa-ops"),
    );
    let (bytes, _) =
        archive_edited(dir.path(), &data, docs, Codec::Gzip, |m| m.format_version = FORMAT_VERSION);
    assert!(verify(&bytes[..], None).is_ok());
}

#[test]
fn hostile_members_are_refused() {
    // Path traversal (written as raw header bytes: the tar crate refuses to build it).
    let traversal = raw_archive(|b| {
        let mut h = header(2);
        h.as_old_mut().name[..16].copy_from_slice(b"../../etc/passwd");
        h.set_cksum();
        b.append(&h, &b"{}"[..]).unwrap();
    });
    assert!(corrupt_message(verify(&traversal[..], None)).contains("unsafe member path"));

    let absolute = raw_archive(|b| {
        let mut h = header(2);
        h.as_old_mut().name[..8].copy_from_slice(b"/tmp/x.j");
        h.set_cksum();
        b.append(&h, &b"{}"[..]).unwrap();
    });
    assert!(corrupt_message(verify(&absolute[..], None)).contains("unsafe member path"));

    let symlink = raw_archive(|b| {
        let mut h = header(0);
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_link_name("/etc/passwd").unwrap();
        b.append_data(&mut h, "db/x.bson", &[][..]).unwrap();
    });
    assert!(corrupt_message(verify(&symlink[..], None)).contains("not a regular file"));

    // A document whose length prefix lies.
    let mut doc = RawDocumentBuf::try_from(&bson::doc! {"a": 1}).unwrap().into_bytes();
    doc[0] = 200;
    let bad_len = raw_archive(|b| {
        let mut h = header(doc.len() as u64);
        b.append_data(&mut h, "db/x.bson", &doc[..]).unwrap();
    });
    assert!(corrupt_message(verify(&bad_len[..], None)).contains("db/x.bson"));

    // A huge claimed length is refused before allocating.
    let mut huge = [0u8; 8];
    huge[..4].copy_from_slice(&i32::MAX.to_le_bytes());
    let huge_arc = raw_archive(|b| {
        let mut h = header(huge.len() as u64);
        b.append_data(&mut h, "db/x.bson", &huge[..]).unwrap();
    });
    assert!(corrupt_message(verify(&huge_arc[..], None)).contains("claims"));

    // A daraa-ops archive (its prelude says so) without its manifest: incomplete.
    let prelude = br#"{"ServerVersion":"7.0.14","ToolVersion":"daraa-ops 0.1.0"}"#;
    let no_manifest = raw_archive(|b| {
        let mut h = header(prelude.len() as u64);
        b.append_data(&mut h, "prelude.json", &prelude[..]).unwrap();
    });
    assert!(corrupt_message(verify(&no_manifest[..], None)).contains("manifest.json is missing"));
    // Anything else without a manifest is read as a mongodump folder, which must hold a
    // collection.
    let empty_dump = raw_archive(|b| {
        let mut h = header(2);
        b.append_data(&mut h, "dump/prelude.json", &b"{}"[..]).unwrap();
    });
    assert!(corrupt_message(verify(&empty_dump[..], None)).contains("holds no collection"));
}

#[test]
fn a_manifest_that_lies_about_counts_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, manifest) = zoo_archive(dir.path());
    let mut lying = manifest.clone();
    lying.collections[0].documents += 1;
    // Against a sidecar that differs from the archive's own manifest.
    let docs = manifest.collections[0].documents;
    assert_eq!(
        corrupt_message(verify(&bytes[..], Some(&lying))),
        format!(
            "the archive's manifest.json differs from its sidecar manifest at \
             collections[bsonzoo].documents: {docs} in the archive, {} in the sidecar",
            docs + 1
        )
    );
    // An array of another length is named whole; values are cut at 60 characters.
    let mut fewer = manifest.clone();
    fewer.collections.clear();
    let listed = serde_json::to_value(&manifest.collections).unwrap().to_string();
    assert_eq!(
        corrupt_message(verify(&bytes[..], Some(&fewer))),
        format!(
            "the archive's manifest.json differs from its sidecar manifest at collections: \
             {}... in the archive, [] in the sidecar",
            &listed[..60]
        )
    );
    // Elements whose names differ are named by their index.
    let mut other_name = manifest.clone();
    other_name.collections[0].name = "renamed".into();
    assert!(
        corrupt_message(verify(&bytes[..], Some(&other_name))).ends_with(
            "at collections[0].name: \"bsonzoo\" in the archive, \"renamed\" in the sidecar"
        ),
        "{}",
        corrupt_message(verify(&bytes[..], Some(&other_name)))
    );
    let mut renamed = manifest.clone();
    renamed.database = "x".repeat(100);
    assert!(
        corrupt_message(verify(&bytes[..], Some(&renamed))).ends_with(&format!(
            "at database: {:?} in the archive, \"{}... in the sidecar",
            manifest.database,
            "x".repeat(59)
        )),
        "{}",
        corrupt_message(verify(&bytes[..], Some(&renamed)))
    );
    // An archive whose own manifest lies.
    let data = zoo_bson();
    let meta = b"{}";
    let mut m = manifest_for(&data, 3, meta);
    m.collections[0].documents = 3;
    let path = dir.path().join("lie.tar.gz");
    let mut w = ArchiveWriter::create(&path, 1, 0, None).unwrap();
    let staged = dir.path().join("z2.bson");
    std::fs::write(&staged, &data).unwrap();
    w.append_file("db/bsonzoo.bson", &staged).unwrap();
    w.append_bytes("db/bsonzoo.metadata.json", meta).unwrap();
    w.append_bytes("manifest.json", &serde_json::to_vec(&m).unwrap()).unwrap();
    w.finish().unwrap();
    let msg = corrupt_message(verify(&std::fs::read(&path).unwrap()[..], None));
    assert!(msg.contains("manifest says 3"), "{msg}");
}

/// A member the manifest does not list is named, whichever kind it is: data without
/// metadata, metadata without data, or both.
#[test]
fn members_the_manifest_does_not_list_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = zoo_bson();
    let meta = br#"{"options":{},"indexes":[],"collectionName":"bsonzoo","type":"collection"}"#;
    let extra_meta = br#"{"options":{},"indexes":[],"collectionName":"extra","type":"collection"}"#;
    let m = manifest_for(&data, zoo::documents().len() as u64, meta);
    let staged = dir.path().join("z.bson");
    std::fs::write(&staged, &data).unwrap();
    let with = |extra: &[(&str, &[u8])]| {
        let path = dir.path().join("extra.tar.gz");
        let _ = std::fs::remove_file(&path);
        let mut w = ArchiveWriter::create(&path, 1, 0, None).unwrap();
        w.append_bytes("prelude.json", br#"{"ToolVersion":"daraa-ops test"}"#).unwrap();
        w.append_file("db/bsonzoo.bson", &staged).unwrap();
        w.append_bytes("db/bsonzoo.metadata.json", meta).unwrap();
        for (name, bytes) in extra {
            w.append_bytes(name, bytes).unwrap();
        }
        w.append_bytes("manifest.json", &serde_json::to_vec(&m).unwrap()).unwrap();
        w.finish().unwrap();
        corrupt_message(verify(&std::fs::read(&path).unwrap()[..], None))
    };
    let one_doc = bson::RawDocumentBuf::try_from(&bson::doc! {"_id": 1}).unwrap().into_bytes();
    assert_eq!(with(&[("db/extra.bson", &one_doc)]), "member db/extra.bson is not in the manifest");
    assert_eq!(
        with(&[("db/extra.metadata.json", extra_meta)]),
        "member db/extra.metadata.json is not in the manifest"
    );
    assert_eq!(
        with(&[("db/extra.metadata.json", extra_meta), ("db/extra.bson", &one_doc)]),
        "member db/extra.bson is not in the manifest"
    );
}

/// Inputs the fuzzer found (tests/fixtures/fuzz/*.bin) stay refused as corrupt archives.
#[test]
fn fuzz_regressions_are_corrupt_not_panics() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "bin") {
            let data = std::fs::read(&path).unwrap();
            let msg = corrupt_message(verify(&data[..], None));
            assert!(!msg.is_empty(), "{}", path.display());
            n += 1;
        }
    }
    assert!(n >= 1);
}

/// A backup's `oplog.bson`: handed to the visitor in batches after the collections, and
/// checked against the manifest like any member (count, size, SHA-256, present iff named).
#[test]
fn the_oplog_member_is_read_and_checked_against_the_manifest() {
    use super::manifest::{ClusterTime, OplogSlice};
    let dir = tempfile::tempdir().unwrap();
    let data = zoo_bson();
    let meta = br#"{"options":{},"indexes":[],"collectionName":"bsonzoo","type":"collection"}"#;
    let oplog: Vec<u8> = (1..=3)
        .flat_map(|i| {
            let e = bson::doc! {
                "ts": bson::Timestamp { time: 100, increment: i }, "op": "i", "ns": "db.bsonzoo",
                "o": {"_id": i},
            };
            RawDocumentBuf::try_from(&e).unwrap().into_bytes()
        })
        .collect();
    let slice = OplogSlice {
        member: "oplog.bson".into(),
        from: ClusterTime { t: 99, i: 0 },
        until: ClusterTime { t: 100, i: 3 },
        entries: 3,
        bytes: oplog.len() as u64,
        sha256: hex(&Sha256::digest(&oplog)),
    };
    let write = |manifest: &Manifest, member: bool| {
        let path = dir.path().join("o.tar.gz");
        let _ = std::fs::remove_file(&path);
        let mut w = ArchiveWriter::create(&path, 6, 0, None).unwrap();
        let prelude = br#"{"ServerVersion":"7.0.0","ToolVersion":"daraa-ops test"}"#;
        w.append_bytes("prelude.json", prelude).unwrap();
        w.append_bytes("db/bsonzoo.metadata.json", meta).unwrap();
        w.append_bytes("db/bsonzoo.bson", &data).unwrap();
        if member {
            w.append_bytes("oplog.bson", &oplog).unwrap();
        }
        w.append_bytes("manifest.json", &serde_json::to_vec(manifest).unwrap()).unwrap();
        w.finish().unwrap();
        std::fs::read(&path).unwrap()
    };
    let walk = |bytes: &[u8]| {
        let mut entries = 0;
        let r = super::walk::walk(bytes, None, true, |ev| {
            if let super::Event::Oplog { docs } = ev {
                entries += docs.len();
            }
            Ok(())
        });
        (r.map(|_| ()).map_err(|e| e.to_string()), entries)
    };
    let mut m = manifest_for(&data, zoo::documents().len() as u64, meta);
    m.oplog = Some(Box::new(slice.clone()));
    assert_eq!(walk(&write(&m, true)), (Ok(()), 3));
    m.oplog.as_mut().unwrap().entries = 4;
    let (r, _) = walk(&write(&m, true));
    assert!(r.unwrap_err().contains("oplog.bson: 3 entries, manifest says 4"));
    m.oplog = Some(Box::new(OplogSlice { sha256: "0".repeat(64), ..slice.clone() }));
    assert!(walk(&write(&m, true)).0.unwrap_err().contains("checksum mismatch in oplog.bson"));
    m.oplog = Some(Box::new(slice));
    assert!(walk(&write(&m, false)).0.unwrap_err().contains("member oplog.bson is missing"));
    m.oplog = None;
    let (r, _) = walk(&write(&m, true));
    assert!(r.unwrap_err().contains("member oplog.bson is not in the manifest"));
}
