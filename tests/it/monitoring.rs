//! The monitoring pipeline end to end (docs/monitoring.md): daraa-ops jobs write their metric
//! files, Debian's prometheus-node-exporter serves them with its textfile collector, Debian's
//! Prometheus scrapes it on loopback with docs/monitoring/alerts.yml loaded, and the series
//! arrive with the values the jobs reported. promtool checks and unit-tests the alert rules
//! and runs every query of the Grafana dashboard against that Prometheus.

// Prometheus carries every value as a float; the ones compared exactly are integers (exit
// codes, counts, bytes), exact in an f64.
#![allow(clippy::float_cmp)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Job, JobOptions, repo_path, services};

/// A monitoring binary from `scripts/services.sh` (DARAA_TEST_<VAR>); missing under CI=true
/// fails the test.
fn tool(var: &str) -> Option<PathBuf> {
    let found = std::env::var_os(var).map(PathBuf::from).filter(|p| p.is_file());
    if found.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!ci, "{var} not set or missing under CI=true: run scripts/services.sh up");
        crate::support::skipped(var, &format!("no {var} (scripts/services.sh up installs it)"));
    }
    found
}

/// Kills the process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(bin: &Path, args: &[String], log: &Path) -> Running {
    let log = std::fs::File::create(log).unwrap();
    Running(
        Command::new(bin)
            .args(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display())),
    )
}

/// Instant query: (labels, value) of every series. A query Prometheus did not answer with
/// `status: success` is an error, never an empty result (which would pass "nothing firing").
async fn query(
    http: &reqwest::Client,
    base: &str,
    expr: &str,
) -> Result<Vec<(serde_json::Value, f64)>, String> {
    let encoded: String = expr
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let r = http
        .get(format!("{base}/api/v1/query?query={encoded}"))
        .send()
        .await
        .map_err(|e| format!("{expr}: {e}"))?;
    let v = r.json::<serde_json::Value>().await.map_err(|e| format!("{expr}: not JSON: {e}"))?;
    if v["status"] != "success" {
        return Err(format!("{expr}: {v}"));
    }
    let result = v["data"]["result"].as_array().ok_or_else(|| format!("{expr}: no result: {v}"))?;
    Ok(result
        .iter()
        .map(|s| {
            let value = s["value"][1].as_str().unwrap_or("NaN").parse().unwrap_or(f64::NAN);
            (s["metric"].clone(), value)
        })
        .collect())
}

