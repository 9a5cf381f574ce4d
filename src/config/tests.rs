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

/// Every check of `validate`, both ways: the value it refuses (the error names the key) and
/// the nearest values it takes. cargo-mutants judged `config/validate.rs` against the
/// unit tests: a check no case reaches could be removed unnoticed.
#[test]
#[allow(clippy::too_many_lines)] // one table: a row per check
fn every_check_refuses_its_value_and_takes_the_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let with_uri = env(&[("DARAA_OPS_MONGODB_URI", "mongodb://h/")]);
    // A mongodb section brings its own URI; the rest take one from the environment.
    let load_text = |yaml: &str| {
        let p = write(dir.path(), "c.yaml", &format!("{yaml}\n"));
        load(Some(&p), &if yaml.starts_with("mongodb:") { env(&[]) } else { with_uri.clone() })
    };
    let s3 = "s3: {bucket: b}";
    let user = "{name: u, password_file: /p}";
    let rule = "name: r, collection: c, age_field: t, older_than: 1d";
    let priv_ = |res: &str| {
        format!(
            "roles: [{{role: r, db: admin, privileges: [{{resource: {res}, actions: [find]}}]}}]"
        )
    };
    let refused: Vec<(String, &str)> = vec![
        // mongodb
        ("mongodb: {uri: 'http://h/'}".into(), "mongodb.uri"),
        ("mongodb: {uri: 'mongodb://h/', database: 'a.b'}".into(), "mongodb.database"),
        ("mongodb: {uri: 'mongodb://h/', database: ''}".into(), "mongodb.database"),
        (format!("mongodb: {{uri: 'mongodb://h/', database: {}}}", "d".repeat(64)), "mongodb.database"),
        ("mongodb: {uri: 'mongodb://h/', password_file: /p}".into(), "mongodb.username"),
        ("mongodb: {uri: 'mongodb://h/', admin: {username: '', password_file: /p}}".into(), "mongodb.admin.username"),
        ("mongodb: {uri: 'mongodb://h/', admin: {username: root}}".into(), "mongodb.admin.password_file"),
        ("mongodb: {uri: 'mongodb://h/', server_selection_timeout: 0s}".into(), "mongodb.server_selection_timeout"),
        // redis
        ("redis: {url: 'http://h'}".into(), "redis.url"),
        ("redis: {url: 'redis://h', cache_prefixes: [a, ' ']}".into(), "redis.cache_prefixes[1]"),
        // s3
        ("s3: {bucket: ''}".into(), "s3.bucket"),
        ("s3: {bucket: b, endpoint: 'ftp://h'}".into(), "s3.endpoint"),
        ("s3: {bucket: b, kms_key_id: k}".into(), "s3.kms_key_id"),
        ("s3: {bucket: b, sse: AES256, kms_key_id: k}".into(), "s3.kms_key_id"),
        ("s3: {bucket: b, part_size_mib: 4}".into(), "s3.part_size_mib"),
        ("s3: {bucket: b, part_size_mib: 5121}".into(), "s3.part_size_mib"),
        ("s3: {bucket: b, max_attempts: 0}".into(), "s3.max_attempts"),
        // backup, pitr, restore
        ("backup: {name_prefix: ''}".into(), "backup.name_prefix"),
        ("backup: {name_prefix: 'a b'}".into(), "backup.name_prefix"),
        ("backup: {compression_level: 0}".into(), "backup.compression_level"),
        ("backup: {compression_level: 10}".into(), "backup.compression_level"),
        ("backup: {compression: zstd, compression_level: 0}".into(), "backup.compression_level"),
        ("backup: {compression: zstd, compression_level: 20}".into(), "backup.compression_level"),
        ("backup: {compression: zstd, format: archive}".into(), "backup.compression"),
        ("backup: {batch_size: 0}".into(), "backup.batch_size"),
        ("backup: {batch_size: 100001}".into(), "backup.batch_size"),
        ("backup: {max_shrink: 1.0}".into(), "backup.max_shrink"),
        ("backup: {max_shrink: -0.1}".into(), "backup.max_shrink"),
        ("backup: {parallel_collections: 0}".into(), "backup.parallel_collections"),
        ("pitr: {span_seconds: 0}".into(), "pitr.span_seconds"),
        ("pitr: {span_seconds: 86401}".into(), "pitr.span_seconds"),
        ("pitr: {max_chunk_mib: 0}".into(), "pitr.max_chunk_mib"),
        ("pitr: {max_chunk_mib: 1025}".into(), "pitr.max_chunk_mib"),
        ("restore: {parallel_collections: 0}".into(), "restore.parallel_collections"),
        ("restore: {insertion_workers: 0}".into(), "restore.insertion_workers"),
        // retention, lock
        ("retention: {keep_days: 0}".into(), "retention.keep_days"),
        ("retention: {keep_days: 36501}".into(), "retention.keep_days"),
        ("retention: {keep_last: 36501}".into(), "retention.keep_last"),
        ("retention: {keep_daily: 36501}".into(), "retention.keep_daily"),
        ("retention: {keep_weekly: 36501}".into(), "retention.keep_weekly"),
        ("retention: {keep_monthly: 36501}".into(), "retention.keep_monthly"),
        ("lock: {ttl: 9s}".into(), "lock.ttl"),
        ("lock: {ttl: 86401s}".into(), "lock.ttl"),
        // users, roles
        ("users: [{name: '', password_file: /p}]".into(), "users[0].name"),
        (format!("users: [{user}, {user}]"), "users[1].name"),
        ("users: [{name: u, password_file: /p, password_file_env: X}]".into(), "users[0].password_file"),
        ("users: [{name: u, password_file: /p, mechanisms: []}]".into(), "users[0].mechanisms"),
        ("users: [{name: u, password_file: /p, mechanisms: [MD5]}]".into(), "users[0].mechanisms"),
        ("users: [{name: u, password_file: /p, roles: [{role: '', db: a}]}]".into(), "users[0].roles[0]"),
        ("users: [{name: u, password_file: /p, roles: [{role: r, db: ''}]}]".into(), "users[0].roles[0]"),
        ("roles: [{role: '', db: admin}]".into(), "roles[0].role"),
        ("roles: [{role: r, db: admin}, {role: r, db: admin}]".into(), "roles[1].role"),
        (priv_("{cluster: true, db: a}"), "roles[0].privileges[0].resource"),
        (priv_("{}"), "roles[0].privileges[0].resource"),
        (priv_("{collection: c}"), "roles[0].privileges[0].resource"),
        ("roles: [{role: r, db: admin, privileges: [{resource: {db: a, collection: c}, actions: []}]}]".into(), "roles[0].privileges[0].actions"),
        // cleanup
        ("cleanup: {batch_size: 0}".into(), "cleanup.batch_size"),
        ("cleanup: {batch_size: 100001}".into(), "cleanup.batch_size"),
        (format!("cleanup: {{rules: [{{{rule}, action: delete}}, {{{rule}, action: delete}}]}}"), "cleanup.rules[1].name"),
        ("cleanup: {rules: [{name: '', collection: c, age_field: t, older_than: 1d, action: delete}]}".into(), "cleanup.rules[0].name"),
        ("cleanup: {rules: [{name: r, collection: system.x, age_field: t, older_than: 1d, action: delete}]}".into(), "cleanup.rules[0].collection"),
        ("cleanup: {rules: [{name: r, collection: '', age_field: t, older_than: 1d, action: delete}]}".into(), "cleanup.rules[0].collection"),
        ("cleanup: {rules: [{name: r, collection: \"a\\0b\", age_field: t, older_than: 1d, action: delete}]}".into(), "cleanup.rules[0].collection"),
        ("cleanup: {rules: [{name: r, collection: c, age_field: '', older_than: 1d, action: delete}]}".into(), "cleanup.rules[0].age_field"),
        ("cleanup: {rules: [{name: r, collection: c, age_field: t, older_than: 0s, action: delete}]}".into(), "cleanup.rules[0].older_than"),
        ("cleanup: {rules: [{name: r, collection: c, age_field: t, older_than: 36501d, action: delete}]}".into(), "cleanup.rules[0].older_than"),
        (format!("cleanup: {{rules: [{{{rule}, action: delete, invalidate_prefixes: ['']}}]}}"), "cleanup.rules[0].invalidate_prefixes[0]"),
        (format!("cleanup: {{rules: [{{{rule}, action: delete, batch_size: 0}}]}}"), "cleanup.rules[0].batch_size"),
        (format!("cleanup: {{rules: [{{{rule}, action: delete, batch_size: 100001}}]}}"), "cleanup.rules[0].batch_size"),
        (format!("cleanup: {{rules: [{{{rule}, action: archive, archive_to: s3}}]}}"), "cleanup.rules[0].archive_to"),
        (format!("cleanup: {{rules: [{{{rule}, action: archive, archive_to: collection}}]}}"), "cleanup.rules[0].archive_collection"),
        // schedule
        ("schedule: {cleanup: '* * *'}".into(), "schedule.cleanup"),
        ("schedule: {drill: '0 25 * * *'}".into(), "schedule.drill"),
        // masking
        ("masking: {copy_as_is: ['a$b']}".into(), "masking.copy_as_is[0]"),
        ("masking: {key_file: /k, copy_as_is: [users], collections: {users: {email: hash}}}".into(), "masking.copy_as_is[0]"),
        ("masking: {collections: {users: {email: hash}}}".into(), "masking.key_file"),
        ("masking: {staging_databases: [ok, 'a.b']}".into(), "masking.staging_databases[1]"),
        ("masking: {staging_databases: [daraa]}".into(), "masking.staging_databases[0]"),
        ("masking: {key_file: /k, collections: {'system.users': {email: hash}}}".into(), "masking.collections.system.users"),
        ("masking: {key_file: /k, collections: {users: {'a..b': hash}}}".into(), "masking.collections.users.a..b"),
        ("masking: {key_file: /k, collections: {users: {'$x': hash}}}".into(), "masking.collections.users.$x"),
        ("masking: {key_file: /k, collections: {users: {'': hash}}}".into(), "masking.collections.users."),
        ("masking: {key_file: /k, collections: {users: {d: {rule: shift_date, grid: 1.0}}}}".into(), "masking.collections.users.d"),
        ("masking: {key_file: /k, collections: {users: {d: {rule: shift_date, value: x}}}}".into(), "masking.collections.users.d"),
        ("masking: {key_file: /k, collections: {users: {g: {rule: round_geo, max_days: 3}}}}".into(), "masking.collections.users.g"),
        ("masking: {key_file: /k, collections: {users: {g: {rule: round_geo, value: x}}}}".into(), "masking.collections.users.g"),
        ("masking: {key_file: /k, collections: {users: {r: {rule: redact, max_days: 3}}}}".into(), "masking.collections.users.r"),
        ("masking: {key_file: /k, collections: {users: {r: {rule: redact, grid: 1.0}}}}".into(), "masking.collections.users.r"),
        ("masking: {key_file: /k, collections: {users: {h: {rule: hash, value: x}}}}".into(), "masking.collections.users.h"),
        ("masking: {key_file: /k, collections: {users: {d: {rule: shift_date, max_days: 0}}}}".into(), "masking.collections.users.d"),
        ("masking: {key_file: /k, collections: {users: {d: {rule: shift_date, max_days: 36501}}}}".into(), "masking.collections.users.d"),
        ("masking: {key_file: /k, collections: {users: {g: {rule: round_geo, grid: 0.0}}}}".into(), "masking.collections.users.g"),
        ("masking: {key_file: /k, collections: {users: {g: {rule: round_geo, grid: 10.5}}}}".into(), "masking.collections.users.g"),
        // encryption
        ("backup: {encryption: {recipients: [age1notakey]}}".into(), "backup.encryption.recipients[0]"),
    ];
    for (yaml, key) in &refused {
        let err = match load_text(yaml) {
            Ok(_) => panic!("{yaml}: taken, {key} should refuse it"),
            Err(err) => err.to_string(),
        };
        assert!(
            err.contains(&format!("{key}:")) || err.contains(&format!("{key} ")),
            "{yaml}: {err}"
        );
    }
    let taken: Vec<String> = vec![
        "mongodb: {uri: 'mongodb+srv://h/', database: a-b_9}".into(),
        format!("mongodb: {{uri: 'mongodb://h/', database: {}}}", "d".repeat(63)),
        "mongodb: {uri: 'mongodb://h/', username: u, password_file: /p, admin: {username: root, password_file: /q}}".into(),
        "redis: {url: 'rediss://h', cache_prefixes: [a]}".into(),
        "s3: {bucket: b, endpoint: 'https://h', sse: aws:kms, kms_key_id: k, part_size_mib: 5, max_attempts: 1}".into(),
        "s3: {bucket: b, endpoint: 'http://h', sse: AES256, part_size_mib: 5120, storage_class: STANDARD_IA}".into(),
        "backup: {name_prefix: a.b-c_1, compression_level: 1, batch_size: 1, max_shrink: 0.0, parallel_collections: 1}".into(),
        "backup: {compression_level: 9, batch_size: 100000, max_shrink: 0.99}".into(),
        "backup: {compression: zstd, compression_level: 1}".into(),
        "backup: {compression: zstd, compression_level: 19, format: tar}".into(),
        "backup: {compression: gzip, format: archive}".into(),
        "pitr: {span_seconds: 1, max_chunk_mib: 1}".into(),
        "pitr: {span_seconds: 86400, max_chunk_mib: 1024}".into(),
        "restore: {parallel_collections: 1, insertion_workers: 1}".into(),
        "retention: {keep_last: 1, keep_days: 36500, keep_daily: 36500, keep_weekly: 36500, keep_monthly: 36500}".into(),
        "retention: {keep_days: 1}".into(),
        "lock: {ttl: 10s}".into(),
        "lock: {ttl: 24h}".into(),
        format!("users: [{user}, {{name: u, db: other, password_file_env: X, mechanisms: [SCRAM-SHA-1, SCRAM-SHA-256], roles: [{{role: r, db: d}}]}}]"),
        "roles: [{role: r, db: admin}, {role: r, db: other}]".into(),
        priv_("{cluster: true}"),
        priv_("{db: a}"),
        priv_("{db: a, collection: c}"),
        "cleanup: {batch_size: 1}".into(),
        "cleanup: {batch_size: 100000}".into(),
        format!("{s3}\ncleanup: {{rules: [{{{rule}, action: archive, archive_to: s3, batch_size: 1}}, {{name: r2, collection: c, age_field: t, older_than: 36500d, action: archive, archive_to: collection, archive_collection: c_old, batch_size: 100000}}]}}"),
        format!("cleanup: {{rules: [{{{rule}, action: archive, archive_to: local, invalidate_prefixes: [a]}}]}}"),
        "schedule: {backup: '30 2 * * *', cleanup: '*/5 * * * 1-5'}".into(),
        "masking: {key_file: /k, staging_databases: [staging], copy_as_is: [products], collections: {users: {a.b: hash, d: {rule: shift_date, max_days: 1}, e: {rule: shift_date, max_days: 36500}, g: {rule: round_geo, grid: 10.0}, h: {rule: round_geo, grid: 0.001}, r: {rule: redact, value: x}, k: keep}}}".into(),
    ];
    for yaml in &taken {
        if let Err(err) = load_text(yaml) {
            panic!("{yaml}: refused: {err}");
        }
    }
}

