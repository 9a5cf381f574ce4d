//! Every environment variable daraa-ops reads, in one place (docs/configuration.md).
//!
//! The config loader applies them over the file; nothing else in the crate calls `std::env::var`
//! for configuration.

pub const CONFIG: &str = "DARAA_OPS_CONFIG";
pub const LOG: &str = "DARAA_OPS_LOG";
/// A file to which every MongoDB command name sent is appended (privilege audits and the
/// suite's least-privilege test; names only, never arguments).
pub const COMMAND_LOG: &str = "DARAA_OPS_COMMAND_LOG";
/// Fault injection for the crash tests (docs/testing.md): after this many writes to the
/// storages (an object or file put or deleted), the process stops itself (SIGSTOP) so that a
/// test can kill it exactly between two writes. Unset: no effect.
pub const STOP_AFTER_WRITES: &str = "DARAA_OPS_STOP_AFTER_WRITES";

pub const MONGODB_URI: &str = "DARAA_OPS_MONGODB_URI";
pub const MONGODB_USERNAME: &str = "DARAA_OPS_MONGODB_USERNAME";
pub const MONGODB_PASSWORD_FILE: &str = "DARAA_OPS_MONGODB_PASSWORD_FILE";
pub const MONGODB_AUTH_SOURCE: &str = "DARAA_OPS_MONGODB_AUTH_SOURCE";
pub const DATABASE: &str = "DARAA_OPS_DATABASE";
pub const MONGODB_READ_PREFERENCE: &str = "DARAA_OPS_MONGODB_READ_PREFERENCE";
pub const MONGODB_ADMIN_USERNAME: &str = "DARAA_OPS_MONGODB_ADMIN_USERNAME";
pub const MONGODB_ADMIN_PASSWORD_FILE: &str = "DARAA_OPS_MONGODB_ADMIN_PASSWORD_FILE";

pub const BACKUP_DIR: &str = "DARAA_OPS_BACKUP_DIR";
/// One age identity file: replaces `backup.encryption.identity_files`.
pub const AGE_IDENTITY_FILE: &str = "DARAA_OPS_AGE_IDENTITY_FILE";

pub const REDIS_URL: &str = "DARAA_OPS_REDIS_URL";
pub const REDIS_PASSWORD_FILE: &str = "DARAA_OPS_REDIS_PASSWORD_FILE";
pub const REDIS_REQUIRED: &str = "DARAA_OPS_REDIS_REQUIRED";

pub const S3_BUCKET: &str = "DARAA_OPS_S3_BUCKET";
pub const S3_PREFIX: &str = "DARAA_OPS_S3_PREFIX";
pub const S3_ENDPOINT: &str = "DARAA_OPS_S3_ENDPOINT";
pub const S3_REGION: &str = "DARAA_OPS_S3_REGION";
pub const S3_FORCE_PATH_STYLE: &str = "DARAA_OPS_S3_FORCE_PATH_STYLE";
pub const S3_STORAGE_CLASS: &str = "DARAA_OPS_S3_STORAGE_CLASS";
pub const S3_SSE: &str = "DARAA_OPS_S3_SSE";
pub const S3_KMS_KEY_ID: &str = "DARAA_OPS_S3_KMS_KEY_ID";

pub const RETENTION_KEEP_DAYS: &str = "DARAA_OPS_RETENTION_KEEP_DAYS";
pub const RETENTION_KEEP_LAST: &str = "DARAA_OPS_RETENTION_KEEP_LAST";

pub const METRICS_TEXTFILE_DIR: &str = "DARAA_OPS_METRICS_TEXTFILE_DIR";

/// The variables `config show` and docs/configuration.md list, with the key each one overrides.
pub const OVERRIDES: &[(&str, &str)] = &[
    (MONGODB_URI, "mongodb.uri"),
    (MONGODB_USERNAME, "mongodb.username"),
    (MONGODB_PASSWORD_FILE, "mongodb.password_file"),
    (MONGODB_AUTH_SOURCE, "mongodb.auth_source"),
    (DATABASE, "mongodb.database"),
    (MONGODB_READ_PREFERENCE, "mongodb.read_preference"),
    (MONGODB_ADMIN_USERNAME, "mongodb.admin.username"),
    (MONGODB_ADMIN_PASSWORD_FILE, "mongodb.admin.password_file"),
    (BACKUP_DIR, "backup.dir"),
    (AGE_IDENTITY_FILE, "backup.encryption.identity_files"),
    (REDIS_URL, "redis.url"),
    (REDIS_PASSWORD_FILE, "redis.password_file"),
    (REDIS_REQUIRED, "redis.required"),
    (S3_BUCKET, "s3.bucket"),
    (S3_PREFIX, "s3.prefix"),
    (S3_ENDPOINT, "s3.endpoint"),
    (S3_REGION, "s3.region"),
    (S3_FORCE_PATH_STYLE, "s3.force_path_style"),
    (S3_STORAGE_CLASS, "s3.storage_class"),
    (S3_SSE, "s3.sse"),
    (S3_KMS_KEY_ID, "s3.kms_key_id"),
    (RETENTION_KEEP_DAYS, "retention.keep_days"),
    (RETENTION_KEEP_LAST, "retention.keep_last"),
    (METRICS_TEXTFILE_DIR, "metrics.textfile_dir"),
];

/// Where the loader reads variables from. Tests pass a map; the binary passes the process env.
pub trait EnvSource {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment. Empty values count as unset, as in most ops tools.
#[derive(Debug, Clone, Copy)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl<S: std::hash::BuildHasher> EnvSource for std::collections::HashMap<String, String, S> {
    fn get(&self, name: &str) -> Option<String> {
        self.get(name).cloned().filter(|v| !v.is_empty())
    }
}