/// Waits (up to 40 s) until `expr` has a series for which `ok` holds; returns its value.
async fn wait_for(http: &reqwest::Client, base: &str, expr: &str, ok: impl Fn(f64) -> bool) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let got = query(http, base, expr).await;
        if let Ok(series) = &got
            && let Some((_, v)) = series.iter().find(|(_, v)| ok(*v))
        {
            return *v;
        }
        assert!(Instant::now() < deadline, "{expr}: never as expected, last {got:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_metrics_reach_prometheus_through_node_exporter_and_the_alert_rules_hold() {
    let Some(s) = services() else { return };
    let (Some(prometheus), Some(exporter), Some(promtool)) = (
        tool("DARAA_TEST_PROMETHEUS"),
        tool("DARAA_TEST_NODE_EXPORTER"),
        tool("DARAA_TEST_PROMTOOL"),
    ) else {
        return;
    };
    let job = Job::new("mon", &s, &JobOptions::default());
    let textfiles = job.dir.path().join("textfile");
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(
        &job.config,
        format!("{text}metrics:\n  textfile_dir: '{}'\n", textfiles.display()),
    )
    .unwrap();
    job.seed(0.01, false).await;

    // Jobs: a backup, a drill, a failed verify, stats.
    let (code, backup, stderr) = job.json(&["backup"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, drill, stderr) = job.json(&["drill"]);
    assert_eq!(code, 0, "{stderr}");
    let r = job.run(&["verify", "no-such-backup"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let stats_file = textfiles.join("daraa_ops_stats.prom");
    let r =
        job.run(&["stats", "--format", "prometheus", "--out", stats_file.to_str().unwrap()], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // node_exporter (textfile collector only) and Prometheus scraping it every second.
    let (p_exporter, p_prometheus) = (free_port(), free_port());
    let logs = job.dir.path();
    let _exporter = start(
        &exporter,
        &[
            format!("--web.listen-address=127.0.0.1:{p_exporter}"),
            "--collector.disable-defaults".into(),
            "--collector.textfile".into(),
            format!("--collector.textfile.directory={}", textfiles.display()),
        ],
        &logs.join("node_exporter.log"),
    );
    let prom_cfg = logs.join("prometheus.yml");
    std::fs::write(
        &prom_cfg,
        format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
             rule_files: ['{}']\n\
             scrape_configs:\n  - job_name: node\n    static_configs: [{{targets: ['127.0.0.1:{p_exporter}']}}]\n",
            repo_path("docs/monitoring/alerts.yml").display()
        ),
    )
    .unwrap();
    let _prometheus = start(
        &prometheus,
        &[
            format!("--config.file={}", prom_cfg.display()),
            format!("--storage.tsdb.path={}", logs.join("tsdb").display()),
            format!("--web.listen-address=127.0.0.1:{p_prometheus}"),
        ],
        &logs.join("prometheus.log"),
    );
    let base = format!("http://127.0.0.1:{p_prometheus}");
    let http = reqwest::Client::new();
    let db = format!("{{database=\"{}\"}}", job.database);

    // The series arrive with the values the jobs reported.
    let m = |name: &str| format!("daraa_ops_{name}{db}");
    assert_eq!(wait_for(&http, &base, &m("backup_last_exit_code"), |_| true).await, 0.0);
    let docs = backup["totals"]["documents"].as_f64().unwrap();
    assert!(docs > 0.0);
    assert_eq!(wait_for(&http, &base, &m("backup_last_documents"), |_| true).await, docs);
    let size = backup["archive"]["size"].as_f64().unwrap();
    assert_eq!(wait_for(&http, &base, &m("backup_last_bytes"), |_| true).await, size);
    assert_eq!(wait_for(&http, &base, &m("drill_last_exit_code"), |_| true).await, 0.0);
    let rto = wait_for(&http, &base, &m("drill_last_restore_seconds"), |_| true).await;
    let reported = drill["restore_seconds"].as_f64().unwrap();
    assert!(rto > 0.0 && (rto - reported).abs() < 1e-6, "RTO {rto} vs drill's {reported}");
    assert_eq!(wait_for(&http, &base, &m("drill_last_documents"), |_| true).await, docs);
    assert_eq!(wait_for(&http, &base, &m("verify_last_exit_code"), |_| true).await, 2.0);
    assert_eq!(wait_for(&http, &base, "daraa_ops_mongodb_up", |_| true).await, 1.0);
    let started = wait_for(&http, &base, &m("backup_last_start_timestamp_seconds"), |_| true).await;
    let ended = wait_for(&http, &base, &m("backup_last_run_timestamp_seconds"), |_| true).await;
    assert!(started > 1.7e9 && ended >= started, "{started} {ended}");

    // The rules loaded and evaluate: all 13, none in error; the failed verify fires nothing
    // (no rule watches verify), a healthy backup fires no backup alert.
    let rules: serde_json::Value =
        http.get(format!("{base}/api/v1/rules")).send().await.unwrap().json().await.unwrap();
    let loaded: Vec<&serde_json::Value> = rules["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    assert_eq!(loaded.len(), 13, "{rules}");
    assert!(loaded.iter().all(|r| r["health"] != "err"), "{rules}");
    let firing =
        query(&http, &base, "ALERTS{alertname=~\"DaraaBackup.*\",alertstate=\"firing\"}").await;
    assert_eq!(firing, Ok(Vec::new()));

    // pitr push on a server with an oplog (a FerretDB of this test's own, so that the shared
    // oplog server's oplog stays small): its series reach Prometheus with the values `pitr
    // status` reports, and neither pitr alert fires.
    let (_server, with_oplog) = crate::support::PrivateFerretDb::start().await.unwrap();
    let pitr = Job::new("monpitr", &with_oplog, &JobOptions::default());
    let text = std::fs::read_to_string(&pitr.config).unwrap();
    std::fs::write(
        &pitr.config,
        format!("{text}metrics:\n  textfile_dir: '{}'\n", textfiles.display()),
    )
    .unwrap();
    let orders = pitr.db().await.collection::<bson::Document>("orders");
    orders.insert_one(bson::doc! {"_id": 1, "total": 10}).await.unwrap();
    let (code, _, stderr) = pitr.json(&["backup", "--no-upload"]);
    assert_eq!(code, 0, "{stderr}");
    for i in 2..12 {
        orders.insert_one(bson::doc! {"_id": i, "total": 10 * i}).await.unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (code, pushed, stderr) = pitr.json(&["pitr", "push", "--once"]);
    assert_eq!(code, 0, "{stderr}\n{pushed}");
    let (code, st, stderr) = pitr.json(&["pitr", "status"]);
    assert_eq!(code, 0, "{stderr}\n{st}");
    let pdb = format!("database=\"{}\"", pitr.database);
    let last: f64 =
        st["last_entry"]["ts"].as_str().unwrap().split(',').next().unwrap().parse().unwrap();
    let series = |name: &str| format!("daraa_ops_pitr_{name}{{{pdb}}}");
    assert_eq!(
        wait_for(&http, &base, &series("last_entry_timestamp_seconds"), |_| true).await,
        last
    );
    let local = &st["storages"][0];
    let entries = local["entries"].as_f64().unwrap();
    assert!(entries >= 10.0, "{st}");
    let in_local = format!(
        "daraa_ops_pitr_entries{{{pdb},storage=\"{}\"}}",
        local["storage"].as_str().unwrap()
    );
    assert_eq!(wait_for(&http, &base, &in_local, |_| true).await, entries);
    let restorable =
        wait_for(&http, &base, &series("restorable_until_timestamp_seconds"), |_| true).await;
    assert_eq!(restorable, last, "{st}");
    let lag = wait_for(&http, &base, &series("lag_seconds"), |_| true).await;
    assert!((0.0..300.0).contains(&lag), "lag {lag}");
    let gaps = format!(
        "daraa_ops_pitr_open_gaps{{{pdb},storage=\"{}\"}}",
        local["storage"].as_str().unwrap()
    );
    assert_eq!(wait_for(&http, &base, &gaps, |_| true).await, 0.0);
    // After two evaluations with the series present, neither pitr rule is even pending.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let alerts = query(&http, &base, "ALERTS{alertname=~\"DaraaPitr.*\"}").await;
    assert_eq!(alerts, Ok(Vec::new()));

    // A required Redis that does not answer: exit 3, and the file says redis_up 0.
    let no_redis = format!("redis://127.0.0.1:{}/0", free_port());
    let r = job.run(
        &["stats", "--format", "prometheus", "--out", stats_file.to_str().unwrap()],
        &[("DARAA_OPS_REDIS_URL", &no_redis), ("DARAA_OPS_REDIS_REQUIRED", "true")],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    let written = std::fs::read_to_string(&stats_file).unwrap();
    assert!(written.contains("daraa_ops_redis_up 0\n"), "{written}");
    assert!(written.contains("daraa_ops_mongodb_up 1\n"), "{written}");
    assert_eq!(wait_for(&http, &base, "daraa_ops_redis_up", |v| v == 0.0).await, 0.0);

    // MongoDB unreachable: stats still writes its file, saying so.
    let dead = format!("mongodb://127.0.0.1:{}/", free_port());
    let r = job.run(
        &["stats", "--format", "prometheus", "--out", stats_file.to_str().unwrap()],
        &[("DARAA_OPS_MONGODB_URI", &dead)],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(wait_for(&http, &base, "daraa_ops_mongodb_up", |v| v == 0.0).await, 0.0);

    // promtool: the rules check, their unit tests pass, every dashboard query runs.
    let monitoring = repo_path("docs/monitoring");
    for args in [vec!["check", "rules", "alerts.yml"], vec!["test", "rules", "tests.yml"]] {
        let o = Command::new(&promtool).args(&args).current_dir(&monitoring).output().unwrap();
        assert!(
            o.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let dashboard: serde_json::Value =
        serde_json::from_slice(&std::fs::read(monitoring.join("grafana-dashboard.json")).unwrap())
            .unwrap();
    let exprs: Vec<&str> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap())
        .map(|t| t["expr"].as_str().unwrap())
        .collect();
    assert!(exprs.len() >= 10);
    for expr in exprs {
        let o = Command::new(&promtool).args(["query", "instant", &base, expr]).output().unwrap();
        assert!(o.status.success(), "{expr}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(query(&http, &base, expr).await.is_ok(), "{expr}");
    }
    job.drop_database().await;
}
