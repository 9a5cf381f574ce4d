//! CLI golden tests: help texts, usage errors and the JSON shape, with no services.

use crate::support::{repo_path, run};

/// Every command path, walked from the clap definition, for `--help` snapshots.
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, path: &[String], out: &mut Vec<Vec<String>>) {
        out.push(path.to_vec());
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut p = path.to_vec();
            p.push(sub.get_name().to_owned());
            walk(sub, &p, out);
        }
    }
    let mut out = Vec::new();
    walk(&<daraa_ops::cli::Cli as clap::CommandFactory>::command(), &[], &mut out);
    out
}

#[test]
fn help_of_every_command_matches_snapshot() {
    let update = crate::support::update_generated();
    let mut stale = Vec::new();
    for path in command_paths() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let r = run(&args, &[]);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(r.stdout.contains("Usage: daraa-ops"), "{}", r.stdout);
        let name = if path.is_empty() { "daraa-ops".to_owned() } else { path.join("-") };
        let file = repo_path(&format!("tests/snapshots/help/{name}.txt"));
        if update {
            std::fs::write(&file, &r.stdout).unwrap();
        } else if std::fs::read_to_string(&file).ok().as_deref() != Some(r.stdout.as_str()) {
            stale.push(file.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "help snapshots differ; run scripts/gen-docs.sh and review: {stale:?}"
    );
}

#[test]
fn top_level_help_lists_exit_codes() {
    let r = run(&["--help"], &[]);
    for line in
        ["2    usage or configuration error", "4    another run holds the lock", "130  interrupted"]
    {
        assert!(r.stdout.contains(line), "{line}");
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["frobnicate"][..],
        &["completions"],
        &["completions", "tcsh"],
        &["--output", "xml", "config", "check"],
        &["-q", "-v", "config", "check"],
        &[],
    ] {
        let r = run(args, &[]);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty() || args.is_empty(), "{args:?} printed on stdout: {}", r.stdout);
    }
}

#[test]
fn usage_error_with_json_output_prints_one_object() {
    let r = run(&["--output", "json", "frobnicate"], &[]);
    assert_eq!(r.code, 2);
    let v = r.json();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["exit_code"], 2);
    assert!(v["error"]["message"].as_str().unwrap().contains("frobnicate"));
}

#[test]
fn config_check_json_shape_ok_and_failed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, "mongodb: {uri: 'mongodb://127.0.0.1:1/'}\n").unwrap();
    let r = run(&["--output", "json", "--config", cfg.to_str().unwrap(), "config", "check"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["command"], "config check");
    assert_eq!(v["status"], "ok");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["config_file"], cfg.to_str().unwrap());
    assert_eq!(v["secret_files_read"], 0);

    std::fs::write(&cfg, "mongodb: {uri: 'mongodb://127.0.0.1:1/'}\nbackup: {dri: x}\n").unwrap();
    let r = run(&["--output", "json", "--config", cfg.to_str().unwrap(), "config", "check"], &[]);
    assert_eq!(r.code, 2);
    let v = r.json();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["exit_code"], 2);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("c.yaml:2:") && msg.contains("dri"), "{msg}");
}

