//! MongoDB's archive format: CRC-64, shape detection, and walks of hand-built archives.

use std::collections::{BTreeMap, HashMap};

use crate::archive::bson::ArchiveError;
use crate::archive::event::{Event, Verified};
use crate::archive::format::SourceFormat;
use crate::archive::mongodump::{CRC64, MAGIC, TERMINATOR};
use crate::archive::walk::{Shape, detect};

#[test]
fn crc64_is_gos_ecma() {
    // Go: crc64.Checksum([]byte("123456789"), crc64.MakeTable(crc64.ECMA)).
    assert_eq!(CRC64.checksum(b"123456789"), 0x995d_c9bb_df19_39fa);
    assert_eq!(CRC64.checksum(b""), 0);
}

/// An archive in mongodump's format, written here from its specification: `segments` are
/// (collection, documents) in stream order; every collection ends after its last segment.
fn archive(
    segments: &[(&str, Vec<bson::RawDocumentBuf>)],
    crc_of: impl Fn(&str, u64) -> u64,
) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    let header = bson::rawdoc! {"concurrent_collections": 4, "version": "0.1", "server_version": "7.0.14", "tool_version": "100.18.0"};
    out.extend_from_slice(header.as_bytes());
    let mut names: Vec<&str> = segments.iter().map(|(n, _)| *n).collect();
    names.dedup();
    names.sort_unstable();
    names.dedup();
    for n in &names {
        let meta = format!(
            r#"{{"options":{{}},"indexes":[{{"v":2,"key":{{"_id":1}},"name":"_id_"}}],"collectionName":"{n}","type":"collection"}}"#
        );
        out.extend_from_slice(
            bson::rawdoc! {"db": "shop", "collection": *n, "metadata": meta, "size": 0}.as_bytes(),
        );
    }
    out.extend_from_slice(&TERMINATOR);
    let mut crcs: HashMap<&str, crc::Digest<'static, u64>> = HashMap::new();
    for (n, docs) in segments {
        out.extend_from_slice(
            bson::rawdoc! {"db": "shop", "collection": *n, "EOF": false, "CRC": 0_i64}.as_bytes(),
        );
        for d in docs {
            out.extend_from_slice(d.as_bytes());
            crcs.entry(n).or_insert_with(|| CRC64.digest()).update(d.as_bytes());
        }
        out.extend_from_slice(&TERMINATOR);
    }
    for n in &names {
        let crc = crcs.remove(n).map_or(0, |d: crc::Digest<'static, u64>| d.finalize());
        let crc = crc_of(n, crc) as i64;
        out.extend_from_slice(
            bson::rawdoc! {"db": "shop", "collection": *n, "EOF": true, "CRC": crc}.as_bytes(),
        );
        out.extend_from_slice(&TERMINATOR);
    }
    out
}

fn docs(range: std::ops::Range<i32>) -> Vec<bson::RawDocumentBuf> {
    range.map(|i| bson::rawdoc! {"_id": i, "v": format!("value {i}")}).collect()
}

fn read(bytes: &[u8]) -> Result<(Verified, BTreeMap<String, Vec<i32>>), ArchiveError> {
    let mut got: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    let v = crate::archive::walk::walk(bytes, None, true, |e| {
        if let Event::Batch { collection, docs } = e {
            got.entry(collection)
                .or_default()
                .extend(docs.iter().map(|d| d.get_i32("_id").unwrap()));
        }
        Ok(())
    })?;
    Ok((v, got))
}

#[test]
fn interleaved_segments_come_back_per_collection() {
    let bytes = archive(
        &[
            ("orders", docs(0..3)),
            ("users", docs(10..12)),
            ("orders", docs(3..5)),
            ("empty", vec![]),
        ],
        |_, c| c,
    );
    let (v, got) = read(&bytes).unwrap();
    assert_eq!(v.format, SourceFormat::MongodumpArchive);
    assert_eq!(v.manifest.database, "shop");
    assert_eq!(v.manifest.server_version, "7.0.14");
    assert_eq!(got["orders"], vec![0, 1, 2, 3, 4]);
    assert_eq!(got["users"], vec![10, 11]);
    let counts: Vec<(&str, u64)> =
        v.manifest.collections.iter().map(|c| (c.name.as_str(), c.documents)).collect();
    assert_eq!(counts, [("empty", 0), ("orders", 5), ("users", 2)]);
    // Compressed the same stream reads the same.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &bytes).unwrap();
    let (v2, got2) = read(&gz.finish().unwrap()).unwrap();
    assert_eq!((v2.manifest, got2), (v.manifest, got));
}

