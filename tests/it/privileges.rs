//! Least privilege kept honest: every command each job sends (recorded with
//! `DARAA_OPS_COMMAND_LOG` against the test server) must be in src/mongo/privileges.rs and
//! listed for that job, and the job's role in config/daraa-ops.example.yaml must grant every
//! action the job's commands need. A new query without its privilege turns this red.

use std::collections::BTreeSet;

use bson::doc;
use daraa_ops::mongo::privileges::{COMMANDS, Job, NO_PRIVILEGE, On};

use crate::support::{Job as TestJob, JobOptions, repo_path, services};

/// The (resource, action) pairs the example config's role for `job` grants on its database.
fn granted_by_example(job: Job) -> BTreeSet<(On, String)> {
    let path = repo_path("config/daraa-ops.example.yaml");
    let cfg =
        daraa_ops::config::parse_str(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
    let (user, _) = cfg
        .mongodb
        .jobs
        .get(job.name())
        .unwrap_or_else(|| panic!("mongodb.jobs.{} is not set", job.name()));
    let spec =
        cfg.users.iter().find(|u| u.name == user.username).expect("the job's user is provisioned");
    let db = job.database(&cfg.mongodb.database);
    let mut out = BTreeSet::new();
    for r in &spec.roles {
        let role = cfg.roles.iter().find(|x| x.role == r.role).expect("the role is defined");
        for p in &role.privileges {
            let on = if p.resource.cluster {
                On::Cluster
            } else if p.resource.db.as_deref() == Some("local")
                && p.resource.collection.as_deref() == Some("oplog.rs")
            {
                On::Oplog
            } else if p.resource.db.as_deref() == Some(db.as_str())
                && p.resource.collection.as_deref() == Some("")
            {
                On::Database
            } else {
                continue;
            };
            out.extend(p.actions.iter().map(|a| (on, a.clone())));
        }
    }
    out
}

#[test]
fn the_example_roles_grant_what_each_job_needs() {
    for job in Job::ALL {
        let granted = granted_by_example(job);
        let lacking: Vec<_> = job
            .needs()
            .into_iter()
            .filter(|(on, a)| !granted.contains(&(*on, (*a).to_owned())))
            .collect();
        assert!(lacking.is_empty(), "{}: the example role lacks {lacking:?}", job.name());
    }
}

/// Runs each command with its sent commands recorded, and checks every one against the
/// privilege table, the job's list and the resource of its grant.
fn check_runs(
    job: &TestJob,
    runs: &[(Job, &str, Vec<&str>)],
    problems: &mut Vec<String>,
    resources: &mut BTreeSet<(&'static str, String, String)>,
) {
    for (j, target, args) in runs {
        let log = job.dir.path().join(format!("commands-{}.log", j.name()));
        let _ = std::fs::remove_file(&log);
        let r = job.run(args, &[("DARAA_OPS_COMMAND_LOG", log.to_str().unwrap())]);
        assert!(matches!(r.code, 0 | 6), "{args:?}: {}", r.stderr);
        // name, database, collection, and the account the connection was opened for: the
        // job's own (its role is the one granted), never another's.
        let mut sent = BTreeSet::new();
        for l in std::fs::read_to_string(&log).unwrap_or_default().lines() {
            let f: Vec<&str> = l.split('\t').collect();
            let account = f.get(3).copied().unwrap_or_default();
            if account != j.name() {
                problems.push(format!("{args:?} sends {} as {account}, not as {}", f[0], j.name()));
            }
            let field = |i: usize| f.get(i).map_or_else(String::new, |s| (*s).to_owned());
            sent.insert((field(0), field(1), field(2)));
        }
        assert!(!sent.is_empty(), "{args:?}: nothing recorded");
        // The database the job's role grants on: the job's own (the drill's scratch one), or
        // the restore's target.
        let granted_db = j.database(target);
        for (c, on_db, collection) in &sent {
            if NO_PRIVILEGE.contains(&c.as_str()) {
                continue;
            }
            let Some(need) = COMMANDS.iter().find(|n| n.command == c) else {
                problems.push(format!("{args:?} sends {c}, which src/mongo/privileges.rs lacks"));
                continue;
            };
            if !j.commands().contains(&c.as_str()) {
                problems.push(format!("{args:?} sends {c}, not listed for the {} job", j.name()));
            }
            resources.insert((j.name(), c.clone(), on_db.clone()));
            // A grant on {db, collection: ""} covers the database's collections, never its
            // system collections; cluster commands go to admin.
            let fits = match need.on {
                On::Database => *on_db == granted_db && !collection.starts_with("system."),
                On::Cluster => on_db == "admin",
                On::Oplog => on_db == "local" && collection == "oplog.rs",
            };
            if !fits {
                problems.push(format!(
                    "{args:?} sends {c} on {on_db}.{collection}, outside the {} job's grant ({:?} of {granted_db})",
                    j.name(),
                    need.on
                ));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_a_job_sends_is_in_the_table_and_its_role() {
    let Some(s) = services() else { return };
    let extra = [
        "indexes:\n  spec: indexes.yaml\n",
        "cleanup:\n  rules:\n",
        "    - {name: old, collection: orders, age_field: createdAt, older_than: 1d, action: delete}\n",
        "    - {name: keep, collection: carts, age_field: updatedAt, older_than: 1d, action: archive, archive_to: collection, archive_collection: carts_archive}\n",
        "    - {name: tolocal, collection: tickets, age_field: at, older_than: 1d, action: archive, archive_to: local}\n",
        "    - {name: tos3, collection: events, age_field: at, older_than: 1d, action: archive, archive_to: s3}\n",
        "drill:\n  queries:\n    - {name: some-orders, collection: orders, filter: {n: {$gte: 0}}}\n",
        "masking:\n  key_file: mask_key\n  collections:\n    orders: {note: hash}\n  copy_as_is: [carts, tickets, events, carts_archive]\n",
    ]
    .concat();
    let job = TestJob::new("privs", &s, &JobOptions { extra, s3: true, ..Default::default() });
    crate::support::secret_file(job.dir.path(), "mask_key", "a-masking-key-of-32-bytes-000002");
    std::fs::write(
        job.dir.path().join("indexes.yaml"),
        "collections:\n  orders:\n    - {keys: {n: 1}}\n",
    )
    .unwrap();
    let client = job.client().await;
    let db = client.database(&job.database);
    let old = bson::DateTime::from_millis(0);
    let docs: Vec<bson::Document> = (0..30)
        .map(|i| doc! {"n": i, "note": format!("call +963 912 345 {i:03}"), "createdAt": if i % 2 == 0 { old } else { bson::DateTime::now() }})
        .collect();
    db.collection("orders").insert_many(docs).await.unwrap();
    db.collection("carts").insert_one(doc! {"updatedAt": old}).await.unwrap();
    db.collection("tickets").insert_many((0..5).map(|i| doc! {"i": i, "at": old})).await.unwrap();
    db.collection("events").insert_many((0..5).map(|i| doc! {"i": i, "at": old})).await.unwrap();
    db.collection::<bson::Document>("orders")
        .create_index(mongodb::IndexModel::builder().keys(doc! {"extra": 1}).build())
        .await
        .unwrap();
    let other = format!("{}_other", job.database);
    let masked = format!("{}_masked", job.database);
    let runs: Vec<(Job, &str, Vec<&str>)> = vec![
        (Job::Backup, &job.database, vec!["backup", "--no-prune"]),
        (Job::Restore, &other, vec!["restore", "latest", "--target-db", &other]),
        (Job::Restore, &other, vec!["--yes", "restore", "latest", "--target-db", &other, "--drop"]),
        (Job::Restore, &masked, vec!["restore", "latest", "--mask", "--target-db", &masked]),
        (Job::Drill, &job.database, vec!["drill"]),
        (Job::Stats, &job.database, vec!["stats"]),
        (Job::Indexes, &job.database, vec!["indexes", "validate"]),
        (Job::Indexes, &job.database, vec!["indexes", "apply", "--drop-extra"]),
        (Job::Indexes, &job.database, vec!["indexes", "apply", "--rebuild"]),
        (Job::Cleanup, &job.database, vec!["cleanup"]),
        // Reads what a backup reads, as the backup account.
        (Job::Backup, &job.database, vec!["mask", "check"]),
    ];
    let mut problems = Vec::new();
    let mut resources = BTreeSet::new();
    check_runs(&job, &runs, &mut problems, &mut resources);
    // The runs exercised what they are meant to: a rename on the target, inserts of archived
    // parts into S3 and local sinks' database reads, the masked restore's collections.
    for (job_name, command, on) in [
        ("restore", "renameCollection", other.as_str()),
        ("restore", "insert", masked.as_str()),
        ("cleanup", "delete", job.database.as_str()),
        ("indexes", "dropIndexes", job.database.as_str()),
    ] {
        assert!(
            resources.contains(&(job_name, command.to_owned(), on.to_owned())),
            "{job_name} never sent {command} on {on}: {resources:?}"
        );
    }
    for d in [&other, &masked] {
        client.database(d).drop().await.unwrap();
    }
    db.drop().await.unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point_in_time_jobs_send_only_what_their_roles_grant() {
    let Some(s) = crate::support::oplog_services().await else { return };
    let job = TestJob::new("privpitr", &s, &JobOptions { s3: true, ..Default::default() });
    let db = job.db().await;
    db.collection("orders").insert_many((0..10).map(|i| doc! {"n": i})).await.unwrap();
    let other = format!("{}_other", job.database);
    // A base backup with its oplog, one chunk after it, then restores and a drill to it.
    let mut problems = Vec::new();
    let mut resources = BTreeSet::new();
    let runs = vec![(Job::Backup, job.database.as_str(), vec!["backup", "--no-prune"])];
    check_runs(&job, &runs, &mut problems, &mut resources);
    db.collection("orders").insert_one(doc! {"n": 10}).await.unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let runs = vec![(Job::Backup, job.database.as_str(), vec!["pitr", "push", "--once"])];
    let mut pushed = BTreeSet::new();
    check_runs(&job, &runs, &mut problems, &mut pushed);
    assert!(
        pushed.contains(&("backup", "find:oplog".to_owned(), "local".to_owned())),
        "pitr push never read the oplog: {pushed:?}"
    );
    let (code, st, err) = job.json(&["pitr", "status"]);
    assert_eq!(code, 0, "{err}");
    let to = st["last_entry"]["ts"].as_str().unwrap().to_owned();
    let runs = vec![
        (Job::Restore, other.as_str(), vec!["restore", "--to-time", &to, "--target-db", &other]),
        (Job::Drill, job.database.as_str(), vec!["drill", "--to-time", &to]),
    ];
    check_runs(&job, &runs, &mut problems, &mut resources);
    // The pusher read the oplog (its grant on local.oplog.rs); the backup did too.
    let (d, scratch) = (job.database.clone(), Job::Drill.database(&job.database));
    for (job_name, command, on) in [
        ("backup", "find:oplog", "local"),
        ("backup", "find", d.as_str()),
        ("restore", "insert", other.as_str()),
        ("drill", "insert", scratch.as_str()),
    ] {
        assert!(
            resources.contains(&(job_name, command.to_owned(), on.to_owned())),
            "{job_name} never sent {command} on {on}: {resources:?}"
        );
    }
    job.client().await.database(&other).drop().await.unwrap();
    db.drop().await.unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
