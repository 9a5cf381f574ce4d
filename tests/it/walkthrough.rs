//! docs/operations.md's "First night" walkthrough, run as written: every `daraa-ops` line of
//! its shell blocks, in order, against the test services (`DARAA_OPS_CONFIG` set to a job's
//! config, `$WORK` its folder); each must exit 0. A step that stops working, or a command
//! renamed in the code but not in the guide, fails here.

use crate::support::{Job, JobOptions, repo_path, run, services};

/// The `daraa-ops …` lines of the shell blocks of one `## ` section of a Markdown file.
fn commands(markdown: &str, section: &str) -> Vec<String> {
    let start = markdown.find(&format!("\n## {section}\n")).expect("section");
    let rest = &markdown[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    let mut out = Vec::new();
    let mut in_block = false;
    for line in rest[..end].lines() {
        let line = line.trim();
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if in_block && let Some(cmd) = line.strip_prefix("daraa-ops ") {
            out.push(cmd.to_owned());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_night_walkthrough_runs_as_written() {
    let Some(s) = services() else { return };
    let guide = std::fs::read_to_string(repo_path("docs/operations.md")).unwrap();
    let steps = commands(&guide, "First night");
    assert!(steps.len() >= 12, "{steps:?}");
    for want in ["config check --connect", "backup", "drill latest", "cron install"] {
        assert!(steps.iter().any(|c| c.starts_with(want)), "{want} missing from {steps:?}");
    }
    // The quickstart's config, written by the quickstart's own script (its database, backup
    // folder and S3 prefix this test's own).
    let job = Job::new("night", &s, &JobOptions::default());
    let config = job.dir.path().join("quickstart.yaml");
    let made = std::process::Command::new(repo_path("scripts/quickstart-config.sh"))
        .arg(&config)
        .arg(&job.database)
        .arg(&job.backup_dir)
        .arg(&job.s3_prefix)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    job.seed(0.01, false).await;
    let work = job.dir.path().to_str().unwrap().to_owned();
    // (The stats step's folder does not exist: `stats --out` makes it.)
    let config = config.to_str().unwrap().to_owned();
    for step in &steps {
        let line = step.replace("$WORK", &work);
        let args: Vec<&str> = line.split_whitespace().collect();
        let r = run(&args, &[("DARAA_OPS_CONFIG", &config)]);
        assert_eq!(r.code, 0, "daraa-ops {step}:\n{}\n{}", r.stdout, r.stderr);
    }
    // What the steps leave: a drilled backup, a crontab, a stats file.
    let r = run(&["--output", "json", "list"], &[("DARAA_OPS_CONFIG", &config)]);
    assert_eq!(r.json()["backups"][0]["drilled"]["ok"], true, "{}", r.stdout);
    let crontab = std::fs::read_to_string(job.dir.path().join("crontab")).unwrap();
    assert!(crontab.contains("daraa-ops") && crontab.contains("backup"), "{crontab}");
    let stats = std::fs::read_to_string(job.dir.path().join("textfile/daraa_ops_stats.prom"));
    assert!(stats.unwrap().contains("daraa_ops_mongodb_up 1"));
    job.drop_database().await;
}