fn corrupt_message(bytes: &[u8]) -> String {
    match read(bytes) {
        Err(ArchiveError::Corrupt(m)) => m,
        other => panic!("expected a damaged archive, got {other:?}"),
    }
}

#[test]
fn damage_is_named() {
    let bad_crc = archive(&[("orders", docs(0..3))], |_, c| c ^ 1);
    assert!(corrupt_message(&bad_crc).contains("shop.orders: CRC-64 mismatch"));
    let good = archive(&[("orders", docs(0..3)), ("users", docs(0..2))], |_, c| c);
    // Cut before the last end marker: users never ends.
    let cut = &good[..good.len() - 50];
    let msg = corrupt_message(cut);
    assert!(msg.contains("truncated") || msg.contains("has no end marker"), "{msg}");
    let mut newer = good.clone();
    let at = newer.windows(3).position(|w| w == b"0.1").unwrap();
    newer[at..at + 3].copy_from_slice(b"9.9");
    assert!(corrupt_message(&newer).contains("version \"9.9\""));
    assert!(corrupt_message(&MAGIC).contains("header is missing"));
}

#[test]
fn unknown_files_are_named() {
    let name = |b: &[u8]| match detect(b) {
        Shape::Unknown(w) => w,
        Shape::Tar => "tar",
        Shape::MongodumpArchive => "archive",
    };
    assert_eq!(name(b""), "an empty file");
    assert_eq!(name(b"PK\x03\x04rest"), "a zip file");
    assert_eq!(name(b"  {\"a\": 1}"), "JSON text");
    assert_eq!(name(b"hello world\n"), "text");
    let bson = bson::rawdoc! {"a": 1}.into_bytes();
    assert!(name(&bson).starts_with("one collection's .bson"));
    assert_eq!(name(&[0x6d, 0xe2, 0x99, 0x81, 0]), "archive");
    assert_eq!(name(&[0x00, 0x01, 0x02, 0x80, 0x90, 0xa0]), "unrecognised binary data");
    // Zero bytes (a zero-filled file, an empty folder's tar) are named, not a panic.
    assert!(name(&[0u8; 512]).starts_with("only zero bytes"));
    assert!(name(&[0u8; 5]).starts_with("only zero bytes"));
    // A length of zero or one too short for any document is no BSON.
    assert_eq!(name(&[0, 0, 0, 0, 1, 9]), "unrecognised binary data");
    assert_eq!(name(&[3, 0, 0, 0, 0x10, 0x80]), "unrecognised binary data");
}