/// A restore never writes the server's own databases, nor a name the servers refuse.
#[test]
fn restore_targets_exclude_the_servers_own_databases() {
    use super::validate::check_restore_target;
    for name in ["admin", "local", "config", "a.b", ""] {
        assert!(check_restore_target(name).is_err(), "{name}");
    }
    assert!(check_restore_target("daraa_restore").is_ok());
    assert!(check_restore_target("admin2").is_ok());
}

/// The level a backup compresses at: `compression_level` when set, else the codec's own
/// default (gzip 5, zstd 1, the cheapest zstd level and already smaller than gzip 5: see
/// docs/benchmarks.md); what is always gzip (the archive format, oplog chunks) never takes a
/// zstd level.
#[test]
fn each_codec_has_its_own_default_level() {
    let dir = tempfile::tempdir().unwrap();
    let uri = env(&[("DARAA_OPS_MONGODB_URI", "mongodb://h/")]);
    let levels = |yaml: &str| {
        let c =
            load(Some(&write(dir.path(), "c.yaml", &format!("{yaml}\n"))), &uri).unwrap().config;
        (c.backup.compression, c.backup.level(), c.backup.gzip_level())
    };
    assert_eq!(levels("backup: {}"), (Compression::Gzip, 5, 5));
    assert_eq!(levels("backup: {compression_level: 2}"), (Compression::Gzip, 2, 2));
    assert_eq!(levels("backup: {compression: zstd}"), (Compression::Zstd, 1, 5));
    assert_eq!(
        levels("backup: {compression: zstd, compression_level: 7}"),
        (Compression::Zstd, 7, 5)
    );
}

