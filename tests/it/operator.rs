//! What an operator sees (issue 21): notifications to webhooks (a local HTTP server records
//! them), `describe` and `delete`, verify and drill results kept beside the backup and shown by
//! `list`, retention keeping the newest drilled backup, and progress on a terminal only.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::sync::{Arc, Mutex};

use crate::support::{Job, JobOptions, secret_file, services};

/// A request the recorder received: path and JSON body.
type Requests = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

/// An HTTP server on loopback that records every POST and answers each path with the next
/// status of its script (then 200).
fn recorder(script: BTreeMap<String, Vec<u16>>) -> (u16, Requests) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests: Requests = Arc::default();
    let seen = Arc::clone(&requests);
    let script = Arc::new(Mutex::new(script));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
            let mut length = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            seen.lock()
                .unwrap()
                .push((path.clone(), serde_json::from_slice(&body).unwrap_or_default()));
            let status = script
                .lock()
                .unwrap()
                .get_mut(&path)
                .and_then(|s| (!s.is_empty()).then(|| s.remove(0)))
                .unwrap_or(200);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
            );
        }
    });
    (port, requests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_jobs_notify_webhooks_with_retries_and_keep_their_exit_code() {
    let Some(s) = services() else { return };
    let slack_path = "/hooks/slack/T0KEN-SLACK-77";
    let json_path = "/hooks/json/T0KEN-JSON-88";
    let (port, requests) = recorder(BTreeMap::from([(slack_path.to_owned(), vec![500])]));
    let job = Job::new("notify", &s, &JobOptions::default());
    secret_file(job.dir.path(), "slack_url", &format!("http://127.0.0.1:{port}{slack_path}"));
    secret_file(job.dir.path(), "json_url", &format!("http://127.0.0.1:{port}{json_path}"));
    let base = std::fs::read_to_string(&job.config).unwrap();
    let notify = |extra: &str| {
        std::fs::write(
            &job.config,
            format!(
                "{base}notify:\n  attempts: 3\n  timeout: 2s\n{extra}  webhooks:\n    - {{kind: slack, url_file: slack_url}}\n    - {{kind: json, url_file: json_url}}\n"
            ),
        )
        .unwrap();
    };
    notify("");
    job.seed(0.01, false).await;

    // A failed backup: one message per webhook, the slack one retried after its 500.
    let r = job.run(&["backup"], &[("DARAA_OPS_DATABASE", "t_no_such_database_x")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got = requests.lock().unwrap().clone();
    let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, [slack_path, slack_path, json_path], "{got:?}");
    let text = got[1].1["text"].as_str().unwrap();
    assert!(text.starts_with("daraa-ops backup of t_no_such_database_x on "), "{text}");
    assert!(text.contains("FAILED (failed, exit 1") && text.contains("no collections"), "{text}");
    let event = &got[2].1;
    assert_eq!(event["job"], "backup");
    assert_eq!(event["database"], "t_no_such_database_x");
    assert_eq!(event["outcome"], "failed");
    assert_eq!(event["exit_code"], 1);
    assert!(event["error"].as_str().unwrap().contains("no collections"), "{event}");
    assert!(event["hint"].as_str().unwrap().contains("mongodb.database"), "{event}");
    assert!(!r.stderr.contains("T0KEN"), "a webhook URL in the output: {}", r.stderr);

    // A good backup sends nothing; with on_success it does.
    let r = job.run(&["backup", "--no-prune"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(requests.lock().unwrap().len(), 3);
    notify("  on_success: true\n");
    let r = job.run(&["verify", "latest"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = requests.lock().unwrap().clone();
    assert_eq!(got.len(), 5, "{got:?}");
    assert_eq!(
        (got[4].1["job"].as_str(), got[4].1["outcome"].as_str()),
        (Some("verify"), Some("ok"))
    );

    // A webhook that never answers: retried, logged without its URL, the exit code stands.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    secret_file(job.dir.path(), "slack_url", &format!("http://127.0.0.1:{dead}{slack_path}"));
    notify("  on_success: true\n");
    let r = job.run(&["verify", "latest"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("notification to notify.webhooks[0] failed after 3 attempt(s)"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("T0KEN"), "{}", r.stderr);
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_delete_and_checks_beside_backups_and_retention_keeps_the_drilled_one() {
    let Some(s) = services() else { return };
    let job = Job::new("inspect", &s, &JobOptions { s3: true, ..JobOptions::default() });
    job.seed(0.01, false).await;
    let mut ids = Vec::new();
    for label in ["first", "second"] {
        let (code, v, stderr) = job.json(&["backup", "--no-prune", "--label", label]);
        assert_eq!(code, 0, "{stderr}");
        ids.push(v["id"].as_str().unwrap().to_owned());
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    let (first, second) = (ids[0].clone(), ids[1].clone());

    // verify and drill of the first: recorded beside it, shown by list and describe.
    let (code, _, stderr) = job.json(&["verify", &first]);
    assert_eq!(code, 0, "{stderr}");
    let (code, drill, stderr) = job.json(&["drill", &first]);
    assert_eq!(code, 0, "{stderr}");
    let checks: serde_json::Value = serde_json::from_slice(
        &std::fs::read(job.backup_dir.join(format!("{first}.checks.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(checks["verified"]["ok"], true, "{checks}");
    assert_eq!(checks["drilled"]["ok"], true);
    assert_eq!(checks["drilled"]["restore_seconds"], drill["restore_seconds"]);
    let (_, list, _) = job.json(&["list"]);
    let row = |id: &str| {
        list["backups"].as_array().unwrap().iter().find(|b| b["id"] == id).unwrap().clone()
    };
    assert_eq!(row(&first)["drilled"]["ok"], true, "{list}");
    assert!(row(&second).get("drilled").is_none(), "{list}");
    // (Test ids are longer than real ones: a wide table keeps each on one line.)
    let r = job.run(&["list", "--local"], &[("COLUMNS", "160")]);
    let line = r.stdout.lines().find(|l| l.contains(&first)).unwrap_or_else(|| panic!("{r:?}"));
    assert!(line.contains("drilled"), "{}", r.stdout);

    let (code, v, stderr) = job.json(&["describe", &first]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["manifest"]["label"], "first");
    assert_eq!(v["locations"], serde_json::json!(["local", "s3"]));
    assert_eq!(v["checks"]["drilled"]["ok"], true);
    let sidecar: serde_json::Value = serde_json::from_slice(
        &std::fs::read(job.backup_dir.join(format!("{first}.manifest.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(v["archive"]["sha256"], sidecar["archive"]["sha256"]);
    assert_eq!(v["manifest"]["collections"], sidecar["collections"]);
    let r = job.run(&["describe", &first], &[("COLUMNS", "100")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in ["label       first", "stored in   local, s3", "drilled     ok at", "orders"] {
        assert!(r.stdout.contains(want), "{want}: {}", r.stdout);
    }

    // delete: the newest is refused without --force; without a terminal, --yes is needed.
    let r = job.run(&["--yes", "delete", &second], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("newest complete backup"), "{}", r.stderr);
    let r = job.run(&["delete", &first], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(job.backup_dir.join(format!("{first}.manifest.json")).exists());

    // Two more backups; keep_last 1: the newest and the drilled first one stay.
    for _ in 0..2 {
        let (code, v, stderr) = job.json(&["backup", "--no-prune"]);
        assert_eq!(code, 0, "{stderr}");
        ids.push(v["id"].as_str().unwrap().to_owned());
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    let keep_one =
        [("DARAA_OPS_RETENTION_KEEP_LAST", "1"), ("DARAA_OPS_RETENTION_KEEP_DAYS", "none")];
    let r = job.run(&["prune"], &keep_one);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_, list, _) = job.json(&["list"]);
    let listed: Vec<(String, Vec<String>)> = list["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let places = b["locations"].as_array().unwrap().iter();
            (b["id"].as_str().unwrap().to_owned(), places.map(ToString::to_string).collect())
        })
        .collect();
    let both = vec!["\"local\"".to_owned(), "\"s3\"".to_owned()];
    assert_eq!(listed, [(ids[3].clone(), both.clone()), (first.clone(), both)], "{list}");

    // delete with --yes: gone from both places, its checks too.
    let (code, v, stderr) = job.json(&["--yes", "delete", &first]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["deleted"].as_array().unwrap().len(), 2, "{v}");
    assert!(!job.local_files().iter().any(|f| f.starts_with(&first)), "{:?}", job.local_files());
    let objects = job.s3().await.list().await.unwrap();
    assert!(!objects.iter().any(|o| o.name.starts_with(&first)), "{objects:?}");
    job.drop_database().await;
}

/// Runs the binary under a pseudo-terminal (`script`), returning what the terminal showed.
fn on_terminal(job: &Job, args: &str) -> String {
    let bin = assert_cmd::cargo::cargo_bin("daraa-ops");
    let cmd = format!("'{}' --config '{}' {args}", bin.display(), job.config.display());
    let o = std::process::Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .env("COLUMNS", "120")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    assert!(o.status.success(), "{args}: {}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_shows_on_a_terminal_and_never_in_a_pipe_or_json() {
    let Some(s) = services() else { return };
    let job = Job::new("progress", &s, &JobOptions::default());
    job.seed(0.02, true).await;
    let (code, _, stderr) = job.json(&["backup"]);
    assert_eq!(code, 0, "{stderr}");
    let target = format!("{}_p", job.database);

    // On a terminal: per-collection bars for restore (documents) and a bytes bar for verify.
    let shown = on_terminal(&job, &format!("restore latest --target-db {target}"));
    assert!(shown.contains(" docs "), "no restore progress on a terminal: {shown}");
    // The bar's rate is binary (`KiB/s`, or ` B/s` at the start); verify's own line says
    // `MB/s` after a number, so neither matches it.
    let bar = |s: &str| s.contains(" B/s") || s.contains("iB/s");
    let shown = on_terminal(&job, "verify latest");
    assert!(bar(&shown), "no verify progress on a terminal: {shown}");
    assert!(!bar(&on_terminal(&job, "--no-progress verify latest")), "--no-progress drew a bar");

    // Through a pipe, and with --output json: no bar.
    job.client().await.database(&target).drop().await.unwrap();
    let r = job.run(&["restore", "latest", "--target-db", &target], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains(" docs ") && !r.stderr.contains('\u{1b}'), "{}", r.stderr);
    let shown = on_terminal(&job, "--output json verify latest");
    let json_start = shown.find('{').unwrap();
    let v: serde_json::Value = serde_json::from_str(shown[json_start..].trim()).unwrap();
    assert_eq!(v["status"], "ok");
    assert!(!bar(&shown), "progress with --output json: {shown}");
    job.client().await.database(&target).drop().await.unwrap();
    job.drop_database().await;
}
