//! A daraa-ops archive restored by the real mongorestore (MongoDB Database Tools 100.18.0 from
//! `../shared/peers/bin`, or `DARAA_TEST_MONGORESTORE`, or PATH; required under `CI=true`).
//!
//! Against FerretDB mongorestore runs with `--noIndexRestore`: its index creation there fails
//! for any dump, mongodump's own included (`Index option "ns" is unknown`), so the index
//! definitions are checked in the `.metadata.json` members against the source's listIndexes.
//! Against a real MongoDB it builds them.

use bson::doc;

use crate::support::{Job, JobOptions, docs_by_id, peer, services};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongorestore_restores_a_daraa_ops_archive() {
    let Some(s) = services() else { return };
    let Some(bin) = peer("mongorestore") else { return };
    let job = Job::new("mr", &s, &JobOptions::default());
    job.seed(0.01, false).await;
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
    // The index definitions mongorestore would build are the source's, key order included.
    let src = client.database(&job.database);
    for name in src.list_collection_names().await.unwrap() {
        let meta_path =
            out.path().join(daraa_ops::archive::layout::metadata_member(&job.database, &name));
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
        let archived: Vec<(String, Vec<String>)> = meta["indexes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let keys = i["key"].as_object().unwrap().keys().cloned().collect();
                (i["name"].as_str().unwrap().to_owned(), keys)
            })
            .collect();
        let mut cursor = src.collection::<bson::Document>(&name).list_indexes().await.unwrap();
        let mut live = Vec::new();
        while cursor.advance().await.unwrap() {
            let i = cursor.deserialize_current().unwrap();
            let keys = i.keys.keys().cloned().collect();
            live.push((i.options.and_then(|o| o.name).unwrap(), keys));
        }
        assert_eq!(archived, live, "{name}: index definitions in metadata.json");
    }
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