/// Every configuration error says where it comes from, and the hint printed under it says
/// what mends it (the password hint only for a `password` key, which never belongs in the file).
#[test]
fn errors_say_where_and_carry_the_hint_that_mends_them() {
    let file = || PathBuf::from("/etc/daraa-ops/d.yaml");
    let secret = || PathBuf::from("/run/secrets/pw");
    let parse = |message: &str| ConfigError::Parse {
        path: file(),
        line: 3,
        column: 5,
        message: message.into(),
    };
    let gone = || std::io::Error::from(std::io::ErrorKind::NotFound);
    let cases = [
        (
            ConfigError::NotFound { path: file() },
            "config file /etc/daraa-ops/d.yaml does not exist",
            Some(
                "pass --config PATH, set DARAA_OPS_CONFIG, or start from config/daraa-ops.example.yaml",
            ),
        ),
        (
            ConfigError::Read { path: file(), source: gone() },
            "cannot read config file /etc/daraa-ops/d.yaml: entity not found",
            None,
        ),
        (
            parse("mongodb: unknown field `password`, expected one of `uri`"),
            "/etc/daraa-ops/d.yaml:3:5: mongodb: unknown field `password`, expected one of `uri`",
            Some(
                "passwords are never written in the config: put the password on one line of a file (chmod 600) and give its path as password_file",
            ),
        ),
        (
            parse("mongodb: unknown field `passwords`"),
            "/etc/daraa-ops/d.yaml:3:5: mongodb: unknown field `passwords`",
            Some("every key is documented in config/daraa-ops.example.yaml"),
        ),
        (
            ConfigError::Invalid {
                path: Some(file()),
                key: "backup.x".into(),
                message: "m".into(),
            },
            "/etc/daraa-ops/d.yaml: invalid backup.x: m",
            None,
        ),
        (
            ConfigError::Invalid { path: None, key: "backup.x".into(), message: "m".into() },
            "invalid backup.x: m",
            None,
        ),
        (
            ConfigError::Env { var: "DARAA_OPS_X".into(), message: "m".into() },
            "invalid environment variable DARAA_OPS_X: m",
            None,
        ),
        (
            ConfigError::SecretFile { key: "k".into(), path: secret(), source: gone() },
            "secret file /run/secrets/pw for k cannot be read: entity not found",
            Some(
                "create it with the secret (password, key or URL) on one line and chmod 600 /run/secrets/pw",
            ),
        ),
        (
            ConfigError::EmptySecret { key: "k".into(), path: secret() },
            "secret file /run/secrets/pw for k is empty",
            Some("write the secret on one line"),
        ),
        (
            ConfigError::Missing {
                key: "mongodb.uri".into(),
                hint: "set DARAA_OPS_MONGODB_URI".into(),
            },
            "mongodb.uri is not set",
            Some("set DARAA_OPS_MONGODB_URI"),
        ),
    ];
    for (e, message, hint) in cases {
        assert_eq!((e.to_string().as_str(), e.hint().as_deref()), (message, hint));
    }
}

