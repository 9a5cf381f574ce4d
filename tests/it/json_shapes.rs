//! The JSON contract, as a snapshot: every command runs with `--output json` against the real
//! services and the *shape* of its object (keys and value types, first element of arrays) must
//! equal `tests/snapshots/json/<command>.json`. A change of the contract shows in review;
//! `DARAA_UPDATE_GENERATED=1` (scripts/gen-docs.sh) rewrites the snapshots and
//! docs/json-output.md, which documents every shape.

use std::collections::BTreeMap;

use bson::doc;
use serde_json::{Map, Value};

use crate::support::Edit as _;
use crate::support::{Job, JobOptions, repo_path, secret_file, services};

/// Keys and types; arrays by their first element; numbers are one type.
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::Object(o) => {
            let mut m = Map::new();
            for (k, v) in o {
                m.insert(k.clone(), shape(v));
            }
            Value::Object(m)
        }
    }
}

const INDEX_SPEC: &str = "collections:\n  orders:\n    - {keys: {storeId: 1, createdAt: -1}}\n";

#[tokio::test(flavor = "multi_thread")]
async fn json_shape_of_every_command() {
    let Some(s) = services() else { return };
    let extra = "indexes:\n  spec: indexes.yaml\n\
         cleanup:\n  rules:\n    - {name: old-orders, collection: orders, age_field: createdAt, older_than: 3650d, action: delete}\n\
         users:\n  - {name: shape_user, db: admin, roles: [], password_file: user_pw}\n\
         masking:\n  copy_as_is: [orders]\n"
        .to_owned();
    let job = Job::new("shapes", &s, &JobOptions { redis: true, s3: true, extra });
    let text = std::fs::read_to_string(&job.config).unwrap().edit(
        &format!("  database: {}\n", job.database),
        &format!(
            "  database: {}\n  admin: {{username: {}, password_file: mongo_pw}}\n",
            job.database, s.mongo_user
        ),
    );
    std::fs::write(&job.config, text.edit_all("shape_user", &format!("{}_u", job.database)))
        .unwrap();
    // Backups are encrypted (docs/encryption.md): the shapes include what encryption adds.
    let identity = age::x25519::Identity::generate();
    secret_file(
        job.dir.path(),
        "age.key",
        age::secrecy::ExposeSecret::expose_secret(&identity.to_string()),
    );
    let text = std::fs::read_to_string(&job.config).unwrap().edit(
        "  name_prefix: daraa\n",
        &format!(
            "  name_prefix: daraa\n  encryption: {{recipients: [{}], identity_files: [age.key]}}\n",
            identity.to_public()
        ),
    );
    std::fs::write(&job.config, text).unwrap();
    std::fs::write(job.dir.path().join("indexes.yaml"), INDEX_SPEC).unwrap();
    secret_file(job.dir.path(), "user_pw", "shape-user-password-1");
    let client = job.client().await;
    let db = client.database(&job.database);
    let docs: Vec<bson::Document> = (0..20)
        .map(|i| doc! {"storeId": i % 3, "createdAt": bson::DateTime::now(), "n": i})
        .collect();
    db.collection("orders").insert_many(docs).await.unwrap();

    let out = job.dir.path().join("man");
    let crontab = job.dir.path().join("crontab");
    let logs = job.dir.path().join("logs");
    std::fs::write(&crontab, "# mine\n").unwrap();
    let restore_db = format!("{}_r", job.database);
    // A mongodump --out folder of the orders, for `import`.
    let dump = job.dir.path().join("dump_20260101");
    let db_dir = dump.join(&job.database);
    std::fs::create_dir_all(&db_dir).unwrap();
    let mut bson_bytes = Vec::new();
    for i in 0..3 {
        bson_bytes.extend_from_slice(bson::rawdoc! {"_id": i, "n": i}.as_bytes());
    }
    std::fs::write(db_dir.join("orders.bson"), bson_bytes).unwrap();
    std::fs::write(
        db_dir.join("orders.metadata.json"),
        r#"{"options":{},"indexes":[{"v":2,"key":{"_id":1},"name":"_id_"}],"collectionName":"orders","type":"collection"}"#,
    )
    .unwrap();
    let commands: Vec<(&str, Vec<&str>)> = vec![
        ("config-check", vec!["config", "check", "--connect"]),
        ("config-show", vec!["config", "show"]),
        ("backup", vec!["backup"]),
        ("backup-dry-run", vec!["backup", "--dry-run"]),
        ("import", vec!["import", dump.to_str().unwrap()]),
        ("list", vec!["list"]),
        ("verify", vec!["verify", "latest"]),
        ("describe", vec!["describe", "latest"]),
        ("prune", vec!["prune", "--dry-run"]),
        ("rekey", vec!["rekey"]),
        ("restore-dry-run", vec!["restore", "latest", "--target-db", &restore_db, "--dry-run"]),
        ("restore", vec!["restore", "latest", "--target-db", &restore_db]),
        ("drill", vec!["drill"]),
        ("users-provision", vec!["users", "provision"]),
        ("users-check", vec!["users", "check"]),
        ("users-list", vec!["users", "list"]),
        ("indexes-apply", vec!["indexes", "apply"]),
        ("indexes-validate", vec!["indexes", "validate"]),
        ("indexes-export", vec!["indexes", "export"]),
        ("cleanup", vec!["cleanup"]),
        ("stats", vec!["stats"]),
        ("cron-print", vec!["cron", "print"]),
        (
            "cron-install",
            vec![
                "cron",
                "install",
                "--crontab-file",
                crontab.to_str().unwrap(),
                "--log-dir",
                logs.to_str().unwrap(),
            ],
        ),
        ("cron-remove", vec!["cron", "remove", "--crontab-file", crontab.to_str().unwrap()]),
        ("lock-status", vec!["lock", "status"]),
        // Without an oplog server: no chunks, so no windows or gaps (their fields:
        // docs/pitr.md, and tests/it/pitr.rs reads them).
        ("pitr-status", vec!["pitr", "status"]),
        ("mask-check", vec!["mask", "check"]),
        ("lock-release", vec!["lock", "release", "--force"]),
        ("completions", vec!["completions", "bash"]),
        ("man", vec!["man", "--out-dir", out.to_str().unwrap()]),
        // Last: deletes the backup the `backup` line made (ID: its id).
        ("delete", vec!["--yes", "delete", "--force", "ID"]),
    ];
    let mut backup_id = String::new();
    let mut shapes = BTreeMap::new();
    let mut stale = Vec::new();
    let update = crate::support::update_generated();
    for (name, args) in &commands {
        let args: Vec<String> = args
            .iter()
            .map(|a| if *a == "ID" { backup_id.clone() } else { (*a).to_owned() })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, v, stderr) = job.json(&args);
        if *name == "backup" {
            backup_id = v["id"].as_str().unwrap_or_default().to_owned();
        }
        assert_eq!(code, 0, "{name}: {v}\n{stderr}");
        assert_eq!(v["status"], "ok", "{name}");
        let shape = serde_json::to_string_pretty(&shape(&v)).unwrap() + "\n";
        let rel = format!("tests/snapshots/json/{name}.json");
        let path = repo_path(&rel);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &shape).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(shape.as_str()) {
            stale.push(format!("{rel}:\n{shape}"));
        }
        let mut shown = args.join(" ");
        if !backup_id.is_empty() {
            shown = shown.replace(&backup_id, "ID");
        }
        let shown = shown
            .replace(&restore_db, "OTHER_DB")
            .replace(out.to_str().unwrap(), "DIR")
            .replace(dump.to_str().unwrap(), "PATH")
            .replace(crontab.to_str().unwrap(), "FILE")
            .replace(logs.to_str().unwrap(), "LOGDIR");
        shapes.insert((*name).to_owned(), (shown, shape));
    }
    let doc = json_output_doc(&shapes);
    if update {
        std::fs::write(repo_path("docs/json-output.md"), &doc).unwrap();
    } else if std::fs::read_to_string(repo_path("docs/json-output.md")).ok() != Some(doc) {
        stale.push("docs/json-output.md".into());
    }
    client.database(&restore_db).drop().await.unwrap();
    db.drop().await.unwrap();
    assert!(
        stale.is_empty(),
        "the JSON contract changed; review, then run scripts/gen-docs.sh:\n{}",
        stale.join("\n")
    );
}

fn json_output_doc(shapes: &BTreeMap<String, (String, String)>) -> String {
    let mut doc = String::from(
        "# JSON output of every command\n\n\
         Generated by the `json_shapes` test (`scripts/gen-docs.sh`); a test fails when a command's\n\
         JSON shape differs from this file. With `--output json` each command prints exactly one\n\
         object on stdout when it ends. Every object has `command`, `status` (`ok`, `failed`,\n\
         `partial`, `drift`), `exit_code` and `schema_version`; a failed command adds\n\
         `error: {message, hint}` and only the fields known when it stopped. Below, the shape of a\n\
         successful run of each command: value types, arrays by their first element. Fields that\n\
         appear only in some runs (dry runs, failed uploads, S3 down) are documented on each\n\
         command's `Summary` type in `src/commands/`.\n",
    );
    for (name, (args, shape)) in shapes {
        doc += &format!("\n## {name}\n\n`daraa-ops --output json {args}`\n\n```json\n{shape}```\n");
    }
    doc
}
