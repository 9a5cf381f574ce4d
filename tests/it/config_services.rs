//! `config check --connect` against the real services, through every config layer: URI in the
//! file, credentials from secret files, overrides from DARAA_OPS_* variables.

use crate::support::{Run, Services, run, secret_file, services};

struct Setup {
    _dir: tempfile::TempDir,
    config: String,
    mongo_pw: String,
    redis_pw: String,
    wrong_pw: String,
}

fn setup(s: &Services) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mongo_pw = secret_file(dir.path(), "mongo_pw", &s.mongo_password).display().to_string();
    let redis_pw = secret_file(dir.path(), "redis_pw", &s.redis_password).display().to_string();
    let wrong_pw =
        secret_file(dir.path(), "wrong_pw", "definitely-not-the-password").display().to_string();
    let mongo_uri = s.mongo_uri_no_auth();
    // SCRAM-SHA-256 explicitly, as the production MongoDB 7 users are.
    let mongo_uri = if mongo_uri.contains("authMechanism") {
        mongo_uri
    } else {
        format!(
            "{mongo_uri}{}authMechanism=SCRAM-SHA-256",
            if mongo_uri.contains('?') { "&" } else { "?" }
        )
    };
    let config = dir.path().join("daraa-ops.yaml");
    std::fs::write(
        &config,
        format!(
            "mongodb:\n  uri: '{mongo_uri}'\n  username: {user}\n  password_file: mongo_pw\n  database: {db}\n\
             redis:\n  url: '{redis}'\n  password_file: redis_pw\n  required: true\n\
             s3:\n  bucket: {bucket}\n  endpoint: '{endpoint}'\n  force_path_style: true\n  prefix: cfgtest/\n",
            user = s.mongo_user,
            db = crate::support::unique("cfg"),
            redis = s.redis_url_no_auth,
            bucket = s.s3_bucket,
            endpoint = s.s3_endpoint,
        ),
    )
    .unwrap();
    Setup { config: config.display().to_string(), _dir: dir, mongo_pw, redis_pw, wrong_pw }
}

fn check(setup: &Setup, env: &[(&str, &str)]) -> Run {
    run(&["--output", "json", "--config", &setup.config, "config", "check", "--connect"], env)
}

fn status_of(v: &serde_json::Value, name: &str) -> String {
    v["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn connects_to_all_three_services_through_the_config_layer() {
    let Some(s) = services() else { return };
    let st = setup(&s);
    let r = check(&st, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v = r.json();
    for name in ["mongodb", "redis", "s3"] {
        assert_eq!(status_of(&v, name), "ok", "{name}: {v}");
    }
    assert_eq!(v["secret_files_read"], 2);
    let mongo = v["checks"][0]["detail"].as_str().unwrap();
    assert!(mongo.contains(&format!("as {}", s.mongo_user)), "{mongo}");
    let s3 = v["checks"][2]["detail"].as_str().unwrap();
    assert!(s3.contains(&s.s3_bucket) && s3.contains(&s.s3_endpoint), "{s3}");

    // The environment layer overrides the file: the password file now comes from a variable.
    let r = check(
        &st,
        &[
            ("DARAA_OPS_MONGODB_PASSWORD_FILE", &st.mongo_pw),
            ("DARAA_OPS_REDIS_PASSWORD_FILE", &st.redis_pw),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn wrong_mongodb_password_exits_3_and_names_the_user() {
    let Some(s) = services() else { return };
    let st = setup(&s);
    let r = check(&st, &[("DARAA_OPS_MONGODB_PASSWORD_FILE", &st.wrong_pw)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let v = r.json();
    assert_eq!(status_of(&v, "mongodb"), "failed");
    assert_eq!(status_of(&v, "redis"), "ok", "other services are still probed");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("authentication failed") && msg.contains(&s.mongo_user), "{msg}");
    assert!(v["error"]["hint"].as_str().unwrap().contains("password file"));
}

#[test]
fn wrong_redis_password_exits_3() {
    let Some(s) = services() else { return };
    let st = setup(&s);
    let r = check(&st, &[("DARAA_OPS_REDIS_PASSWORD_FILE", &st.wrong_pw)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let v = r.json();
    assert_eq!(status_of(&v, "redis"), "failed");
    assert!(v["error"]["message"].as_str().unwrap().contains("Redis authentication failed"), "{v}");
}

/// `config check --connect` answers "does every configured dependency answer?": an optional
/// Redis that does not is still exit 3 (jobs would go on without it, and the output says so).
#[test]
fn optional_redis_unreachable_is_exit_3_and_says_jobs_go_on() {
    let Some(s) = services() else { return };
    let st = setup(&s);
    let r = check(
        &st,
        &[("DARAA_OPS_REDIS_URL", "redis://127.0.0.1:1/0"), ("DARAA_OPS_REDIS_REQUIRED", "false")],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot reach Redis") && r.stderr.contains("jobs go on"),
        "{}",
        r.stderr
    );
    assert_eq!(status_of(&r.json(), "redis"), "failed");
}

#[test]
fn unreachable_mongodb_and_missing_bucket_exit_3() {
    let Some(s) = services() else { return };
    let st = setup(&s);
    let r = check(
        &st,
        &[("DARAA_OPS_MONGODB_URI", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500")],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot reach MongoDB at mongodb://127.0.0.1:1/")
    );

    let r = check(&st, &[("DARAA_OPS_S3_BUCKET", "no-such-bucket-daraa")]);
    assert_eq!(r.code, 3);
    let v = r.json();
    assert_eq!(status_of(&v, "s3"), "failed");
    assert!(v["error"]["message"].as_str().unwrap().contains("does not exist"), "{v}");
}

#[test]
fn s3_unreachable_endpoint_exits_3() {
    let Some(s) = services() else { return };
    let st = setup(&s);
    let r = check(&st, &[("DARAA_OPS_S3_ENDPOINT", "http://127.0.0.1:1")]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("cannot reach S3"));
}