/// Each job finds its own account and the key of its password file; a job without one, and
/// a name that is no job, find none. A drill query counts one document unless told, and an
/// account's authentication database is admin unless told.
#[test]
fn job_accounts_and_drill_queries_read_as_declared() {
    let account = |user: &str| AdminCredentials {
        username: user.into(),
        password_file: None,
        auth_source: "admin".into(),
    };
    let jobs = JobAccounts {
        backup: Some(account("bk")),
        stats: Some(account("st")),
        ..Default::default()
    };
    let all: Vec<(&str, Option<&str>, &str)> =
        jobs.all().iter().map(|(j, a, k)| (*j, a.map(|a| a.username.as_str()), *k)).collect();
    assert_eq!(
        all,
        [
            ("backup", Some("bk"), "mongodb.jobs.backup.password_file"),
            ("restore", None, "mongodb.jobs.restore.password_file"),
            ("drill", None, "mongodb.jobs.drill.password_file"),
            ("cleanup", None, "mongodb.jobs.cleanup.password_file"),
            ("stats", Some("st"), "mongodb.jobs.stats.password_file"),
            ("indexes", None, "mongodb.jobs.indexes.password_file"),
        ]
    );
    let get = |job: &str| jobs.get(job).map(|(a, key)| (a.username.clone(), key));
    assert_eq!(get("stats"), Some(("st".into(), "mongodb.jobs.stats.password_file")));
    assert_eq!(get("backup"), Some(("bk".into(), "mongodb.jobs.backup.password_file")));
    assert_eq!((get("restore"), get("nightly")), (None, None));

    let q: DrillQuery =
        serde_json::from_value(serde_json::json!({"name": "n", "collection": "c"})).unwrap();
    assert_eq!(q.min_documents, 1);
    // An account authenticates against admin unless told otherwise.
    let a: AdminCredentials = serde_json::from_value(serde_json::json!({"username": "u"})).unwrap();
    assert_eq!(a.auth_source, "admin");
}

