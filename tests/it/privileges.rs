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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_a_job_sends_is_in_the_table_and_its_role() {
    let Some(s) = services() else { return };
    let extra = [
        "indexes:\n  spec: indexes.yaml\n",
        "cleanup:\n  rules:\n",
        "    - {name: old, collection: orders, age_field: createdAt, older_than: 1d, action: delete}\n",
        "    - {name: keep, collection: carts, age_field: updatedAt, older_than: 1d, action: archive, archive_to: collection, archive_collection: carts_archive}\n",
        "drill:\n  queries:\n    - {name: some-orders, collection: orders, filter: {n: {$gte: 0}}}\n",
    ]
    .concat();
    let job = TestJob::new("privs", &s, &JobOptions { extra, ..Default::default() });
    std::fs::write(
        job.dir.path().join("indexes.yaml"),
        "collections:\n  orders:\n    - {keys: {n: 1}}\n",
    )
    .unwrap();
    let client = job.client().await;
    let db = client.database(&job.database);
    let old = bson::DateTime::from_millis(0);
    let docs: Vec<bson::Document> = (0..30)
        .map(|i| doc! {"n": i, "createdAt": if i % 2 == 0 { old } else { bson::DateTime::now() }})
        .collect();
    db.collection("orders").insert_many(docs).await.unwrap();
    db.collection("carts").insert_one(doc! {"updatedAt": old}).await.unwrap();
    db.collection::<bson::Document>("orders")
        .create_index(mongodb::IndexModel::builder().keys(doc! {"extra": 1}).build())
        .await
        .unwrap();
    let other = format!("{}_other", job.database);
    let runs: Vec<(Job, Vec<&str>)> = vec![
        (Job::Backup, vec!["backup", "--no-prune"]),
        (Job::Restore, vec!["restore", "latest", "--target-db", &other]),
        (Job::Restore, vec!["--yes", "restore", "latest", "--target-db", &other, "--drop"]),
        (Job::Drill, vec!["drill"]),
        (Job::Stats, vec!["stats"]),
        (Job::Indexes, vec!["indexes", "validate"]),
        (Job::Indexes, vec!["indexes", "apply", "--drop-extra"]),
        (Job::Cleanup, vec!["cleanup"]),
        // Reads what a backup reads, as the backup account.
        (Job::Backup, vec!["mask", "check"]),
    ];
    let mut problems = Vec::new();
    for (j, args) in &runs {
        let log = job.dir.path().join(format!("commands-{}.log", j.name()));
        let _ = std::fs::remove_file(&log);
        let r = job.run(args, &[("DARAA_OPS_COMMAND_LOG", log.to_str().unwrap())]);
        assert!(matches!(r.code, 0 | 6), "{args:?}: {}", r.stderr);
        let sent: BTreeSet<String> =
            std::fs::read_to_string(&log).unwrap_or_default().lines().map(str::to_owned).collect();
        assert!(!sent.is_empty(), "{args:?}: nothing recorded");
        for c in &sent {
            if NO_PRIVILEGE.contains(&c.as_str()) {
                continue;
            }
            if !COMMANDS.iter().any(|n| n.command == c) {
                problems.push(format!("{args:?} sends {c}, which src/mongo/privileges.rs lacks"));
            } else if !j.commands().contains(&c.as_str()) {
                problems.push(format!("{args:?} sends {c}, not listed for the {} job", j.name()));
            }
        }
    }
    client.database(&other).drop().await.unwrap();
    db.drop().await.unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