/// The writer `backup.format: archive` uses, read back by the walker: interleaved segments,
/// an empty collection, a view in the prelude only, and each collection's CRC-64 checked.
#[test]
fn what_the_interleaved_writer_writes_reads_back() {
    use crate::archive::mongodump::writer::{InterleavedWriter, PreludeEntry};
    let meta = |n: &str, kind: &str| PreludeEntry {
        collection: n.into(),
        metadata: format!(
            r#"{{"options":{{}},"indexes":[],"collectionName":"{n}","type":"{kind}"}}"#
        ),
        kind: kind.into(),
    };
    let prelude = [
        meta("empty", "collection"),
        meta("orders.2024", "collection"),
        meta("paid", "view"),
        meta("طلبات", "collection"),
    ];
    let mut w = InterleavedWriter::new(Vec::new(), "shop");
    w.prelude("7.0.14", 4, &prelude, false).unwrap();
    let bytes_of = |d: Vec<bson::RawDocumentBuf>| -> Vec<u8> {
        d.iter().flat_map(|d| d.as_bytes().to_vec()).collect()
    };
    let mut crc: HashMap<&str, crc::Digest<'static, u64>> = HashMap::new();
    for (n, d) in [("orders.2024", docs(0..3)), ("طلبات", docs(7..9)), ("orders.2024", docs(3..4))]
    {
        let b = bytes_of(d);
        crc.entry(n).or_insert_with(|| CRC64.digest()).update(&b);
        w.segment(n, &b).unwrap();
    }
    w.segment("empty", &[]).unwrap();
    for n in ["empty", "orders.2024", "طلبات"] {
        w.end(n, crc.remove(n).map_or(0, |d: crc::Digest<'static, u64>| d.finalize())).unwrap();
    }
    let bytes = w.into_inner();
    let (v, got) = read(&bytes).unwrap();
    assert_eq!(
        (v.manifest.database.as_str(), v.manifest.server_version.as_str()),
        ("shop", "7.0.14")
    );
    assert_eq!(got["orders.2024"], [0, 1, 2, 3]);
    assert_eq!(got["طلبات"], [7, 8]);
    let counts: Vec<(&str, &str, u64)> = v
        .manifest
        .collections
        .iter()
        .map(|c| (c.name.as_str(), c.kind.as_str(), c.documents))
        .collect();
    assert_eq!(
        counts,
        [
            ("empty", "collection", 0),
            ("orders.2024", "collection", 4),
            ("paid", "view", 0),
            ("طلبات", "collection", 2)
        ]
    );
    // A wrong CRC in an end header is caught: the writer's CRC is the one checked.
    let mut w = InterleavedWriter::new(Vec::new(), "shop");
    w.prelude("7.0.14", 1, &prelude[1..2], false).unwrap();
    w.segment("orders.2024", &bytes_of(docs(0..2))).unwrap();
    w.end("orders.2024", 12345).unwrap();
    assert!(corrupt_message(&w.into_inner()).contains("CRC-64 mismatch"));
}

/// Each way the stream after the prelude can be malformed is named; a system database's
/// namespace is checked (its CRC) but neither counted nor handed on.
#[test]
fn misplaced_pieces_after_the_prelude_are_named() {
    let good = archive(&[("orders", docs(0..2))], |_, c| c);
    // The prelude ends at its terminator; the first namespace header follows.
    let header_at = good.windows(4).position(|w| w == TERMINATOR).unwrap() + 4;
    let segment_end =
        header_at + good[header_at..].windows(4).position(|w| w == TERMINATOR).unwrap();
    // A terminator where a namespace header belongs.
    let mut doubled = good.clone();
    doubled.splice(header_at..header_at, TERMINATOR);
    assert!(
        corrupt_message(&doubled).contains("a terminator stands where a namespace header belongs")
    );
    // Cut inside the segment.
    let cut = &good[..segment_end];
    assert!(corrupt_message(cut).contains("shop.orders: the archive ends inside a segment"));
    // Data after the end marker: the whole segment again at the end.
    let mut after = good.clone();
    after.extend_from_slice(&good[header_at..segment_end + 4]);
    assert!(
        corrupt_message(&after).contains("shop.orders: data after the collection's end marker")
    );
    // An end marker without its terminator.
    let end = bson::rawdoc! {"db": "shop", "collection": "orders", "EOF": true, "CRC": 0_i64};
    let mut unterminated = good[..segment_end + 4].to_vec();
    unterminated.extend_from_slice(end.as_bytes());
    unterminated.extend_from_slice(end.as_bytes());
    assert!(
        corrupt_message(&unterminated).contains("shop.orders: no terminator after its end marker")
    );
    // admin's namespace (mongodump --archive of a whole server): read past, CRC still checked.
    let mut with_admin = good.clone();
    let admin = |eof: bool, crc: i64| bson::rawdoc! {"db": "admin", "collection": "system.version", "EOF": eof, "CRC": crc};
    // More than a batch (1,000), so that a batch would be handed on before its end.
    let admin_docs: Vec<u8> = docs(0..1001).iter().flat_map(|d| d.as_bytes().to_vec()).collect();
    with_admin.extend_from_slice(admin(false, 0).as_bytes());
    with_admin.extend_from_slice(&admin_docs);
    with_admin.extend_from_slice(&TERMINATOR);
    let crc = CRC64.checksum(&admin_docs) as i64;
    with_admin.extend_from_slice(admin(true, crc).as_bytes());
    with_admin.extend_from_slice(&TERMINATOR);
    let (v, got) = read(&with_admin).unwrap();
    assert_eq!(got.keys().collect::<Vec<_>>(), ["orders"]);
    assert_eq!(v.manifest.collections.len(), 1);
    let bad_admin_crc = [
        &with_admin[..with_admin.len() - 4 - admin(true, crc).as_bytes().len()],
        admin(true, crc ^ 1).as_bytes(),
        &TERMINATOR,
    ]
    .concat();
    assert!(corrupt_message(&bad_admin_crc).contains("admin.system.version: CRC-64 mismatch"));
    // Without documents (verify): the same counts and checks, no batch handed on.
    let mut batches = 0;
    let verified = crate::archive::walk::walk(&good[..], None, false, |e| {
        if matches!(e, Event::Batch { .. } | Event::DataStart { .. } | Event::DataEnd { .. }) {
            batches += 1;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!((batches, verified.manifest.collections[0].documents), (0, 2));
}

/// A damaged document is named by its place: the third of a segment, the second of the
/// prelude; a collection's bytes are counted; a stream without the magic number is refused
/// also when the walker is called directly.
#[test]
fn damage_names_the_document_and_sizes_are_counted() {
    let good = archive(&[("orders", docs(0..3)), ("users", docs(0..2))], |_, c| c);
    let (v, _) = read(&good).unwrap();
    let orders = v.manifest.collection("orders").unwrap();
    let sizes: u64 = docs(0..3).iter().map(|d| d.as_bytes().len() as u64).sum();
    assert_eq!((orders.documents, orders.bytes), (3, sizes));
    let at = |needle: &[u8]| good.windows(needle.len()).position(|w| w == needle).unwrap();
    let mut third = good.clone();
    let i = at(docs(2..3)[0].as_bytes());
    third[i..i + 4].copy_from_slice(&0x7fff_ffff_i32.to_le_bytes());
    let msg = corrupt_message(&third);
    assert!(msg.starts_with("shop.orders: document 3 claims"), "{msg}");
    let meta = r#"{"options":{},"indexes":[{"v":2,"key":{"_id":1},"name":"_id_"}],"collectionName":"users","type":"collection"}"#;
    let users = bson::rawdoc! {"db": "shop", "collection": "users", "metadata": meta, "size": 0};
    let mut second = good.clone();
    let i = at(users.as_bytes());
    second[i..i + 4].copy_from_slice(&3_i32.to_le_bytes());
    let msg = corrupt_message(&second);
    assert!(msg.starts_with("the archive's metadata: document 2 claims 3 bytes"), "{msg}");
    let direct = |b: &[u8]| {
        crate::archive::mongodump::reader::walk_mongodump_archive(b, None, false, |_| Ok(()))
            .unwrap_err()
            .to_string()
    };
    assert!(direct(b"not an archive").contains("no magic number"));
    assert!(direct(&MAGIC[..2]).contains("no magic number"));
    // Each collection starts once, before its first documents, however many segments it has.
    let split =
        archive(&[("orders", docs(0..2)), ("users", docs(0..1)), ("orders", docs(2..3))], |_, c| c);
    let mut events = Vec::new();
    crate::archive::walk::walk(&split[..], None, true, |e| {
        match e {
            Event::DataStart { collection } => events.push(format!("start {collection}")),
            Event::Batch { collection, docs } => {
                events.push(format!("{} of {collection}", docs.len()));
            }
            Event::DataEnd { collection, .. } => events.push(format!("end {collection}")),
            _ => {}
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(
        events,
        ["start orders", "start users", "3 of orders", "end orders", "1 of users", "end users"]
    );
}

/// A backup's oplog in the archive format: the namespace `mongodump --oplog` writes (database
/// `""`, collection `oplog`, after every collection), beside a user collection named `oplog`.
/// Returns the archive and the oplog entries' bytes.
fn archive_with_oplog(with_oplog: bool) -> (Vec<u8>, Vec<u8>) {
    use crate::archive::mongodump::writer::{InterleavedWriter, PreludeEntry};
    let meta = |n: &str| PreludeEntry {
        collection: n.into(),
        metadata: format!(
            r#"{{"options":{{}},"indexes":[],"collectionName":"{n}","type":"collection"}}"#
        ),
        kind: "collection".into(),
    };
    let entries: Vec<u8> = (1..=3_u32)
        .flat_map(|i| {
            let ts = bson::Timestamp { time: 1_700_000_000, increment: i };
            let e = bson::rawdoc! {"ts": ts, "op": "i", "ns": "shop.orders", "o": {"_id": i64::from(100 + i)}};
            e.into_bytes()
        })
        .collect();
    let mut w = InterleavedWriter::new(Vec::new(), "shop");
    w.prelude("7.0.14", 2, &[meta("oplog"), meta("orders")], with_oplog).unwrap();
    let (user, orders) = (flat(&docs(0..2)), flat(&docs(10..13)));
    w.segment("oplog", &user).unwrap();
    w.segment("orders", &orders).unwrap();
    w.end("oplog", CRC64.checksum(&user)).unwrap();
    w.end("orders", CRC64.checksum(&orders)).unwrap();
    if with_oplog {
        let second = 2 * i32::from_le_bytes(entries[..4].try_into().unwrap()) as usize;
        w.oplog_segment(&entries[..second]).unwrap();
        w.oplog_segment(&entries[second..]).unwrap();
        w.oplog_end(CRC64.checksum(&entries)).unwrap();
    }
    (w.into_inner(), entries)
}

fn flat(d: &[bson::RawDocumentBuf]) -> Vec<u8> {
    d.iter().flat_map(|d| d.as_bytes().to_vec()).collect()
}

type Walked = (Verified, BTreeMap<String, Vec<i32>>, Vec<bson::RawDocumentBuf>);

/// Walks `bytes` with `sidecar`: what was verified, the collections' batches (ids) and the
/// oplog entries handed on.
fn walk_with(
    bytes: &[u8],
    sidecar: Option<&crate::archive::manifest::Manifest>,
    documents: bool,
) -> Result<Walked, ArchiveError> {
    let (mut batches, mut oplog) = (BTreeMap::<String, Vec<i32>>::new(), Vec::new());
    let v = crate::archive::walk::walk(bytes, sidecar, documents, |e| {
        match e {
            Event::Batch { collection, docs } => batches
                .entry(collection)
                .or_default()
                .extend(docs.iter().map(|d| d.get_i32("_id").unwrap())),
            Event::Oplog { docs } => oplog.extend(docs),
            _ => {}
        }
        Ok(())
    })?;
    Ok((v, batches, oplog))
}

/// Listed in the prelude as mongodump lists it; without a sidecar (a backup mongodump wrote)
/// read past: checked, never handed on; its end marker must come and carry its CRC-64.
#[test]
fn the_oplog_namespace_is_listed_as_mongodump_lists_it_and_checked() {
    let (bytes, entries) = archive_with_oplog(true);
    let listed =
        bson::rawdoc! {"db": "", "collection": "oplog", "metadata": "", "size": 0_i32, "type": ""};
    assert!(bytes.windows(listed.as_bytes().len()).any(|w| w == listed.as_bytes()));
    let (found, batches, oplog) = walk_with(&bytes, None, true).unwrap();
    assert!(oplog.is_empty());
    assert_eq!(batches["oplog"], [0, 1], "the user collection named oplog is its own");
    assert_eq!(batches["orders"], [10, 11, 12]);
    assert!(found.manifest.oplog.is_none());
    let counts: Vec<(&str, u64)> =
        found.manifest.collections.iter().map(|c| (c.name.as_str(), c.documents)).collect();
    assert_eq!(counts, [("oplog", 2), ("orders", 3)]);
    // Cut before the oplog's end marker: truncated, named.
    let end = bson::rawdoc! {"db": "", "collection": "oplog", "EOF": true, "CRC": CRC64.checksum(&entries) as i64};
    let cut = &bytes[..bytes.len() - end.as_bytes().len() - 4];
    assert_eq!(corrupt_message(cut), "the oplog has no end marker: the archive is truncated");
    // Entries of an oplog the prelude does not list: refused (mongodump always lists it).
    let listed_at = bytes.windows(listed.as_bytes().len()).position(|w| w == listed.as_bytes());
    let mut unlisted = bytes.clone();
    unlisted.drain(listed_at.unwrap()..listed_at.unwrap() + listed.as_bytes().len());
    assert_eq!(
        corrupt_message(&unlisted),
        "the oplog's entries are not listed in the archive's prelude"
    );
    // A wrong CRC in the oplog's end marker (its last byte, before the header's NUL).
    let mut bad = bytes.clone();
    let at = bad.len() - 4 - 2;
    bad[at] ^= 1;
    let e = corrupt_message(&bad);
    assert!(e.starts_with("the oplog: CRC-64 mismatch"), "{e}");
}

/// The sidecar an archive-format backup with the oplog gets: what was read back, and the
/// three entries of [`archive_with_oplog`] recorded as its point-in-time slice.
fn sidecar_recording_the_oplog(bytes: &[u8], entries: &[u8]) -> crate::archive::manifest::Manifest {
    use crate::archive::manifest::{ClusterTime, OplogSlice};
    use sha2::Digest as _;
    let mut sidecar = walk_with(bytes, None, false).unwrap().0.manifest;
    sidecar.container = Some("archive".into());
    sidecar.oplog = Some(Box::new(OplogSlice {
        member: "oplog.bson".into(),
        from: ClusterTime { t: 1_700_000_000, i: 0 },
        until: ClusterTime { t: 1_700_000_000, i: 3 },
        entries: 3,
        bytes: entries.len() as u64,
        sha256: crate::files::hex(&sha2::Sha256::digest(entries)),
    }));
    sidecar
}

/// A sidecar that records the oplog gets every entry handed on, in order, once (a restore
/// replays them); what it records must be there, equal. A sidecar without it (the backup is
/// not point-in-time) gets none handed on.
#[test]
fn the_oplog_the_sidecar_records_must_be_there_and_is_handed_on() {
    use crate::archive::manifest::OplogSlice;
    let (bytes, entries) = archive_with_oplog(true);
    let sidecar = sidecar_recording_the_oplog(&bytes, &entries);
    let (v, batches, oplog) = walk_with(&bytes, Some(&sidecar), true).unwrap();
    assert_eq!(v.format, SourceFormat::DaraaArchive);
    assert_eq!(flat(&oplog), entries);
    assert_eq!(batches["oplog"], [0, 1]);
    // Verify (no documents) checks it the same way and hands nothing on.
    assert!(walk_with(&bytes, Some(&sidecar), false).unwrap().2.is_empty());
    let refused = |bytes: &[u8], edit: &dyn Fn(&mut OplogSlice)| {
        let mut m = sidecar.clone();
        edit(m.oplog.as_mut().unwrap());
        match walk_with(bytes, Some(&m), false) {
            Err(ArchiveError::Corrupt(e)) => e,
            other => panic!("expected a refusal, got {:?}", other.map(|v| v.0)),
        }
    };
    let e = refused(&bytes, &|o| o.entries = 4);
    assert!(e.contains("the oplog: 3 entries") && e.contains("the sidecar says 4"), "{e}");
    let e = refused(&bytes, &|o| o.bytes += 1);
    assert!(e.contains("the oplog: 3 entries"), "{e}");
    let e = refused(&bytes, &|o| o.sha256 = "00".into());
    assert_eq!(e, "the oplog: checksum mismatch");
    let e = refused(&archive_with_oplog(false).0, &|_| {});
    assert_eq!(e, "the oplog: not in the archive, the sidecar records 3 entries");
    let mut not_pit = sidecar.clone();
    not_pit.oplog = None;
    assert!(walk_with(&bytes, Some(&not_pit), true).unwrap().2.is_empty());
}

/// Each collection's end hands on the order-independent digest (what a drill compares the
/// restored collection with) of its own documents, and only of them: the oplog's entries
/// in the same archive are in no collection's digest.
#[test]
fn each_collections_digest_is_of_its_own_documents() {
    use crate::digest::SetDigest;
    let (bytes, entries) = archive_with_oplog(true);
    let sidecar = sidecar_recording_the_oplog(&bytes, &entries);
    let mut ends = BTreeMap::new();
    crate::archive::walk::walk(&bytes[..], Some(&sidecar), true, |e| {
        if let Event::DataEnd { collection, digest, .. } = e {
            ends.insert(collection, digest);
        }
        Ok(())
    })
    .unwrap();
    let of = |d: Vec<bson::RawDocumentBuf>| {
        let mut set = SetDigest::default();
        for doc in &d {
            set.add(doc.as_bytes());
        }
        set.hex()
    };
    assert_eq!(
        ends,
        BTreeMap::from([
            ("oplog".to_owned(), of(docs(0..2))),
            ("orders".to_owned(), of(docs(10..13)))
        ])
    );
}