/// `mongodb.read_preference` takes MongoDB's five names as MongoDB spells them, nothing else.
#[test]
fn read_preferences_are_mongodbs_five_names() {
    use std::str::FromStr as _;
    for (name, pref) in [
        ("primary", ReadPreference::Primary),
        ("primaryPreferred", ReadPreference::PrimaryPreferred),
        ("secondary", ReadPreference::Secondary),
        ("secondaryPreferred", ReadPreference::SecondaryPreferred),
        ("nearest", ReadPreference::Nearest),
    ] {
        assert_eq!(ReadPreference::from_str(name), Ok(pref));
    }
    for name in ["Primary", "primary_preferred", ""] {
        assert!(ReadPreference::from_str(name).unwrap_err().starts_with("expected primary"));
    }
}

/// The loader completes what the file leaves out: an S3 prefix is a folder (a slash added
/// once, none to an empty prefix), and the codec's own level is filled in.
#[test]
fn the_loader_makes_prefixes_folders_and_fills_the_level() {
    let dir = tempfile::tempdir().unwrap();
    let uri = env(&[("DARAA_OPS_MONGODB_URI", "mongodb://h/")]);
    let loaded = |prefix: &str| {
        let yaml = format!("s3: {{bucket: b, prefix: '{prefix}'}}\n");
        load(Some(&write(dir.path(), "c.yaml", &yaml)), &uri).unwrap().config
    };
    assert_eq!(loaded("daily").s3.unwrap().prefix, "daily/");
    assert_eq!(loaded("daily/").s3.unwrap().prefix, "daily/");
    assert_eq!(loaded("").s3.unwrap().prefix, "");
    assert_eq!(loaded("daily").backup.compression_level, Some(5));
}

