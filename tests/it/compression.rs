//! `backup.compression: zstd`: a `.tar.zst` that daraa-ops lists, verifies, restores, drills,
//! uploads and prunes like a `.tar.gz`, and that the reference `zstd` tool, `tar` and the real
//! mongorestore read (`zstd -dc | tar x`, then `mongorestore --dir`).

use std::process::{Command, Stdio};

use crate::support::{Job, JobOptions, contents, peer, services};

/// A zstd frame's magic number (RFC 8878).
const ZSTD: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zstd_backups_round_trip_through_every_reader() {
    let Some(s) = services() else { return };
    // The peers are required under CI=true; elsewhere their part is skipped (and reported),
    // the rest runs.
    let (mongorestore, zstd) = (peer("mongorestore"), peer("zstd"));
    let job = Job::new("zstd", &s, &JobOptions { s3: true, ..JobOptions::default() });
    job.edit_config("backup:\n", "backup:\n  compression: zstd\n");
    job.seed(0.01, true).await;
    let client = job.client().await;
    let source = contents(&client.database(&job.database)).await;

    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{stderr}");
    let id = v["id"].as_str().unwrap().to_owned();
    let file = v["archive"]["file"].as_str().unwrap().to_owned();
    assert_eq!(file, format!("{id}.tar.zst"));
    let kinds: Vec<&str> =
        v["locations"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["local", "s3"]);
    let path = job.backup_dir.join(&file);
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(&ZSTD), "not a zstd file: {:?}", &bytes[..8]);
    let s3 = job.s3().await;
    assert_eq!(s3.get_bytes(&file).await.unwrap().as_deref(), Some(&bytes[..]), "the S3 copy");
    assert_eq!(
        job.local_files(),
        [format!(".daraa-ops-{}.lock", job.database), format!("{id}.manifest.json"), file.clone()]
    );

    // The reference tool checks every frame's checksum, and decompresses a plain tar that
    // GNU tar extracts; the real mongorestore restores that folder, every document the same.
    if let (Some(mongorestore), Some(zstd)) = (&mongorestore, &zstd) {
        let o = Command::new(zstd).arg("-tq").arg(&path).output().unwrap();
        assert!(o.status.success(), "zstd -t: {}", String::from_utf8_lossy(&o.stderr));
        let out = tempfile::tempdir().unwrap();
        let mut unzstd =
            Command::new(zstd).arg("-dc").arg(&path).stdout(Stdio::piped()).spawn().unwrap();
        let tar = Command::new("tar")
            .arg("xf")
            .arg("-")
            .arg("-C")
            .arg(out.path())
            .stdin(unzstd.stdout.take().unwrap())
            .status()
            .unwrap();
        assert!(unzstd.wait().unwrap().success() && tar.success(), "zstd -dc | tar x");
        assert!(out.path().join("manifest.json").is_file());
        let tools = crate::support::secret_file(
            job.dir.path(),
            "tools.yaml",
            &format!("uri: '{}'\n", job.services.mongo_uri),
        );
        let target = format!("{}_mr", job.database);
        let o = Command::new(mongorestore)
            .arg(format!("--config={}", tools.display()))
            .args(["--noIndexRestore", "--nsFrom"])
            .arg(format!("{}.*", job.database))
            .arg("--nsTo")
            .arg(format!("{target}.*"))
            .arg(format!("--dir={}", out.path().display()))
            .output()
            .unwrap();
        assert!(o.status.success(), "mongorestore: {}", String::from_utf8_lossy(&o.stderr));
        assert!(contents(&client.database(&target)).await == source, "zstd | tar | mongorestore");
        client.database(&target).drop().await.unwrap();
        // A .tar.zst the zstd tool wrote with a long window (256 MiB, beyond the decoder's
        // default limit) is read too: verify checks it against its own manifest.
        let long = job.dir.path().join("long.tar.zst");
        let recompress = format!(
            "'{z}' -dc '{a}' | '{z}' -q --long=28 -o '{l}'",
            z = zstd.display(),
            a = path.display(),
            l = long.display()
        );
        assert!(Command::new("bash").arg("-c").arg(&recompress).status().unwrap().success());
        let (code, _, stderr) = job.json(&["verify", long.to_str().unwrap()]);
        assert_eq!(code, 0, "a long-window .tar.zst: {stderr}");
    }

    // daraa-ops itself: list, verify (the manifest's checksums and the sidecar's), restore,
    // drill.
    let (_, list, _) = job.json(&["list"]);
    let listed = &list["backups"].as_array().unwrap()[0];
    assert_eq!(
        (listed["id"].as_str(), listed["complete"].as_bool()),
        (Some(id.as_str()), Some(true)),
        "{list}"
    );
    let r = job.run(&["describe", &id], &[]);
    assert!(r.code == 0 && r.stdout.contains("zstd (.tar.zst)"), "{} {}", r.stdout, r.stderr);
    let (code, v, stderr) = job.json(&["verify", "latest"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!((v["format"].as_str(), v["checksums"].as_str()), (Some("daraa"), Some("sha256")));
    assert_eq!(v["sidecar_checked"], true);
    let target = format!("{}_r", job.database);
    let (code, _, stderr) = job.json(&["restore", "latest", "--target-db", &target]);
    assert_eq!(code, 0, "{stderr}");
    assert!(contents(&client.database(&target)).await == source, "restore of a .tar.zst");
    client.database(&target).drop().await.unwrap();
    let (code, v, stderr) = job.json(&["drill"]);
    assert_eq!(code, 0, "{v} {stderr}");

    // From S3 alone: the local copy gone, `latest` is the S3 object, restored the same.
    std::fs::remove_file(&path).unwrap();
    let (code, v, stderr) = job.json(&["verify", "latest"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(v["source"].as_str().unwrap().starts_with("s3://"), "{v}");
    let (code, _, stderr) = job.json(&["restore", "latest", "--target-db", &target]);
    assert_eq!(code, 0, "{stderr}");
    assert!(contents(&client.database(&target)).await == source, "restore from S3");
    client.database(&target).drop().await.unwrap();

    // Damaged and truncated copies: verify names the damage (exit 6).
    let damaged = job.dir.path().join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    std::fs::copy(
        job.backup_dir.join(format!("{id}.manifest.json")),
        damaged.join(format!("{id}.manifest.json")),
    )
    .unwrap();
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x55;
    for (what, copy) in
        [("a flipped byte", flipped), ("cut short", bytes[..bytes.len() / 3].to_vec())]
    {
        std::fs::write(damaged.join(&file), &copy).unwrap();
        let (code, _, stderr) = job.json(&["verify", damaged.join(&file).to_str().unwrap()]);
        assert_eq!(code, 6, "{what}: {stderr}");
    }

    // A gzip backup after it (the setting changed): both listed, retention deletes the
    // older .tar.zst in S3 like any other backup.
    job.edit_config("  compression: zstd\n", "");
    job.edit_config("backup:\n", "retention:\n  keep_drilled: false\nbackup:\n");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{stderr}");
    let newest = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["archive"]["file"].as_str(), Some(format!("{newest}.tar.gz").as_str()));
    let (_, list, _) = job.json(&["list", "--remote"]);
    let ids: Vec<&str> =
        list["backups"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [newest.as_str(), id.as_str()], "newest first: {list}");
    let keep_one =
        [("DARAA_OPS_RETENTION_KEEP_LAST", "1"), ("DARAA_OPS_RETENTION_KEEP_DAYS", "none")];
    let r = job.run(&["prune"], &keep_one);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(s3.get_bytes(&file).await.unwrap(), None, "the older .tar.zst stayed in S3");
    let (_, list, _) = job.json(&["list", "--remote"]);
    let ids: Vec<&str> =
        list["backups"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [newest.as_str()], "{list}");
    job.drop_database().await;
}
