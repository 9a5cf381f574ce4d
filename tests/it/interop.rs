//! A daraa-ops archive restored by the real mongorestore (MongoDB Database Tools 100.18.0 from
//! `../shared/peers/bin`, or `DARAA_TEST_MONGORESTORE`, or PATH; required under `CI=true`).
//!
//! Against FerretDB mongorestore runs with `--noIndexRestore`: its index creation there fails
//! for any dump, mongodump's own included (`Index option "ns" is unknown`), so the index
//! definitions are checked in the `.metadata.json` members against the source's listIndexes.
//! Against a real MongoDB it builds them.

//!
//! The other way round, daraa-ops reads every shape the real mongodump writes (`--archive`
//! with and without `--gzip`, `--out` with and without `--gzip`, a tar.gz of such a folder
//! under a top-level folder) for verify, restore and drill, and `import` makes them daraa-ops
//! backups.

use std::path::{Path, PathBuf};
use std::process::Command;

use bson::doc;

use crate::support::{Job, JobOptions, contents, docs_by_id, peer, repo_path, services};

/// A job on the Daraa seed data with the bsonzoo and the indexes of config/indexes.yaml (as
/// far as the server builds them: FerretDB refuses TTL and 2dsphere indexes).
async fn seeded(name: &str, s3: bool) -> Option<Job> {
    let s = services()?;
    let opts = JobOptions {
        s3,
        extra: format!("indexes:\n  spec: '{}'\n", repo_path("config/indexes.yaml").display()),
        ..JobOptions::default()
    };
    let job = Job::new(name, &s, &opts);
    job.seed(0.01, true).await;
    let (code, _, stderr) = job.json(&["indexes", "apply"]);
    assert!(code == 0 || code == 5, "indexes apply: {stderr}");
    Some(job)
}

/// An index definition as listIndexes gives it, without the fields that name where or how it
/// is stored (`v`, the pre-4.4 `ns`), sorted by name.
fn comparable(mut index: bson::Document) -> bson::Document {
    index.remove("v");
    index.remove("ns");
    index
}

async fn live_indexes(db: &mongodb::Database, collection: &str) -> Vec<bson::Document> {
    use futures_util::TryStreamExt as _;
    let mut all: Vec<bson::Document> = db
        .run_cursor_command(doc! {"listIndexes": collection})
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .into_iter()
        .map(comparable)
        .collect();
    all.sort_by_key(|i| i.get_str("name").unwrap_or_default().to_owned());
    all
}

/// The tools' connection string goes in a 0600 config file, never on a command line.
fn tools_config(job: &Job) -> PathBuf {
    crate::support::secret_file(
        job.dir.path(),
        "tools.yaml",
        &format!("uri: '{}'\n", job.services.mongo_uri),
    )
}