/// Which collections a backup takes: all by default, only the included ones when a list is
/// given, never an excluded one (exclusion wins).
#[test]
fn backups_take_the_included_collections_and_never_an_excluded_one() {
    let backup = |include: &[&str], exclude: &[&str]| BackupConfig {
        include_collections: include.iter().map(|c| (*c).to_owned()).collect(),
        exclude_collections: exclude.iter().map(|c| (*c).to_owned()).collect(),
        ..Default::default()
    };
    let taken = |b: &BackupConfig| {
        ["users", "orders", "logs"].into_iter().filter(|c| b.takes(c)).collect::<Vec<_>>()
    };
    assert_eq!(taken(&backup(&[], &[])), ["users", "orders", "logs"]);
    assert_eq!(taken(&backup(&["orders"], &[])), ["orders"]);
    assert_eq!(taken(&backup(&[], &["logs"])), ["users", "orders"]);
    assert_eq!(taken(&backup(&["users", "logs"], &["logs"])), ["users"]);
}

/// A value the parser refuses is named by its dotted key, read from the YAML lines above it
/// (list items included); an unknown key keeps serde's message, which names it already.
/// parse_and_validate also validates.
#[test]
fn refused_values_are_named_by_their_dotted_key() {
    let message = |text: &str| match parse_str(text, Path::new("c.yaml")).unwrap_err() {
        ConfigError::Parse { line, message, .. } => (line, message),
        other => panic!("{other:?}"),
    };
    let (line, m) = message("mongodb:\n  uri: 'mongodb://h/'\nretention:\n  keep_last: many\n");
    assert_eq!(line, 4);
    assert!(m.starts_with("retention.keep_last: "), "{m}");
    let (line, m) = message(
        "drill:\n  queries:\n    # each must match: one document\n    - name: q\n      collection: c\n      \
         min_documents: lots\n",
    );
    assert_eq!(line, 6);
    assert!(m.starts_with("drill.queries.min_documents: "), "{m}");
    let (_, m) = message("mongodb:\n  databse: x\n");
    assert!(m.starts_with("unknown field `databse`"), "{m}");
    let uri = "mongodb:\n  uri: 'mongodb://h/'\n";
    let c = parse_and_validate(&format!("{uri}retention:\n  keep_last: 4\n"), Path::new("c.yaml"))
        .unwrap();
    assert_eq!(c.retention.keep_last, 4);
    let e = parse_and_validate(&format!("{uri}retention:\n  keep_days: 0\n"), Path::new("c.yaml"))
        .unwrap_err();
    assert!(e.to_string().contains("retention.keep_days"), "{e}");
}

