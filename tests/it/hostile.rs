//! Hostile archives: every one is refused with exit 6 by `verify` and by `restore`, and a
//! refused restore leaves nothing behind: no collection in the target, no file outside.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use bson::doc;

use crate::support::{Job, JobOptions, TestCollection, services, write_test_archive_with};

/// One tar member written byte for byte (names the tar crate would refuse included).
struct Member {
    name: Vec<u8>,
    kind: tar::EntryType,
    link: Option<&'static str>,
    data: Vec<u8>,
    /// The size the header claims (default: the data's).
    claimed: Option<u64>,
}

fn member(name: &[u8], data: Vec<u8>) -> Member {
    Member { name: name.to_vec(), kind: tar::EntryType::Regular, link: None, data, claimed: None }
}

fn bson_doc(i: i32) -> Vec<u8> {
    bson::RawDocumentBuf::try_from(&doc! {"_id": i, "x": "y"}).unwrap().into_bytes()
}

fn write_raw(path: &Path, members: &[Member]) {
    let file = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    for m in members {
        let mut h = tar::Header::new_ustar();
        let name = &mut h.as_old_mut().name;
        name[..m.name.len()].copy_from_slice(&m.name);
        h.set_entry_type(m.kind);
        h.set_mode(0o600);
        h.set_size(m.claimed.unwrap_or(m.data.len() as u64));
        if let Some(l) = m.link {
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_cksum();
        gz.write_all(h.as_bytes()).unwrap();
        gz.write_all(&m.data).unwrap();
        if m.claimed.is_none() {
            let pad = (512 - m.data.len() % 512) % 512;
            gz.write_all(&vec![0u8; pad]).unwrap();
        }
    }
    if members.iter().all(|m| m.claimed.is_none()) {
        gz.write_all(&[0u8; 1024]).unwrap();
    }
    gz.finish().unwrap();
}

fn meta(indexes: &str) -> String {
    format!(
        r#"{{"options":{{}},"indexes":[{indexes}],"uuid":"","collectionName":"a","type":"collection"}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_archives_are_refused_with_exit_6_and_leave_nothing() {
    let Some(s) = services() else { return };
    let job = Job::new("hostile", &s, &JobOptions::default());
    let dir = job.dir.path();
    let outside = dir.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let abs = format!("{}/evil.bson", outside.display());
    let target = format!("{}_target", job.database);
    let db = &job.database;
    let id_meta = meta(r#"{"v":2,"key":{"_id":1},"name":"_id_"}"#);

    let mut cases: Vec<(&str, PathBuf)> = Vec::new();
    let mut raw = |what: &'static str, members: Vec<Member>| {
        let p = dir.join(format!("{}.tar.gz", what.replace(' ', "-")));
        write_raw(&p, &members);
        cases.push((what, p));
    };
    raw("path traversal", vec![member(b"../outside/evil.bson", bson_doc(1))]);
    raw("absolute path", vec![member(abs.as_bytes(), bson_doc(1))]);
    raw(
        "symlink",
        vec![Member {
            kind: tar::EntryType::Symlink,
            link: Some("/etc/passwd"),
            ..member(format!("{db}/a.bson").as_bytes(), Vec::new())
        }],
    );
    raw(
        "hard link",
        vec![Member {
            kind: tar::EntryType::Link,
            link: Some("prelude.json"),
            ..member(format!("{db}/a.bson").as_bytes(), Vec::new())
        }],
    );
    raw(
        "huge member",
        vec![Member {
            claimed: Some(1 << 40),
            ..member(format!("{db}/a.bson").as_bytes(), bson_doc(1))
        }],
    );
    let mut wrong_len = bson_doc(1);
    wrong_len[0] = 200; // the length prefix claims more than the document has
    raw(
        "wrong bson length",
        vec![
            member(b"prelude.json", b"{}".to_vec()),
            member(format!("{db}/a.metadata.json").as_bytes(), id_meta.clone().into_bytes()),
            member(format!("{db}/a.bson").as_bytes(), wrong_len),
        ],
    );
    raw(
        "invalid utf-8 name",
        vec![member(&[0xff, 0xfe, b'.', b'b', b's', b'o', b'n'], bson_doc(1))],
    );

    let data: Vec<u8> = (0..3).flat_map(bson_doc).collect();
    let lying = dir.join("lying-manifest.tar.gz");
    write_test_archive_with(
        &lying,
        db,
        &[TestCollection { name: "a", metadata: id_meta.clone(), data: Some(data.clone()) }],
        |m| {
            m.collections[0].documents = 4;
            m.totals = daraa_ops::archive::manifest::Manifest::totals_of(&m.collections);
        },
    );
    cases.push(("manifest lies about counts", lying));
    let unknown = dir.join("unknown-index-option.tar.gz");
    write_test_archive_with(
        &unknown,
        db,
        &[TestCollection {
            name: "a",
            metadata: meta(
                r#"{"v":2,"key":{"_id":1},"name":"_id_"},{"v":2,"key":{"x":1},"name":"x_1","dropTarget":true}"#,
            ),
            data: Some(data),
        }],
        |_| {},
    );
    cases.push(("unknown index option", unknown));

    let client = job.client().await;
    for (what, path) in &cases {
        let p = path.to_str().unwrap();
        let (code, v, err) = job.json(&["verify", p]);
        assert_eq!(code, 6, "{what}: verify {v} {err}");
        let (code, v, err) = job.json(&["--yes", "restore", p, "--target-db", &target, "--drop"]);
        assert_eq!(code, 6, "{what}: restore {v} {err}");
        let message = v["error"]["message"].as_str().unwrap_or_default().to_owned();
        assert!(!message.is_empty() && !message.contains('\n'), "{what}: one-line message: {v}");
        let names = client.database(&target).list_collection_names().await.unwrap();
        assert!(names.is_empty(), "{what}: the restore left {names:?}");
        assert!(!outside.join("evil.bson").exists(), "{what}: a file was written outside");
        assert!(!dir.join("evil.bson").exists());
    }
    client.database(&target).drop().await.unwrap();
}
