//! Masked restores on the seed data (docs/masking.md), with the example config's masking rules:
//! `mask check` passes on them and fails on a new personal field; after `restore --mask` no
//! original value of a masked field is anywhere in the target, counts are equal, unique indexes
//! hold, a value masks alike across collections, and a second run is byte-identical; the
//! refusals (live, protected, staging without --mask, missing key) write nothing.

use std::collections::{BTreeMap, BTreeSet};

use bson::{Bson, doc};

use crate::support::Edit as _;
use crate::support::{Job, JobOptions, contents, repo_path, secret_file, services};

/// The `masking:` block of config/daraa-ops.example.yaml, its key file replaced.
fn example_masking(key_file: &str) -> String {
    let text = std::fs::read_to_string(repo_path("config/daraa-ops.example.yaml")).unwrap();
    let start = text.find("\nmasking:\n").expect("the example config has a masking block") + 1;
    let end = start + text[start..].find("\n\n").unwrap();
    text[start..end]
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| {
            if l.trim_start().starts_with("key_file:") {
                format!("  key_file: {key_file}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Every string anywhere in a document (keys excluded).
fn strings(v: &Bson, out: &mut BTreeSet<String>) {
    match v {
        Bson::String(s) => {
            out.insert(s.clone());
        }
        Bson::Document(d) => d.values().for_each(|x| strings(x, out)),
        Bson::Array(a) => a.iter().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// A job with the example masking rules, a staging database, the seed data and the example
/// index spec applied (unique indexes must survive masking).
async fn masking_job(name: &str, s: &crate::support::Services) -> (Job, String) {
    let staging = format!("{}_staging", crate::support::unique(name));
    let extra = format!(
        "{}restore:\n  protected_databases: [{staging}_prot]\nindexes:\n  spec: '{}'\n",
        example_masking("mask_key").edit_all("[daraa_staging]", &format!("[{staging}]")),
        repo_path("config/indexes.yaml").display()
    );
    let job = Job::new(name, s, &JobOptions { extra, ..JobOptions::default() });
    secret_file(job.dir.path(), "mask_key", "a-masking-key-of-32-bytes-000001");
    job.seed(0.01, false).await;
    let (code, _, stderr) = job.json(&["indexes", "apply"]);
    assert!(code == 0 || code == 5, "{stderr}");
    (job, staging)
}

/// A denormalised copy of the first user's e-mail and a name in one order (fields no rule
/// names yet); returns that user.
async fn copy_a_customer_into_orders(job: &Job) -> bson::Document {
    let src = job.db().await;
    let first_user: bson::Document =
        src.collection("users").find_one(doc! {}).await.unwrap().unwrap();
    let first_email = first_user.get_str("email").unwrap().to_owned();
    src.collection::<bson::Document>("orders")
        .update_one(
            doc! {},
            doc! {"$set": {"customerEmail": &first_email, "customerName": "Dina Haddad"}},
        )
        .await
        .unwrap();
    first_user
}

/// The orders' customer fields get rules of their own.
const CUSTOMER_RULES: (&str, &str) =
    ("    orders:\n", "    orders:\n      customerEmail: hash\n      customerName: fake\n");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mask_check_finds_personal_data_in_fields_and_free_text_and_names_what_is_uncovered() {
    let Some(s) = services() else { return };
    let (job, _) = masking_job("maskc", &s).await;

    // The example rules cover every personal field of the seed data.
    let (code, v, stderr) = job.json(&["mask", "check"]);
    assert_eq!(code, 0, "{v} {stderr}");
    assert_eq!(v["uncovered"], 0);
    let users = v["collections"].as_array().unwrap().iter().find(|c| c["name"] == "users").unwrap();
    let kinds: BTreeSet<&str> =
        users["fields"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, BTreeSet::from(["email", "person_name", "phone"]), "{users}");

    // Free text holds personal data (seeded): found inside the text, per field, with counts
    // that add up (documents never more than sampled), and masked by the scan.
    let orders =
        v["collections"].as_array().unwrap().iter().find(|c| c["name"] == "orders").unwrap();
    let note = orders["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "note" && f["kind"] == "email")
        .unwrap_or_else(|| panic!("orders.note e-mails not reported: {orders}"));
    assert_eq!((note["embedded"].as_bool(), note["rule"].as_str()), (Some(true), Some("scan")));
    for c in v["collections"].as_array().unwrap() {
        for f in c["fields"].as_array().unwrap() {
            assert!(f["documents"].as_u64() <= c["sampled"].as_u64(), "{c}");
            assert!(f["values"].as_u64() >= f["documents"].as_u64(), "{c}");
        }
    }
    assert!(
        v["collections"].as_array().unwrap().iter().all(|c| c["fields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["kind"] != "phone" || f["field"] != "ip")),
        "IP addresses are no phone numbers: {v}"
    );

    // The same check over a backup (read to its end, compared with its sidecar) reports what
    // the live database holds, every document sampled on both sides.
    let (code, b, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{b} {stderr}");
    let id = b["id"].as_str().unwrap().to_owned();
    let (code, live, stderr) = job.json(&["mask", "check", "--sample", "1000000"]);
    assert_eq!(code, 0, "{live} {stderr}");
    let (code, stored, stderr) =
        job.json(&["mask", "check", "--backup", &id, "--sample", "1000000"]);
    assert_eq!(code, 0, "{stored} {stderr}");
    assert_eq!(stored["collections"], live["collections"]);
    assert!(stored["source"].as_str().unwrap().contains(&id), "{stored}");
    assert!(live["collections"].as_array().unwrap().len() >= 5, "{live}");
    // A sidecar that counts one document more than the backup holds: refused as damage
    // (exit 6) naming the backup and the count, whatever the sample.
    let sidecar = job.backup_dir.join(format!("{id}.manifest.json"));
    let original = std::fs::read(&sidecar).unwrap();
    let mut edited: serde_json::Value = serde_json::from_slice(&original).unwrap();
    let users = edited["collections"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == "users")
        .unwrap();
    users["documents"] = serde_json::json!(users["documents"].as_u64().unwrap() + 1);
    std::fs::write(&sidecar, serde_json::to_vec(&edited).unwrap()).unwrap();
    let (code, v, stderr) = job.json(&["mask", "check", "--backup", &id, "--sample", "1"]);
    assert_eq!(code, 6, "{v} {stderr}");
    assert!(
        stderr.contains(&format!(
            "{id}.tar.gz: the archive's manifest.json differs from its sidecar manifest at \
             collections[users].documents: "
        )),
        "{stderr}"
    );
    std::fs::write(&sidecar, &original).unwrap();

    // A copy of a user's e-mail and a name in orders: the name is personal data that no rule
    // and no scan masks.
    copy_a_customer_into_orders(&job).await;
    // A new personal field that no rule and no scan masks (a name) fails the check.
    let (code, v, _) = job.json(&["mask", "check"]);
    assert_eq!(code, 6, "{v}");
    assert_eq!(v["uncovered"], 1, "{v}");
    job.edit_config(CUSTOMER_RULES.0, CUSTOMER_RULES.1);
    assert_eq!(job.json(&["mask", "check"]).0, 0);

    // A collection the masking configuration does not name: mask check fails naming it.
    job.edit_config(" supporttickets,", "");
    let (code, v, _) = job.json(&["mask", "check"]);
    assert_eq!(code, 6, "{v}");
    assert_eq!(v["unconfigured"], serde_json::json!(["supporttickets"]), "{v}");

    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masked_restores_keep_no_original_value_and_stay_consistent() {
    let Some(s) = services() else { return };
    let (job, staging) = masking_job("mask", &s).await;
    let client = job.client().await;
    let src = client.database(&job.database);
    // A denormalised copy of a user's e-mail in orders, with a rule of its own; a collection
    // the masking configuration does not name (supporttickets).
    let first_user = copy_a_customer_into_orders(&job).await;
    job.edit_config(CUSTOMER_RULES.0, CUSTOMER_RULES.1);
    job.edit_config(" supporttickets,", "");
    let (code, _, stderr) = job.json(&["backup", "--no-prune"]);
    assert_eq!(code, 0, "{stderr}");
    let source = contents(&src).await;

    // Refusals write nothing: the live database, a protected one, staging without --mask.
    for (args, says) in [
        (vec!["restore", "latest", "--mask", "--drop", "--yes"], "live database"),
        (
            vec![
                "restore",
                "latest",
                "--mask",
                "--target-db",
                &format!("{staging}_prot"),
                "--force-protected",
            ],
            "protected",
        ),
        (vec!["restore", "latest", "--target-db", &staging], "masking.staging_databases"),
    ] {
        let (code, _, stderr) = job.json(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(contents(&src).await == source, "a refused restore changed the live database");
    let dbs = client.list_database_names().await.unwrap();
    assert!(!dbs.contains(&staging) && !dbs.contains(&format!("{staging}_prot")));

    // ... and a masked restore of a backup holding it is refused, naming it, writing nothing.
    let (code, _, stderr) = job.json(&["restore", "latest", "--mask", "--target-db", &staging]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("supporttickets") && stderr.contains("copy_as_is"), "{stderr}");
    assert!(!client.list_database_names().await.unwrap().contains(&staging));
    job.edit_config(" notifications,", " notifications, supporttickets,");

    // The masked restore.
    let (code, v, stderr) = job.json(&["restore", "latest", "--mask", "--target-db", &staging]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["masked"], true);
    let reports = v["collections"].as_array().unwrap();
    let users_report = reports.iter().find(|c| c["name"] == "users").unwrap();
    let n_users = source["users"].len() as u64;
    for field in ["name", "email", "phone"] {
        assert_eq!(users_report["masked"][field]["values"], n_users, "{users_report}");
    }
    let masked_db = client.database(&staging);
    let masked = contents(&masked_db).await;
    for (name, docs) in &source {
        assert_eq!(masked[name].len(), docs.len(), "{name}: count");
    }
    // No original value of a masked field is anywhere in the target.
    let mut originals = BTreeSet::new();
    for (collection, fields) in [
        ("users", &["name", "email", "phone"][..]),
        ("addresses", &["street"]),
        ("auditlogs", &["ip"]),
    ] {
        for raw in source[collection].values() {
            let d = bson::Document::from_reader(&mut raw.as_slice()).unwrap();
            for f in fields {
                if let Ok(s) = d.get_str(f) {
                    originals.insert(s.to_owned());
                }
            }
        }
    }
    assert!(originals.len() > 3 * n_users as usize);
    let mut seen = BTreeSet::new();
    for docs in masked.values() {
        for raw in docs.values() {
            strings(
                &Bson::Document(bson::Document::from_reader(&mut raw.as_slice()).unwrap()),
                &mut seen,
            );
        }
    }
    let leaked: Vec<&String> = originals.intersection(&seen).collect();
    assert!(
        leaked.is_empty(),
        "original values in the masked database: {:?}",
        &leaked[..leaked.len().min(5)]
    );
    // Personal data inside free text, in every collection (with rules, in arrays of
    // sub-documents, and in collections copied as is): none of it is anywhere in the copy.
    let mut embedded = BTreeSet::new();
    for docs in source.values() {
        for raw in docs.values() {
            let mut texts = BTreeSet::new();
            strings(
                &Bson::Document(bson::Document::from_reader(&mut raw.as_slice()).unwrap()),
                &mut texts,
            );
            for t in texts {
                for f in daraa_ops::mask::scan::find(&t) {
                    embedded.insert(t[f.start..f.end].to_owned());
                }
            }
        }
    }
    let kinds_in_text = ["@daraa.example", "+9639", "DE", "4000 "];
    for k in kinds_in_text {
        assert!(embedded.iter().any(|e| e.contains(k)), "the seed has no {k} in free text");
    }
    let joined: Vec<&String> = seen.iter().collect();
    let found: Vec<&String> =
        embedded.iter().filter(|e| joined.iter().any(|s| s.contains(e.as_str()))).collect();
    assert!(
        found.is_empty(),
        "personal data from free text in the masked copy: {:?}",
        &found[..found.len().min(5)]
    );
    let orders_report = reports.iter().find(|c| c["name"] == "orders").unwrap();
    assert!(orders_report["masked"]["note"]["values"].as_u64() > Some(0), "{orders_report}");
    assert_eq!(orders_report["masked"]["note"]["rule"], "embedded");
    assert!(
        orders_report["masked"]["history.note"]["values"].as_u64() > Some(0),
        "{orders_report}"
    );
    // GridFS and the dotted and Arabic-named collections came through, whole.
    for name in ["fs.files", "fs.chunks", "reports.daily", "سجلات.التوصيل"] {
        assert_eq!(masked[name].len(), source[name].len(), "{name}");
    }
    // Points are on the grid.
    let address: bson::Document =
        masked_db.collection("addresses").find_one(doc! {}).await.unwrap().unwrap();
    for c in address.get_document("location").unwrap().get_array("coordinates").unwrap() {
        let x = c.as_f64().unwrap() * 100.0;
        assert!((x - x.round()).abs() < 1e-6, "{address}");
    }
    // The same e-mail masks alike in users and orders.
    let masked_first: bson::Document = masked_db
        .collection("users")
        .find_one(doc! {"_id": first_user.get("_id").unwrap()})
        .await
        .unwrap()
        .unwrap();
    let masked_email = masked_first.get_str("email").unwrap();
    assert!(masked_email.ends_with("@example.com"));
    let order: bson::Document = masked_db
        .collection("orders")
        .find_one(doc! {"customerEmail": {"$exists": true}})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.get_str("customerEmail").unwrap(), masked_email);
    // Unique indexes were built on the masked data, as on the source.
    let unique = |db: mongodb::Database| async move {
        let mut out = BTreeMap::new();
        for name in db.list_collection_names().await.unwrap() {
            let reply = db.run_command(doc! {"listIndexes": &name}).await.unwrap();
            let batch =
                reply.get_document("cursor").unwrap().get_array("firstBatch").unwrap().clone();
            let u: BTreeSet<String> = batch
                .iter()
                .filter_map(|i| i.as_document())
                .filter(|i| i.get_bool("unique").unwrap_or(false))
                .map(|i| i.get_str("name").unwrap().to_owned())
                .collect();
            out.insert(name, u);
        }
        out
    };
    let source_unique = unique(src.clone()).await;
    assert!(source_unique.values().any(|u| !u.is_empty()), "the seed has unique indexes");
    assert_eq!(unique(masked_db.clone()).await, source_unique);

    // The same key again: byte-identical documents.
    let again = format!("{staging}2");
    let (code, _, stderr) = job.json(&["restore", "latest", "--mask", "--target-db", &again]);
    assert_eq!(code, 0, "{stderr}");
    assert!(contents(&client.database(&again)).await == masked, "a second masked restore differs");
    client.database(&again).drop().await.unwrap();

    // The drill restores masked and compares with the masked documents.
    let (code, v, stderr) = job.json(&["drill", "--mask"]);
    assert_eq!(code, 0, "{v} {stderr}");
    assert!(v["collections"].as_array().unwrap().iter().all(|c| c["digest_matches"] == true));

    // A missing key file: exit 2, nothing written.
    std::fs::remove_file(job.dir.path().join("mask_key")).unwrap();
    let fresh = format!("{staging}3");
    let (code, _, stderr) = job.json(&["restore", "latest", "--mask", "--target-db", &fresh]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("masking.key_file"), "{stderr}");
    assert!(!client.list_database_names().await.unwrap().contains(&fresh));
    masked_db.drop().await.unwrap();
    job.drop_database().await;
}
