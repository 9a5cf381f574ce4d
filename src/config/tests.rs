//! Unit tests of config parsing, layering and validation (no services).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn example_config_parses_and_validates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/daraa-ops.example.yaml");
    let loaded = load(Some(&path), &env(&[])).unwrap();
    let c = &loaded.config;
    assert_eq!(c.mongodb.database, "daraa");
    assert_eq!(c.users.len(), 8);
    // Every job runs as its own user, each provisioned with its job's role.
    let j = &c.mongodb.jobs;
    for a in [&j.backup, &j.restore, &j.drill, &j.cleanup, &j.stats, &j.indexes] {
        let a = a.as_ref().unwrap();
        let u = c.users.iter().find(|u| u.name == a.username).unwrap();
        assert!(c.roles.iter().any(|r| u.roles.iter().any(|x| x.role == r.role)), "{}", u.name);
    }
    assert_eq!(c.cleanup.rules.len(), 4);
    assert_eq!(c.retention.keep_last, 3);
    assert_eq!(c.mongodb.read_preference, Some(ReadPreference::SecondaryPreferred));
    // relative paths resolve against the file's folder
    assert!(c.indexes.spec.as_ref().unwrap().starts_with(path.parent().unwrap()));
}

/// The example documents every key: each field of every section (as `config show` prints the
/// defaults, with the optional sections the example sets) appears in it as a key.
#[test]
fn the_example_config_names_every_key() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/daraa-ops.example.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let loaded = load(Some(&path), &env(&[])).unwrap();
    let mut keys = std::collections::BTreeSet::new();
    for value in [
        serde_json::to_value(super::Config::default()).unwrap(),
        serde_json::to_value(&loaded.config).unwrap(),
    ] {
        collect_keys(&value, &mut keys);
    }
    let missing: Vec<&String> = keys
        .iter()
        .filter(|k| !text.contains(&format!("{k}:")) && !text.contains(&format!("{k}: ")))
        .collect();
    assert!(missing.is_empty(), "keys the example config does not show: {missing:?}");
}

fn collect_keys(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                // Maps of names (masking collections, jobs) are data, not keys.
                if !k.contains('.') && k.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    out.insert(k.clone());
                }
                collect_keys(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_keys(x, out)),
        _ => {}
    }
}

#[test]
fn env_alone_is_enough_and_defaults_apply() {
    let loaded = load(None, &env(&[("DARAA_OPS_MONGODB_URI", "mongodb://h:1/")])).unwrap();
    let c = loaded.config;
    assert!(loaded.path.is_none() || loaded.path.as_deref() == Some(Path::new("./daraa-ops.yaml")));
    assert_eq!(c.mongodb.database, "daraa");
    assert_eq!(c.backup.dir, PathBuf::from("./backups"));
    assert_eq!(c.retention.keep_days, Some(30));
    assert!(c.s3.is_none());
    assert!(c.redis.is_none());
}

#[test]
fn env_overrides_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "c.yaml",
        "mongodb: {uri: 'mongodb://a/', database: fromfile}\nretention: {keep_days: 10}\n",
    );
    let e = env(&[
        ("DARAA_OPS_DATABASE", "fromenv"),
        ("DARAA_OPS_RETENTION_KEEP_DAYS", "7"),
        ("DARAA_OPS_S3_BUCKET", "b"),
        ("DARAA_OPS_S3_FORCE_PATH_STYLE", "true"),
        ("DARAA_OPS_REDIS_URL", "redis://127.0.0.1:1/0"),
    ]);
    let c = load(Some(&p), &e).unwrap().config;
    assert_eq!(c.mongodb.database, "fromenv");
    assert_eq!(c.retention.keep_days, Some(7));
    let s3 = c.s3.unwrap();
    assert_eq!(s3.bucket, "b");
    assert!(s3.force_path_style);
    assert_eq!(c.redis.unwrap().url, "redis://127.0.0.1:1/0");
}

#[test]
fn bad_env_value_names_the_variable() {
    let e = env(&[
        ("DARAA_OPS_MONGODB_URI", "mongodb://h/"),
        ("DARAA_OPS_RETENTION_KEEP_LAST", "three"),
    ]);
    let err = load(None, &e).unwrap_err().to_string();
    assert!(err.contains("DARAA_OPS_RETENTION_KEEP_LAST"), "{err}");
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "c.yaml", "mongodb:\n  uri: mongodb://a/\n  databse: x\n");
    let err = load(Some(&p), &env(&[])).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ConfigError::Parse { line: 3, .. }), "{msg}");
    assert!(msg.contains("c.yaml:3:"), "{msg}");
    assert!(msg.contains("databse"), "{msg}");
    assert_eq!(msg.lines().count(), 1, "{msg}");
}