fn mongodump(job: &Job, args: &[String]) {
    let bin = peer("mongodump").expect("checked by the caller");
    let o = Command::new(bin)
        .arg(format!("--config={}", tools_config(job).display()))
        .arg(format!("--db={}", job.database))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "mongodump {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// Every index of every collection as listIndexes gives it, without `v` and `ns`.
async fn indexes_of(db: &mongodb::Database) -> Vec<(String, Vec<bson::Document>)> {
    let mut out = Vec::new();
    let mut names = db.list_collection_names().await.unwrap();
    names.sort();
    for name in names {
        let reply = db.run_command(doc! {"listIndexes": &name}).await.unwrap();
        let mut list: Vec<bson::Document> = reply
            .get_document("cursor")
            .unwrap()
            .get_array("firstBatch")
            .unwrap()
            .iter()
            .map(|i| {
                let mut d = i.as_document().unwrap().clone();
                d.remove("v");
                d.remove("ns");
                d
            })
            .collect();
        list.sort_by_key(|d| d.get_str("name").unwrap_or_default().to_owned());
        out.push((name, list));
    }
    out
}

/// What the replaced backup-mongodb.sh did after `mongodump --gzip --out dump_20261128`:
/// `tar -czf dump_20261128.tar.gz dump_20261128` (top-level folder, directory entries).
fn script_tarball(dir: &Path) {
    let tarred = Command::new("tar")
        .args(["-czf", "dump_20261128.tar.gz", "dump_20261128"])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(tarred.success());
}

fn path_arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daraa_ops_reads_every_shape_mongodump_writes() {
    if peer("mongodump").is_none() {
        return;
    }
    let Some(job) = seeded("md", false).await else { return };
    let client = job.client().await;
    let src = client.database(&job.database);
    let source = contents(&src).await;
    let source_indexes = indexes_of(&src).await;
    let documents: usize = source.values().map(std::collections::BTreeMap::len).sum();
    assert!(source.contains_key("bsonzoo") && source.contains_key("order events/2024 50%?"));

    let dir = job.dir.path().join("dumps");
    std::fs::create_dir_all(&dir).unwrap();
    let at = |name: &str| dir.join(name);
    mongodump(&job, &[format!("--archive={}", at("daraa.archive.gz").display()), "--gzip".into()]);
    mongodump(&job, &[format!("--archive={}", at("daraa.archive").display())]);
    mongodump(&job, &[format!("--out={}", at("out").display())]);
    mongodump(&job, &["--gzip".into(), format!("--out={}", at("dump_20261128").display())]);
    // The replaced backup-mongodb.sh: the --gzip folder in a tar.gz, top-level folder included.
    script_tarball(&dir);
    let shapes = [
        ("daraa.archive.gz", "mongodump-archive", "crc64"),
        ("daraa.archive", "mongodump-archive", "crc64"),
        ("out", "mongodump-directory", "none"),
        ("dump_20261128", "mongodump-directory", "none"),
        ("dump_20261128.tar.gz", "mongodump-directory", "none"),
    ];
    for (i, (name, format, checksums)) in shapes.iter().enumerate() {
        let path = at(name);
        let (code, v, stderr) = job.json(&["verify", path_arg(&path)]);
        assert_eq!(code, 0, "verify {name}: {stderr}");
        assert_eq!(v["format"], *format, "{name}: {v}");
        assert_eq!(v["checksums"], *checksums, "{name}: {v}");
        assert_eq!(v["totals"]["documents"], documents, "{name}: {v}");

        let target = format!("{}_s{i}", job.database);
        let (code, _, stderr) = job.json(&["restore", path_arg(&path), "--target-db", &target]);
        assert_eq!(code, 0, "restore {name}: {stderr}");
        let restored = client.database(&target);
        assert!(contents(&restored).await == source, "{name}: restored documents differ");
        assert_eq!(indexes_of(&restored).await, source_indexes, "{name}: indexes");
        restored.drop().await.unwrap();
    }
    for name in ["daraa.archive.gz", "dump_20261128.tar.gz", "out"] {
        let (code, v, stderr) = job.json(&["drill", path_arg(&at(name))]);
        assert_eq!(code, 0, "drill {name}: {v} {stderr}");
        let checks = v["collections"].as_array().unwrap();
        assert_eq!(checks.len(), source.len(), "{name}: {v}");
        assert!(checks.iter().all(|c| c["digest_matches"] == true && c["indexes_match"] == true));
    }

    // Nothing is touched when the backup turns out damaged half-way: a cut archive restored
    // with --drop over a good copy leaves the copy as it was.
    let target = format!("{}_cut", job.database);
    let (code, _, stderr) =
        job.json(&["restore", path_arg(&at("daraa.archive")), "--target-db", &target]);
    assert_eq!(code, 0, "{stderr}");
    let whole = std::fs::read(at("daraa.archive")).unwrap();
    std::fs::write(at("cut.archive"), &whole[..whole.len() * 2 / 3]).unwrap();
    let (code, v, stderr) = job.json(&[
        "--yes",
        "restore",
        path_arg(&at("cut.archive")),
        "--target-db",
        &target,
        "--drop",
    ]);
    assert_eq!(code, 6, "{v} {stderr}");
    assert!(stderr.contains("truncated") || stderr.contains("no end marker"), "{stderr}");
    assert!(contents(&client.database(&target)).await == source, "a failed restore changed data");
    client.database(&target).drop().await.unwrap();

    // A file in none of the shapes says what it looks like.
    std::fs::write(at("notes.txt"), "nightly backup notes\n").unwrap();
    let (code, _, stderr) = job.json(&["verify", path_arg(&at("notes.txt"))]);
    assert_eq!(code, 6);
    assert!(stderr.contains("not a backup: text; expected a daraa-ops .tar.gz"), "{stderr}");
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_makes_mongodump_backups_daraa_ops_backups() {
    if peer("mongodump").is_none() {
        return;
    }
    let Some(job) = seeded("imp", true).await else { return };
    let client = job.client().await;
    let source = contents(&client.database(&job.database)).await;
    let dir = job.dir.path().join("dumps");
    std::fs::create_dir_all(&dir).unwrap();
    mongodump(&job, &["--gzip".into(), format!("--out={}", dir.join("dump_20261128").display())]);
    script_tarball(&dir);
    let archive = dir.join("nightly.archive.gz");
    mongodump(&job, &[format!("--archive={}", archive.display()), "--gzip".into()]);

    // The replaced script's backup: its time from its name, uploaded, in the catalog.
    let tar = dir.join("dump_20261128.tar.gz");
    let (code, v, stderr) = job.json(&["import", path_arg(&tar)]);
    assert_eq!(code, 0, "{stderr}");
    let id = format!("daraa-{}-20261128T000000Z", job.database);
    assert_eq!(v["id"], id.as_str(), "{v}");
    assert_eq!(
        (v["time_from"].as_str(), v["source_format"].as_str()),
        (Some("name"), Some("mongodump-directory"))
    );
    assert_eq!(v["already_present"], false);
    let kinds: Vec<&str> = v["backup"]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["local", "s3"], "{v}");
    // An --archive with its time given.
    let (code, v, stderr) =
        job.json(&["import", path_arg(&archive), "--time", "2026-11-27T03:00:00"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["id"], format!("daraa-{}-20261127T030000Z", job.database).as_str(), "{v}");
    assert_eq!(v["time_from"], "option");

    // Both are complete daraa-ops backups, with SHA-256 checksums now.
    let (_, list, _) = job.json(&["list"]);
    let complete =
        list["backups"].as_array().unwrap().iter().filter(|b| b["complete"] == true).count();
    assert!(complete >= 2, "{list}");
    let (code, v, stderr) = job.json(&["verify", &id]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        (v["format"].as_str(), v["checksums"].as_str()),
        (Some("daraa"), Some("sha256")),
        "{v}"
    );
    let sidecar: serde_json::Value = serde_json::from_slice(
        &std::fs::read(job.backup_dir.join(format!("{id}.manifest.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(sidecar["imported"]["source"], "dump_20261128.tar.gz");
    assert_eq!(sidecar["created_at"], "2026-11-28T00:00:00Z");
    let target = format!("{}_imp", job.database);
    let (code, _, stderr) = job.json(&["restore", &id, "--target-db", &target]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        contents(&client.database(&target)).await == source,
        "imported backup restored other data"
    );
    client.database(&target).drop().await.unwrap();

    // Importing again writes nothing.
    let before = job.local_files();
    let (code, v, _) = job.json(&["import", path_arg(&tar)]);
    assert_eq!(code, 0);
    assert_eq!(v["already_present"], true, "{v}");
    assert_eq!(job.local_files(), before);

    // Bad input leaves the catalog as it was: another database's dump, a file that is no backup.
    let other = Job::new("imp2", &job.services, &JobOptions::default());
    let (code, _, stderr) = other.json(&["import", path_arg(&tar)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("is a backup of database {}", job.database)), "{stderr}");
    std::fs::write(dir.join("x.tar.gz"), b"not a backup at all").unwrap();
    let (code, _, stderr) = job.json(&["import", path_arg(&dir.join("x.tar.gz"))]);
    assert_eq!(code, 6, "{stderr}");
    assert_eq!(job.local_files(), before);
    assert!(!other.backup_dir.exists() || other.local_files().is_empty());
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongorestore_restores_a_daraa_ops_archive() {
    let Some(bin) = peer("mongorestore") else { return };
    let Some(job) = seeded("mr", false).await else { return };
    let s = job.services.clone();
    let (code, v, stderr) = job.json(&["backup"]);
    assert_eq!(code, 0, "{stderr}");
    let archive = job.backup_dir.join(v["archive"]["file"].as_str().unwrap());
    let out = tempfile::tempdir().unwrap();
    assert!(
        std::process::Command::new("tar")
            .arg("xzf")
            .arg(&archive)
            .arg("-C")
            .arg(out.path())
            .status()
            .unwrap()
            .success()
    );
    let target = format!("{}_mr", job.database);
    let client = job.client().await;
    let ferretdb = client
        .database("admin")
        .run_command(doc! {"buildInfo": 1})
        .await
        .unwrap()
        .contains_key("ferretdbVersion");
    // The URI (with its password) goes in a 0600 config file, never on the command line.
    let tools_cfg = job.dir.path().join("tools.yaml");
    crate::support::secret_file(job.dir.path(), "tools.yaml", &format!("uri: '{}'\n", s.mongo_uri));
    // mongorestore builds the indexes from daraa-ops' metadata.json wherever the server lets
    // it: not on FerretDB 1.24, which refuses the `ns` field mongorestore 100.18 puts into every
    // index spec it sends (`Index option "ns" is unknown`, seen with the seed's indexes).
    let mut cmd = std::process::Command::new(bin);
    if ferretdb {
        cmd.arg("--noIndexRestore");
    }
    let status = cmd
        .arg(format!("--config={}", tools_cfg.display()))
        .arg("--nsFrom")
        .arg(format!("{}.*", job.database))
        .arg("--nsTo")
        .arg(format!("{target}.*"))
        .arg("--dir")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    // Index definitions, whole: the metadata.json of each collection holds the source's
    // listIndexes (keys in order with their directions and kinds, unique, sparse, partial
    // filters, collations, TTLs), and what mongorestore built from it is the same again.
    let src = client.database(&job.database);
    let dst = client.database(&target);
    let mut compared = 0;
    for name in src.list_collection_names().await.unwrap() {
        let meta_path =
            out.path().join(daraa_ops::archive::names::metadata_member(&job.database, &name));
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
        let archived: Vec<bson::Document> = meta["indexes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| comparable(daraa_ops::mongo::load::to_document(i).unwrap()))
            .collect();
        let source = live_indexes(&src, &name).await;
        assert_eq!(archived, source, "{name}: index definitions in metadata.json");
        if !ferretdb {
            let restored = live_indexes(&dst, &name).await;
            assert_eq!(restored, source, "{name}: indexes mongorestore built from the metadata");
        }
        compared += source.len();
    }
    assert!(compared > 20, "only {compared} indexes compared");
    // bsondump reads every .bson member and counts what the manifest says.
    if let Some(bsondump) = peer("bsondump") {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap())
                .unwrap();
        for c in manifest["collections"].as_array().unwrap() {
            let Some(file) = c["data_file"].as_str() else { continue };
            let o = std::process::Command::new(&bsondump)
                .arg("--outFile=/dev/null")
                .arg(out.path().join(file))
                .output()
                .unwrap();
            assert!(o.status.success(), "bsondump {file}");
            let said = String::from_utf8_lossy(&o.stderr);
            let expected = format!("{} objects found", c["documents"]);
            assert!(said.contains(&expected), "bsondump {file}: {said} (want {expected})");
        }
    }
    for name in client.database(&job.database).list_collection_names().await.unwrap() {
        assert_eq!(
            docs_by_id(&client.database(&job.database), &name).await,
            docs_by_id(&client.database(&target), &name).await,
            "{name}: mongorestore restored other bytes"
        );
    }
    client.database(&target).drop().await.unwrap();
    job.drop_database().await;
}
