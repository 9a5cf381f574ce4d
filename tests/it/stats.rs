//! stats and cron against the real services.

use bson::{Document, doc};

use crate::support::Edit as _;
use crate::support::{Job, JobOptions, services};

/// Parses Prometheus text with prometheus_client's parser (installed by services.sh) and
/// fails on a duplicate series; returns the number of series.
fn parse_prometheus(path: &std::path::Path) -> usize {
    let python = std::env::var("DARAA_TEST_PROM_PARSER")
        .expect("DARAA_TEST_PROM_PARSER (from scripts/services.sh env)");
    let script = [
        "import sys",
        "from prometheus_client.parser import text_string_to_metric_families",
        "seen = set()",
        "for fam in text_string_to_metric_families(open(sys.argv[1]).read()):",
        "    for s in fam.samples:",
        "        key = (s.name, tuple(sorted(s.labels.items())))",
        "        if key in seen:",
        "            sys.exit('duplicate series %r' % (key,))",
        "        seen.add(key)",
        "print(len(seen))",
    ]
    .join("\n");
    let out = std::process::Command::new(python).arg("-c").arg(script).arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "prometheus parser refused {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_match_the_server_and_prometheus_output_parses() {
    let Some(s) = services() else { return };
    let prefix = format!("{}:", crate::support::unique("stats"));
    let textfile = "metrics";
    let job = Job::new(
        "stats",
        &s,
        &JobOptions {
            redis: true,
            extra: format!("metrics:\n  textfile_dir: {textfile}\n"),
            ..Default::default()
        },
    );
    // cache_prefixes go in the redis section the Job wrote.
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(
        &job.config,
        text.edit(
            "  required: true\n",
            &format!("  required: true\n  cache_prefixes: ['{prefix}cart:', '{prefix}product:']\n"),
        ),
    )
    .unwrap();
    job.seed(0.01, false).await;
    let mut redis = job.redis().await;
    for i in 0..7 {
        let _: () = redis::cmd("SET")
            .arg(format!("{prefix}cart:{i}"))
            .arg("1")
            .query_async(&mut redis)
            .await
            .unwrap();
    }

    let (code, v, err) = job.json(&["stats"]);
    assert_eq!(code, 0, "{v} {err}");
    let client = job.client().await;
    let db = client.database(&job.database);
    let colls = v["mongodb"]["collections"].as_array().unwrap();
    assert!(colls.len() >= 10, "{v}");
    for c in colls {
        let name = c["name"].as_str().unwrap();
        let n = db.collection::<Document>(name).count_documents(doc! {}).await.unwrap();
        assert_eq!(c["documents"], n, "{name}");
    }
    let sizes: Vec<i64> = colls.iter().map(|c| c["size_bytes"].as_i64().unwrap()).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "largest first: {sizes:?}");
    let db_stats = db.run_command(doc! {"dbStats": 1}).await.unwrap();
    assert_eq!(
        v["mongodb"]["database"]["objects"].as_i64(),
        db_stats.get_i64("objects").ok().or(db_stats.get_i32("objects").ok().map(i64::from))
    );
    // A replica-set member reports its members; a standalone server (FerretDB) none.
    let hello = client.database("admin").run_command(doc! {"hello": 1}).await.unwrap();
    if hello.get_str("setName").is_ok() {
        assert!(!v["replica_set"]["members"].as_array().unwrap().is_empty(), "{v}");
    } else {
        assert!(v["replica_set"].is_null(), "{v}");
    }
    assert_eq!(v["redis"]["status"], "ok");
    assert!(v["redis"]["server"]["version"].as_str().unwrap().starts_with('7'), "{v}");
    let cache = v["redis"]["cache_keys"].as_array().unwrap();
    assert_eq!(cache[0]["keys"], 7);
    assert_eq!(cache[1]["keys"], 0);

    // Prometheus, to a file atomically: a standard parser reads it, no duplicate series.
    let prom = job.dir.path().join(textfile).join("daraa_ops_stats.prom");
    std::fs::create_dir_all(prom.parent().unwrap()).unwrap();
    let r = job.run(&["stats", "--format", "prometheus", "--out", prom.to_str().unwrap()], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(parse_prometheus(&prom) > 50);
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(
        text.contains(&format!("daraa_ops_redis_cache_keys{{prefix=\"{prefix}cart:\"}} 7")),
        "{text}"
    );
    assert!(text.contains("daraa_ops_mongodb_collection_documents{database=\""), "{text}");

    // After a backup, stats shows its age (from the job's textfile).
    assert_eq!(job.run(&["backup", "--no-upload"], &[]).code, 0);
    let (_, v, _) = job.json(&["stats"]);
    let backup = v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job"] == "backup")
        .expect("backup job age");
    assert!(backup["last_success_age_seconds"].as_f64().unwrap() < 120.0, "{v}");
    // Every job records its last run there, e.g. prune.
    assert_eq!(job.run(&["prune"], &[]).code, 0);
    let prune = std::fs::read_to_string(
        job.dir.path().join(textfile).join(format!("daraa_ops_prune.{}.prom", job.database)),
    )
    .unwrap();
    assert!(
        prune.contains("daraa_ops_prune_last_exit_code{database=")
            && prune.contains("daraa_ops_prune_last_success_timestamp_seconds"),
        "{prune}"
    );
    // node_exporter reads every file of the folder: together they still have no duplicates.
    let all = job.dir.path().join("all.prom");
    let mut joined = String::new();
    for f in std::fs::read_dir(job.dir.path().join(textfile)).unwrap() {
        joined += &std::fs::read_to_string(f.unwrap().path()).unwrap();
    }
    std::fs::write(&all, joined).unwrap();
    parse_prometheus(&all);

    // History: the second run reports growth since the first.
    let hist = job.dir.path().join("history.jsonl");
    let h = hist.to_str().unwrap();
    assert_eq!(job.json(&["stats", "--history", h]).0, 0);
    db.collection::<Document>("orders").insert_many((0..5).map(|i| doc! {"n": i})).await.unwrap();
    let (code, v, _) = job.json(&["stats", "--history", h]);
    assert_eq!(code, 0);
    assert_eq!(v["growth"]["objects"], 5, "{v}");
    job.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_reported_not_fatal_unless_required() {
    let Some(s) = services() else { return };
    let job = Job::new("statsnoredis", &s, &JobOptions::default());
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(
        &job.config,
        format!("{text}redis:\n  url: 'redis://127.0.0.1:1/0'\n  required: false\n"),
    )
    .unwrap();
    job.client()
        .await
        .database(&job.database)
        .collection::<Document>("a")
        .insert_one(doc! {"x": 1})
        .await
        .unwrap();
    let r = job.run(&["stats"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Redis: unreachable"), "{}", r.stdout);
    let (code, v, _) = job.json(&["stats"]);
    assert_eq!(code, 0);
    assert_eq!(v["redis"]["status"], "unreachable");
    std::fs::write(
        &job.config,
        format!("{text}redis:\n  url: 'redis://127.0.0.1:1/0'\n  required: true\n"),
    )
    .unwrap();
    assert_eq!(job.run(&["stats"], &[]).code, 3);
    job.drop_database().await;
}

#[test]
fn cron_print_install_twice_and_remove_restore_the_crontab() {
    let Some(s) = services() else { return };
    let job = Job::new(
        "cron",
        &s,
        &JobOptions {
            extra: "indexes: {spec: indexes.yaml}\nmetrics: {textfile_dir: metrics}\nschedule: {backup: '30 2 * * *', drill: '0 5 * * 6'}\ncleanup:\n  rules:\n    - {name: old-notifications, collection: notifications, age_field: createdAt, older_than: 90d, action: delete}\n    - {name: audit-log-archive, collection: auditlogs, age_field: createdAt, older_than: 365d, action: archive, archive_to: local}\n".into(),
            ..Default::default()
        },
    );
    let logs = job.dir.path().join("logs");
    let logs_s = logs.to_str().unwrap();
    let r = job.run(&["cron", "print", "--log-dir", logs_s], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{}", r.stdout);
    let config = std::fs::canonicalize(&job.config).unwrap();
    for l in &lines {
        let fields: Vec<&str> = l.split_whitespace().collect();
        assert!(croner::parser::CronParser::new().parse(&fields[..5].join(" ")).is_ok(), "{l}");
        assert!(fields[5].starts_with('/'), "absolute binary: {l}");
        assert!(l.contains(&format!("--config {}", config.display())), "{l}");
        assert!(l.contains(&format!(">>{logs_s}/")) && l.ends_with("2>&1"), "{l}");
    }
    assert!(lines[0].starts_with("30 2 * * * ") && lines[0].contains(" backup >>"));
    assert!(
        lines[1].starts_with("0 3 * * * ")
            && lines[1].contains("cleanup --rule old-notifications >>")
    );
    assert!(
        lines[2].starts_with("0 2 * * 0 ")
            && lines[2].contains("cleanup --rule audit-log-archive >>")
    );
    assert!(lines[3].starts_with("0 4 * * 0 ") && lines[3].contains("indexes validate"));
    assert!(lines[4].contains("stats --format prometheus --out "), "{}", lines[4]);
    assert!(lines[5].starts_with("0 5 * * 6 ") && lines[5].contains(" drill >>"));

    let crontab = job.dir.path().join("crontab");
    let original = "MAILTO=ops@example.com\n15 * * * * /usr/bin/true\n";
    std::fs::write(&crontab, original).unwrap();
    let ct = crontab.to_str().unwrap();
    let install = ["cron", "install", "--log-dir", logs_s, "--crontab-file", ct];
    assert_eq!(job.run(&install, &[]).code, 0);
    let once = std::fs::read_to_string(&crontab).unwrap();
    assert!(
        once.starts_with(original)
            && once.contains("# BEGIN daraa-ops")
            && once.ends_with("# END daraa-ops\n")
    );
    assert!(logs.is_dir(), "install creates the log folder");
    let (code, v, _) = job.json(&install);
    assert_eq!(code, 0);
    assert_eq!(v["changed"], false);
    assert_eq!(
        std::fs::read_to_string(&crontab).unwrap(),
        once,
        "install twice adds the block once"
    );
    assert_eq!(job.run(&["cron", "remove", "--crontab-file", ct], &[]).code, 0);
    assert_eq!(std::fs::read_to_string(&crontab).unwrap(), original);

    // /etc/cron.d style: a user column, and remove deletes the file.
    let crond = job.dir.path().join("cron.d-daraa-ops");
    let cd = crond.to_str().unwrap();
    assert_eq!(
        job.run(&["cron", "install", "--log-dir", logs_s, "--cron-d", cd, "--user", "backup"], &[])
            .code,
        0
    );
    let text = std::fs::read_to_string(&crond).unwrap();
    assert!(text.lines().any(|l| l.starts_with("30 2 * * * backup /")), "{text}");
    assert_eq!(job.run(&["cron", "remove", "--cron-d", cd], &[]).code, 0);
    assert!(!crond.exists());

    // An invalid expression: exit 2 naming the key.
    let text = std::fs::read_to_string(&job.config).unwrap();
    std::fs::write(&job.config, text.edit_all("backup: '30 2 * * *'", "backup: '30 2 * *'"))
        .unwrap();
    let r = job.run(&["cron", "print"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("schedule.backup"), "{}", r.stderr);
}