/// The example config, next to secret files where its relative paths point, checks clean.
#[test]
fn example_config_checks_ok() {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::create_dir_all(dir.path().join("secrets")).unwrap();
    for f in ["daraa-ops.example.yaml", "indexes.yaml"] {
        std::fs::copy(repo_path(&format!("config/{f}")), config_dir.join(f)).unwrap();
    }
    for name in [
        "daraa_backup_password",
        "daraa_restore_password",
        "daraa_drill_password",
        "daraa_cleanup_password",
        "daraa_stats_password",
        "daraa_indexes_password",
        "mongo_root_password",
        "redis_password",
        "daraa_app_password",
        "daraa_readonly_password",
        "masking_key",
        "notify_webhook_url",
    ] {
        crate::support::secret_file(
            &dir.path().join("secrets"),
            &format!("{name}.txt"),
            &format!("pw-{name}-x"),
        );
    }
    let cfg = config_dir.join("daraa-ops.example.yaml");
    let r = run(&["--config", cfg.to_str().unwrap(), "config", "check"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("config ok"), "{}", r.stdout);
    assert!(!r.stderr.contains("WARN"), "0600 secrets must not warn: {}", r.stderr);

    // A secret file readable by others: warned about, still valid.
    let loose = dir.path().join("secrets/redis_password.txt");
    std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let r = run(&["--config", cfg.to_str().unwrap(), "config", "check"], &[]);
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.contains("readable by group or others") && r.stderr.contains("chmod 600"),
        "{}",
        r.stderr
    );

    // A missing secret file: exit 2 naming the path.
    std::fs::remove_file(dir.path().join("secrets/daraa_app_password.txt")).unwrap();
    let r = run(&["--config", cfg.to_str().unwrap(), "config", "check"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("daraa_app_password.txt"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{}", r.stderr);
}

#[test]
fn config_errors_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    let cases: &[(&str, &str)] = &[
        ("mongodb:\n  uri: mongodb://a/\n  databse: x\n", "c.yaml:3:3: unknown field `databse`"),
        ("mongodb: [\n", "c.yaml:"),
        ("mongodb: {uri: 'http://x'}\n", "invalid mongodb.uri"),
        ("mongodb: {uri: 'mongodb://a/'}\ns3: {bucket: b, sse: rot13}\n", "invalid s3.sse"),
    ];
    for (yaml, expect) in cases {
        std::fs::write(&cfg, yaml).unwrap();
        let r = run(&["--config", cfg.to_str().unwrap(), "config", "check"], &[]);
        assert_eq!(r.code, 2, "{yaml}");
        let first = r.stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("error: ") && first.contains(expect), "{yaml}: {}", r.stderr);
    }
    let r = run(&["--config", "/nonexistent/daraa.yaml", "config", "show"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/nonexistent/daraa.yaml does not exist"), "{}", r.stderr);
    let r = run(
        &["config", "check"],
        &[("DARAA_OPS_RETENTION_KEEP_DAYS", "x"), ("DARAA_OPS_MONGODB_URI", "mongodb://h/")],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("DARAA_OPS_RETENTION_KEEP_DAYS"), "{}", r.stderr);
}

#[test]
fn config_show_redacts_uri_passwords_in_text_and_json() {
    let uri = "mongodb://daraa_backup:Zq9-uri-secret@db1:27017,db2/?replicaSet=rs0";
    crate::support::register_secret("Zq9-uri-secret");
    let env = [
        ("DARAA_OPS_MONGODB_URI", uri),
        ("DARAA_OPS_REDIS_URL", "redis://:Zq9-redis-secret@r:6379/0"),
    ];
    crate::support::register_secret("Zq9-redis-secret");
    let r = run(&["config", "show"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("mongodb://daraa_backup:***@db1:27017,db2/?replicaSet=rs0"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("redis://:***@r:6379/0"), "{}", r.stdout);
    let r = run(&["--output", "json", "config", "show"], &env);
    let v = r.json();
    assert_eq!(
        v["config"]["mongodb"]["uri"],
        "mongodb://daraa_backup:***@db1:27017,db2/?replicaSet=rs0"
    );
    assert_eq!(v["config"]["retention"]["keep_days"], 30);
}

#[test]
fn completions_print_scripts() {
    let r = run(&["completions", "bash"], &[]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("_daraa__ops()") && r.stdout.contains("config"), "bash script");
    let r = run(&["--output", "json", "completions", "fish"], &[]);
    let v = r.json();
    assert!(v["script"].as_str().unwrap().contains("complete -c daraa-ops"));
}

#[test]
fn man_writes_one_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man");
    let r = run(&["man", "--out-dir", out.to_str().unwrap()], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for page in ["daraa-ops.1", "daraa-ops-config.1", "daraa-ops-config-check.1", "daraa-ops-man.1"]
    {
        let text = std::fs::read_to_string(out.join(page)).unwrap();
        assert!(text.starts_with(".ie \\n(.g .ds Aq") || text.contains(".TH"), "{page}");
    }
}

/// Every command's `--help` lists the global options under their own heading, apart from its
/// own.
#[test]
fn global_options_have_their_own_heading_in_every_help() {
    for args in
        [vec!["backup"], vec!["restore"], vec!["verify"], vec!["mask", "check"], vec!["import"]]
    {
        let mut full = args.clone();
        full.push("--help");
        let r = run(&full, &[]);
        assert_eq!(r.code, 0);
        let (own, global) =
            r.stdout.split_once("Global options:").expect("a Global options heading");
        assert!(!own.contains("--config") && !own.contains("--quiet"), "{args:?}: {own}");
        assert!(global.contains("--config") && global.contains("--yes"), "{args:?}");
    }
}
