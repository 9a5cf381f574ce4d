//! A daraa-ops archive restored by mongorestore itself. Runs where a `mongorestore` binary is
//! available (`DARAA_TEST_MONGORESTORE` or on PATH); mongo-tools cannot be built on machines
//! whose Go module proxy refuses it, and then this test says it was skipped.

use crate::support::{Job, JobOptions, docs_by_id, services};

fn mongorestore() -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var("DARAA_TEST_MONGORESTORE") {
        return Some(p.into());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|d| d.join("mongorestore")).find(|p| p.is_file())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongorestore_restores_a_daraa_ops_archive() {
    let Some(s) = services() else { return };
    let Some(bin) = mongorestore() else {
        eprintln!(
            "SKIPPED: no mongorestore binary (set DARAA_TEST_MONGORESTORE); see docs/operations.md"
        );
        return;
    };
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
    let status = std::process::Command::new(bin)
        .arg("--uri")
        .arg(&s.mongo_uri)
        .arg("--nsFrom")
        .arg(format!("{}.*", job.database))
        .arg("--nsTo")
        .arg(format!("{target}.*"))
        .arg("--dir")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let client = job.client().await;
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