/// Paths in the file are relative to the file (the default backup folder stays relative to
/// where the job runs); every secret file is listed with the key that names it; archives are
/// encrypted when any recipient is configured.
#[test]
fn paths_follow_the_file_and_every_secret_file_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let text = "mongodb:\n  uri: 'mongodb://h/'\n  username: app\n  password_file: pw\n  \
        admin:\n    username: root\n    password_file: /run/secrets/root\n  jobs:\n    \
        backup:\n      username: bk\n      password_file: bk\nredis:\n  url: 'redis://h/0'\n  \
        password_file: redis\nmasking:\n  key_file: mask\nbackup:\n  dir: archives\n";
    let loaded = load(Some(&write(dir.path(), "c.yaml", text)), &env(&[])).unwrap();
    let at = |name: &str| dir.path().join(name);
    assert_eq!(loaded.config.backup.dir, at("archives"));
    let files: Vec<(String, PathBuf)> =
        loaded.secret_files(&env(&[])).into_iter().map(|(k, f)| (k, f.0)).collect();
    assert_eq!(
        files,
        [
            ("mongodb.password_file".to_owned(), at("pw")),
            ("mongodb.admin.password_file".to_owned(), PathBuf::from("/run/secrets/root")),
            ("redis.password_file".to_owned(), at("redis")),
            ("mongodb.jobs.backup.password_file".to_owned(), at("bk")),
            ("masking.key_file".to_owned(), at("mask")),
        ]
    );
    // Every one is read before a job needs it: the first missing one is named, then all count.
    match loaded.check_secrets(&env(&[])) {
        Err(ConfigError::SecretFile { key, .. }) => assert_eq!(key, "mongodb.password_file"),
        other => panic!("a missing secret file passed: {other:?}"),
    }
    for name in ["pw", "redis", "bk", "mask"] {
        write(dir.path(), name, "secret\n");
    }
    let root = Loaded {
        config: Config {
            mongodb: MongoConfig { admin: None, ..loaded.config.mongodb.clone() },
            ..loaded.config.clone()
        },
        path: None,
    };
    assert_eq!(root.check_secrets(&env(&[])).unwrap(), 4);
    assert_eq!((Compression::Gzip.name(), Compression::Zstd.name()), ("gzip", "zstd"));

    let plain = write(dir.path(), "d.yaml", "mongodb:\n  uri: 'mongodb://h/'\n");
    let c = load(Some(&plain), &env(&[])).unwrap().config;
    assert_eq!(c.backup.dir, PathBuf::from("./backups"));

    let encryption = |recipients: &[&str], files: &[&str]| EncryptionConfig {
        recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
        recipients_files: files.iter().map(PathBuf::from).collect(),
        identity_files: vec![],
    };
    assert!(!encryption(&[], &[]).enabled());
    assert!(encryption(&["age1x"], &[]).enabled());
    assert!(encryption(&[], &["keys.txt"]).enabled());
}

