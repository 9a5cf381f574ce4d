//! Applies `DARAA_OPS_*` variables over the file's values (the middle layer of docs/configuration.md).

use std::path::PathBuf;

use super::env_vars::{self as v, EnvSource};
use super::{AdminCredentials, Config, ConfigError, RedisConfig, S3Config, SecretFile};

pub(super) fn apply(c: &mut Config, env: &dyn EnvSource) -> Result<(), ConfigError> {
    let get = |name: &str| env.get(name);

    if let Some(x) = get(v::MONGODB_URI) {
        c.mongodb.uri = x;
    }
    if let Some(x) = get(v::MONGODB_USERNAME) {
        c.mongodb.username = Some(x);
    }
    if let Some(x) = get(v::MONGODB_PASSWORD_FILE) {
        c.mongodb.password_file = Some(SecretFile(PathBuf::from(x)));
    }
    if let Some(x) = get(v::MONGODB_AUTH_SOURCE) {
        c.mongodb.auth_source = Some(x);
    }
    if let Some(x) = get(v::DATABASE) {
        c.mongodb.database = x;
    }
    if let Some(x) = get(v::MONGODB_READ_PREFERENCE) {
        c.mongodb.read_preference = Some(x.parse().map_err(|message| ConfigError::Env {
            var: v::MONGODB_READ_PREFERENCE.into(),
            message,
        })?);
    }
    let admin_user = get(v::MONGODB_ADMIN_USERNAME);
    let admin_file = get(v::MONGODB_ADMIN_PASSWORD_FILE);
    if admin_user.is_some() || admin_file.is_some() {
        let admin = c.mongodb.admin.get_or_insert_with(|| AdminCredentials {
            username: String::new(),
            password_file: None,
            auth_source: "admin".into(),
        });
        if let Some(x) = admin_user {
            admin.username = x;
        }
        if let Some(x) = admin_file {
            admin.password_file = Some(SecretFile(PathBuf::from(x)));
        }
    }

    if let Some(x) = get(v::BACKUP_DIR) {
        c.backup.dir = PathBuf::from(x);
    }
    if let Some(x) = get(v::AGE_IDENTITY_FILE) {
        c.backup.encryption.identity_files = vec![SecretFile(PathBuf::from(x))];
    }

    let redis_url = get(v::REDIS_URL);
    if redis_url.is_some() || c.redis.is_some() {
        let r = c.redis.get_or_insert_with(RedisConfig::default);
        if let Some(x) = redis_url {
            r.url = x;
        }
        if let Some(x) = get(v::REDIS_PASSWORD_FILE) {
            r.password_file = Some(SecretFile(PathBuf::from(x)));
        }
        if let Some(x) = get(v::REDIS_REQUIRED) {
            r.required = parse_bool(v::REDIS_REQUIRED, &x)?;
        }
    }

    let bucket = get(v::S3_BUCKET);
    if bucket.is_some() || c.s3.is_some() {
        let s = c.s3.get_or_insert_with(S3Config::default);
        if let Some(x) = bucket {
            s.bucket = x;
        }
        if let Some(x) = get(v::S3_PREFIX) {
            s.prefix = x;
        }
        if let Some(x) = get(v::S3_ENDPOINT) {
            s.endpoint = Some(x);
        }
        if let Some(x) = get(v::S3_REGION) {
            s.region = Some(x);
        }
        if let Some(x) = get(v::S3_FORCE_PATH_STYLE) {
            s.force_path_style = parse_bool(v::S3_FORCE_PATH_STYLE, &x)?;
        }
        if let Some(x) = get(v::S3_STORAGE_CLASS) {
            s.storage_class = Some(x);
        }
        if let Some(x) = get(v::S3_SSE) {
            s.sse = Some(x);
        }
        if let Some(x) = get(v::S3_KMS_KEY_ID) {
            s.kms_key_id = Some(x);
        }
    }

    if let Some(x) = get(v::RETENTION_KEEP_DAYS) {
        c.retention.keep_days = match x.trim() {
            "none" | "null" => None,
            _ => Some(parse_num(v::RETENTION_KEEP_DAYS, &x)?),
        };
    }
    if let Some(x) = get(v::RETENTION_KEEP_LAST) {
        c.retention.keep_last = parse_num(v::RETENTION_KEEP_LAST, &x)?;
    }
    if let Some(x) = get(v::METRICS_TEXTFILE_DIR) {
        c.metrics.textfile_dir = Some(PathBuf::from(x));
    }
    Ok(())
}

fn parse_bool(var: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Env {
            var: var.into(),
            message: format!("expected true or false, got {value:?}"),
        }),
    }
}

fn parse_num(var: &str, value: &str) -> Result<u32, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Env {
        var: var.into(),
        message: format!("expected a whole number, got {value:?}"),
    })
}