#[test]
fn broken_yaml_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "c.yaml", "mongodb:\n  uri: [unclosed\nbackup: {}\n");
    let err = load(Some(&p), &env(&[])).unwrap_err();
    assert!(matches!(err, ConfigError::Parse { line, .. } if line >= 2), "{err}");
}

#[test]
fn missing_explicit_file_is_not_found() {
    let err = load(Some(Path::new("/nonexistent/x.yaml")), &env(&[])).unwrap_err();
    assert!(matches!(err, ConfigError::NotFound { .. }));
}

#[test]
fn validation_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("s3: {bucket: b, sse: aws:kms2}", "s3.sse"),
        ("s3: {bucket: b, storage_class: COLD}", "s3.storage_class"),
        ("retention: {keep_last: 0}", "retention.keep_last"),
        ("schedule: {backup: '61 * * * *'}", "schedule.backup"),
        ("schedule: {backup: '* * * *'}", "schedule.backup"),
        ("backup: {compression_level: 12}", "backup.compression_level"),
        (
            "cleanup: {rules: [{name: a, collection: c, age_field: t, older_than: 1d, action: archive}]}",
            "cleanup.rules[0].archive_to",
        ),
        (
            "cleanup: {rules: [{name: a, collection: c, age_field: t, older_than: 1d, action: delete, archive_to: local}]}",
            "cleanup.rules[0].archive_to",
        ),
        ("users: [{name: u, roles: []}]", "users[0].password_file"),
        ("mongodb: {username: x}", "mongodb.password_file"),
    ];
    for (yaml, key) in cases {
        let text = format!("{yaml}\n");
        let p = write(dir.path(), "c.yaml", &text);
        let e = env(&[("DARAA_OPS_MONGODB_URI", "mongodb://h/")]);
        let err = load(Some(&p), &e).unwrap_err().to_string();
        assert!(err.contains(key), "{yaml}: {err}");
    }
}

#[test]
fn durations_parse() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "c.yaml",
        "mongodb: {uri: 'mongodb://a/'}\ncleanup: {rules: [{name: a, collection: c, age_field: t, older_than: 90d, action: delete}]}\n",
    );
    let c = load(Some(&p), &env(&[])).unwrap().config;
    assert_eq!(c.cleanup.rules[0].older_than, std::time::Duration::from_secs(90 * 86400));
}

#[test]
fn show_never_contains_uri_password() {
    let c =
        load(None, &env(&[("DARAA_OPS_MONGODB_URI", "mongodb://u:topsecret@h/")])).unwrap().config;
    let json = serde_json::to_string(&c).unwrap();
    assert!(!json.contains("topsecret"), "{json}");
    assert!(json.contains("mongodb://u:***@h/"), "{json}");
}

#[test]
fn encryption_keys_resolve_and_bad_recipients_name_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let public = age::x25519::Identity::generate().to_public().to_string();
    let p = write(
        dir.path(),
        "c.yaml",
        &format!(
            "mongodb: {{uri: 'mongodb://h:1/'}}\nbackup:\n  encryption:\n    recipients: [{public}]\n    recipients_files: [rec.pub]\n    identity_files: [age.key]\n"
        ),
    );
    let c = load(Some(&p), &env(&[])).unwrap().config;
    let e = &c.backup.encryption;
    assert!(e.enabled());
    assert_eq!(e.identity_files[0].path(), dir.path().join("age.key"));
    assert_eq!(e.recipients_files[0], dir.path().join("rec.pub"));
    let c =
        load(Some(&p), &env(&[("DARAA_OPS_AGE_IDENTITY_FILE", "/run/secrets/k")])).unwrap().config;
    assert_eq!(c.backup.encryption.identity_files.len(), 1);
    assert_eq!(c.backup.encryption.identity_files[0].path(), Path::new("/run/secrets/k"));

    let p = write(
        dir.path(),
        "bad.yaml",
        "mongodb: {uri: 'mongodb://h:1/'}\nbackup:\n  encryption:\n    recipients: [age1nope]\n",
    );
    let err = load(Some(&p), &env(&[])).unwrap_err().to_string();
    assert!(err.contains("backup.encryption.recipients[0]"), "{err}");
}

#[test]
fn backup_oplog_is_auto_true_or_false() {
    let parse = |v: &str| {
        parse_str(
            &format!("mongodb:\n  uri: mongodb://h/\n  database: d\nbackup:\n  oplog: {v}\n"),
            Path::new("c.yaml"),
        )
        .map(|c| c.backup.oplog)
    };
    assert_eq!(parse("auto").unwrap(), OplogMode::Auto);
    assert_eq!(parse("true").unwrap(), OplogMode::On);
    assert_eq!(parse("false").unwrap(), OplogMode::Off);
    let err = format!("{:#}", parse("sometimes").unwrap_err());
    assert!(err.contains("\"sometimes\" is not auto, true or false"), "{err}");
    assert_eq!(Config::default().backup.oplog, OplogMode::Auto);
}