/// A user's password file is its own `password_file`, else the path in the environment
/// variable it names; users get SCRAM-SHA-256 in admin unless told. The process environment
/// is read as it is.
#[test]
fn user_password_files_come_from_the_file_or_the_environment() {
    let user = |v: serde_json::Value| -> UserSpec { serde_json::from_value(v).unwrap() };
    let vars = env(&[("APP_PW_FILE", "/run/secrets/app")]);
    let own = user(
        serde_json::json!({"name": "a", "password_file": "/p", "password_file_env": "APP_PW_FILE"}),
    );
    assert_eq!(user_password_file(&own, &vars), Some(SecretFile("/p".into())));
    let from_env = user(serde_json::json!({"name": "a", "password_file_env": "APP_PW_FILE"}));
    assert_eq!(user_password_file(&from_env, &vars), Some(SecretFile("/run/secrets/app".into())));
    assert_eq!(user_password_file(&from_env, &env(&[])), None);
    assert_eq!(
        (from_env.db.as_str(), from_env.mechanisms.as_slice()),
        ("admin", &["SCRAM-SHA-256".to_owned()][..])
    );
    let path = std::env::var("PATH").ok().filter(|p| !p.is_empty());
    assert!(path.is_some());
    assert_eq!(env_vars::ProcessEnv.get("PATH"), path);
}

/// The admin account can come from the environment alone: its user name or its password
/// file, either one, creates it (and validation then asks for the other); both make it whole.
#[test]
fn an_admin_account_comes_from_either_of_its_variables() {
    let admin = |pairs: &[(&str, &str)]| {
        let mut all = vec![("DARAA_OPS_MONGODB_URI", "mongodb://h/")];
        all.extend_from_slice(pairs);
        match load(None, &env(&all)) {
            Ok(l) => Ok(l
                .config
                .mongodb
                .admin
                .map(|a| (a.username, a.password_file.map(|f| f.0), a.auth_source))),
            Err(ConfigError::Invalid { key, .. }) => Err(key),
            Err(other) => panic!("{other:?}"),
        }
    };
    let (user, file) =
        ("DARAA_OPS_MONGODB_ADMIN_USERNAME", "DARAA_OPS_MONGODB_ADMIN_PASSWORD_FILE");
    assert_eq!(admin(&[]), Ok(None));
    assert_eq!(admin(&[(user, "root")]), Err("mongodb.admin.password_file".into()));
    assert!(admin(&[(file, "/run/secrets/root")]).is_err());
    assert_eq!(
        admin(&[(user, "root"), (file, "/run/secrets/root")]),
        Ok(Some(("root".into(), Some(PathBuf::from("/run/secrets/root")), "admin".into())))
    );
}

/// A boolean variable takes the usual spellings either way, in any case, and refuses others.
#[test]
fn boolean_variables_read_both_ways() {
    let force = |value: &str| {
        let e = env(&[
            ("DARAA_OPS_MONGODB_URI", "mongodb://h/"),
            ("DARAA_OPS_S3_BUCKET", "b"),
            ("DARAA_OPS_S3_FORCE_PATH_STYLE", value),
        ]);
        load(None, &e).map(|l| l.config.s3.unwrap().force_path_style).map_err(|e| e.to_string())
    };
    for yes in ["1", "true", "YES", "On"] {
        assert_eq!(force(yes), Ok(true), "{yes}");
    }
    for no in ["0", "False", "no", "OFF"] {
        assert_eq!(force(no), Ok(false), "{no}");
    }
    assert_eq!(
        force("maybe"),
        Err("invalid environment variable DARAA_OPS_S3_FORCE_PATH_STYLE: expected true or false, got \"maybe\"".into())
    );
}

/// `DARAA_OPS_RETENTION_KEEP_DAYS=none` (or `null`, spaces around allowed) switches the age
/// rule off.
#[test]
fn keep_days_none_switches_the_age_rule_off() {
    let days = |value: &str| {
        let e = env(&[
            ("DARAA_OPS_MONGODB_URI", "mongodb://h/"),
            ("DARAA_OPS_RETENTION_KEEP_DAYS", value),
        ]);
        load(None, &e).map(|l| l.config.retention.keep_days).map_err(|e| e.to_string())
    };
    assert_eq!((days("none"), days("null"), days("12")), (Ok(None), Ok(None), Ok(Some(12))));
    // Spaces around the word, as a quoted value in an env file leaves them.
    assert_eq!(days(" none "), Ok(None));
    assert!(days("never").unwrap_err().contains("DARAA_OPS_RETENTION_KEEP_DAYS"));
}
