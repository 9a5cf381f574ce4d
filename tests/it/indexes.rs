//! indexes validate / apply / export against the real server (compound and unique indexes:
//! FerretDB implements no other index option).

use bson::{Document, doc};

use crate::support::Edit as _;
use crate::support::{Job, JobOptions, services};

const SPEC: &str = "collections:
  orders:
    - keys: {userId: 1, createdAt: -1}
    - keys: {storeId: 1, status: 1, createdAt: -1}
  users:
    - keys: {email: 1}
      unique: true
  commissions:
    - keys: {orderId: 1, storeAccountId: -1}
      unique: true
      name: order_store_unique
";

fn job(name: &str) -> Option<Job> {
    let s = services()?;
    let job = Job::new(
        name,
        &s,
        &JobOptions { extra: "indexes:\n  spec: indexes.yaml\n".into(), ..Default::default() },
    );
    std::fs::write(job.dir.path().join("indexes.yaml"), SPEC).unwrap();
    Some(job)
}

/// name → (keys, unique) of the live indexes of a collection.
async fn live(job: &Job, collection: &str) -> Vec<(String, Document, bool)> {
    let db = job.client().await.database(&job.database);
    let mut v: Vec<(String, Document, bool)> =
        daraa_ops::mongo::dump::list_indexes(&db, collection)
            .await
            .unwrap()
            .into_iter()
            .map(|d| {
                (
                    d.get_str("name").unwrap().to_owned(),
                    d.get_document("key").unwrap().clone(),
                    d.get_bool("unique").unwrap_or(false),
                )
            })
            .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn statuses(v: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for c in v["collections"].as_array().unwrap() {
        for i in c["indexes"].as_array().unwrap() {
            out.push((
                c["name"].as_str().unwrap().to_owned(),
                i["name"].as_str().unwrap().to_owned(),
                i["status"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

fn collection_status(v: &serde_json::Value, name: &str) -> String {
    v["collections"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_validate_drift_drop_extra_rebuild_and_export() {
    let Some(job) = job("idx") else { return };

    // Empty database: everything missing (exit 6); a dry run changes nothing.
    let (code, v, _) = job.json(&["indexes", "validate"]);
    assert_eq!(code, 6, "{v}");
    assert_eq!(v["counts"]["missing"], 4, "{v}");
    assert_eq!(collection_status(&v, "orders"), "missing");
    let (code, v, _) = job.json(&["indexes", "apply", "--dry-run"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(job.json(&["indexes", "validate"]).0, 6, "dry run changed something");

    // apply, then validate: exit 0, every collection listed as ok.
    let (code, v, err) = job.json(&["indexes", "apply"]);
    assert_eq!(code, 0, "{v} {err}");
    let (code, v, _) = job.json(&["indexes", "validate"]);
    assert_eq!(code, 0, "{v}");
    for c in ["orders", "users", "commissions"] {
        assert_eq!(collection_status(&v, c), "ok", "{v}");
    }
    assert_eq!(v["counts"]["ok"], 4);
    let orders = live(&job, "orders").await;
    let names: Vec<&str> = orders.iter().map(|o| o.0.as_str()).collect();
    assert_eq!(names, ["_id_", "storeId_1_status_1_createdAt_-1", "userId_1_createdAt_-1"]);
    let keys: Vec<&String> = orders[1].1.keys().collect();
    assert_eq!(keys, ["storeId", "status", "createdAt"], "key order kept");
    let commissions = live(&job, "commissions").await;
    assert!(commissions.iter().any(|(n, _, u)| n == "order_store_unique" && *u));

    // Drop one index and add an extra one: validate names both (exit 6).
    let db = job.client().await.database(&job.database);
    db.run_command(doc! {"dropIndexes": "orders", "index": "userId_1_createdAt_-1"}).await.unwrap();
    db.run_command(
        doc! {"createIndexes": "orders", "indexes": [{"key": {"status": 1}, "name": "status_1"}]},
    )
    .await
    .unwrap();
    let r = job.run(&["indexes", "validate"], &[]);
    assert_eq!(r.code, 6, "{}", r.stdout);
    assert!(
        r.stdout.contains("userId_1_createdAt_-1") && r.stdout.contains("missing"),
        "{}",
        r.stdout
    );
    let (_, v, _) = job.json(&["indexes", "validate"]);
    let st = statuses(&v);
    assert!(
        st.contains(&("orders".into(), "userId_1_createdAt_-1".into(), "missing".into())),
        "{st:?}"
    );
    assert!(st.contains(&("orders".into(), "status_1".into(), "extra".into())), "{st:?}");
    assert!(!st.iter().any(|(_, n, _)| n == "_id_"));

    // apply without --drop-extra: the missing one comes back, the extra stays (exit 6).
    let (code, v, _) = job.json(&["indexes", "apply"]);
    assert_eq!(code, 6, "{v}");
    assert!(live(&job, "orders").await.iter().any(|o| o.0 == "userId_1_createdAt_-1"));
    assert!(live(&job, "orders").await.iter().any(|o| o.0 == "status_1"));
    let (code, _, _) = job.json(&["indexes", "apply", "--drop-extra"]);
    assert_eq!(code, 0);
    assert!(!live(&job, "orders").await.iter().any(|o| o.0 == "status_1"));
    assert_eq!(job.json(&["indexes", "validate"]).0, 0);

    // Options differ (the spec drops `unique`): different; --rebuild asks, --yes rebuilds.
    let spec2 =
        SPEC.edit("    - keys: {email: 1}\n      unique: true\n", "    - keys: {email: 1}\n");
    std::fs::write(job.dir.path().join("indexes.yaml"), &spec2).unwrap();
    let (code, v, _) = job.json(&["indexes", "validate"]);
    assert_eq!(code, 6);
    let users = v["collections"].as_array().unwrap().iter().find(|c| c["name"] == "users").unwrap();
    assert_eq!(users["indexes"][0]["status"], "different");
    assert_eq!(users["indexes"][0]["details"][0], "unique: live true, spec false");
    assert_eq!(job.json(&["indexes", "apply"]).0, 6, "different is left without --rebuild");
    let r = job.run(&["indexes", "apply", "--rebuild"], &[]);
    assert_eq!(r.code, 2, "no terminal, no --yes: refused\n{}", r.stderr);
    assert!(
        live(&job, "users").await.iter().any(|(n, _, u)| n == "email_1" && *u),
        "nothing changed"
    );
    let (code, v, _) = job.json(&["--yes", "indexes", "apply", "--rebuild"]);
    assert_eq!(code, 0, "{v}");
    assert!(live(&job, "users").await.iter().any(|(n, _, u)| n == "email_1" && !*u));
    assert_eq!(job.json(&["indexes", "validate"]).0, 0);

    // export, then validate against the exported spec: exit 0.
    let exported = job.dir.path().join("exported.yaml");
    let (code, v, _) = job.json(&["indexes", "export", "--out", exported.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["indexes"], 4);
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.contains("name: order_store_unique"), "{text}");
    let (code, v, _) = job.json(&["indexes", "validate", "--spec", exported.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}\n{text}");

    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_index_is_reported_and_the_rest_applied() {
    let Some(job) = job("idxfail") else { return };
    let db = job.client().await.database(&job.database);
    // Duplicate emails: the unique index cannot be built; the other collections still are.
    db.collection::<Document>("users")
        .insert_many([doc! {"email": "a@x"}, doc! {"email": "a@x"}])
        .await
        .unwrap();
    let (code, v, err) = job.json(&["indexes", "apply"]);
    assert_eq!(code, 5, "{v}");
    assert!(err.contains("users") && err.contains("email_1"), "{err}");
    assert_eq!(v["failed"].as_array().unwrap().len(), 1, "{v}");
    assert!(live(&job, "orders").await.len() == 3);
    assert_eq!(db.collection::<Document>("users").count_documents(doc! {}).await.unwrap(), 2);
    job.drop_database().await;
}

#[test]
fn a_broken_spec_exits_2_naming_file_and_line() {
    let Some(job) = job("idxbad") else { return };
    let path = job.dir.path().join("indexes.yaml");
    std::fs::write(&path, "collections:\n  orders:\n    - keys: {userId: 1}\n      hidden: true\n")
        .unwrap();
    let r = job.run(&["indexes", "validate"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{}:4:", path.display())), "{}", r.stderr);
    assert!(r.stderr.contains("hidden"), "{}", r.stderr);
    std::fs::write(
        &path,
        "collections:\n  orders:\n    - keys: {a: 1, b: 1}\n      expireAfterSeconds: 60\n",
    )
    .unwrap();
    let r = job.run(&["indexes", "apply"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(":3:") && r.stderr.contains("expireAfterSeconds"), "{}", r.stderr);
}
