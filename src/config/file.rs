//! The shape of `daraa-ops.yaml` (docs/configuration.md): serde types with defaults, unknown keys refused.
//!
//! These types are the resolved configuration too: the loader fills them from the file, then
//! applies environment overrides and validates. Secrets are never stored here, only the paths of
//! the files that hold them (see `secrets.rs`), so serializing a `Config` cannot leak a password;
//! the one exception, credentials inside a URI, is redacted by `redact_uri` on output.

use std::path::PathBuf;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::secrets::SecretFile;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub mongodb: MongoConfig,
    pub redis: Option<RedisConfig>,
    pub s3: Option<S3Config>,
    pub backup: BackupConfig,
    /// Continuous oplog archiving (`pitr push`, docs/pitr.md).
    pub pitr: PitrConfig,
    pub restore: RestoreConfig,
    pub retention: RetentionConfig,
    pub lock: LockConfig,
    pub users: Vec<UserSpec>,
    pub roles: Vec<RoleSpec>,
    pub indexes: IndexesConfig,
    pub cleanup: CleanupConfig,
    pub schedule: ScheduleConfig,
    pub metrics: MetricsConfig,
    pub drill: DrillConfig,
    pub masking: MaskingConfig,
    pub notify: NotifyConfig,
}

/// `notify:` — a message per failed or partial job to webhooks (docs/monitoring.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    pub webhooks: Vec<Webhook>,
    /// Also send a message when a job succeeds. Default: false.
    pub on_success: bool,
    /// Per request. Default: 10s.
    #[serde(with = "humantime_serde_compat")]
    pub timeout: std::time::Duration,
    /// Tries per webhook before giving up (logged; the job's exit code stands). Default: 3.
    pub attempts: u32,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            webhooks: Vec::new(),
            on_success: false,
            timeout: std::time::Duration::from_secs(10),
            attempts: 3,
        }
    }
}

/// One webhook: its URL is a secret, read from a file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// `slack` (`{"text": …}`, also Mattermost, Rocket.Chat, Teams' incoming webhooks of that
    /// shape) or `json` (the whole event).
    pub kind: WebhookKind,
    pub url_file: SecretFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookKind {
    Slack,
    Json,
}

/// `masking:` — rules applied by `restore --mask` and `drill --mask` (docs/masking.md).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaskingConfig {
    /// The HMAC key (a secret, at least 16 bytes): the same key gives the same masked values.
    pub key_file: Option<SecretFile>,
    /// Databases that must only ever hold masked data: a restore into one without `--mask` is
    /// refused.
    pub staging_databases: Vec<String>,
    /// Per collection, per field path (dotted; arrays on the way apply to each element): the rule.
    pub collections: IndexMap<String, IndexMap<String, MaskRuleSpec>>,
    /// Collections without personal fields, copied without field rules by a masked restore
    /// (their strings are still scanned for personal data in free text). A collection neither
    /// here nor under `collections` is refused by `restore --mask`.
    pub copy_as_is: Vec<String>,
}

/// A rule: its name (`hash`), or a map with the name and its options
/// (`{rule: shift_date, max_days: 30}`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum MaskRuleSpec {
    Short(MaskKind),
    Full(MaskRuleFull),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskKind {
    Hash,
    Fake,
    Redact,
    Null,
    Remove,
    ShiftDate,
    RoundGeo,
    Keep,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MaskRuleFull {
    pub rule: MaskKind,
    /// `shift_date`: the largest shift, in days (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days: Option<u32>,
    /// `round_geo`: the grid, in degrees (default 0.01, about 1 km).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<f64>,
    /// `redact`: the constant (default `REDACTED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DrillConfig {
    /// Queries run against the restored scratch database; each must match at least
    /// `min_documents` documents.
    pub queries: Vec<DrillQuery>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DrillQuery {
    pub name: String,
    pub collection: String,
    #[serde(default)]
    pub filter: IndexMap<String, serde_json::Value>,
    #[serde(default = "one")]
    pub min_documents: u64,
}

fn one() -> u64 {
    1
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MongoConfig {
    /// Empty means "not configured"; the loader reports it for commands that connect.
    #[serde(serialize_with = "ser_redacted_uri")]
    pub uri: String,
    pub username: Option<String>,
    pub password_file: Option<SecretFile>,
    /// Authentication database for `username`; default: the URI's authSource, else `admin`.
    pub auth_source: Option<String>,
    pub database: String,
    pub read_preference: Option<ReadPreference>,
    pub app_name: String,
    #[serde(with = "humantime_serde_compat")]
    pub server_selection_timeout: std::time::Duration,
    #[serde(with = "humantime_serde_compat")]
    pub connect_timeout: std::time::Duration,
    pub admin: Option<AdminCredentials>,
    /// Per-job accounts (least privilege): a job without an entry uses `username` above.
    pub jobs: JobAccounts,
}

/// `mongodb.jobs`: one account per job, each with exactly the role its job needs
/// (config/daraa-ops.example.yaml defines the roles; docs/troubleshooting.md lists the actions).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobAccounts {
    pub backup: Option<AdminCredentials>,
    pub restore: Option<AdminCredentials>,
    pub drill: Option<AdminCredentials>,
    pub cleanup: Option<AdminCredentials>,
    pub stats: Option<AdminCredentials>,
    pub indexes: Option<AdminCredentials>,
}

impl JobAccounts {
    /// `(job, account, key of its password file)` for every job, in a fixed order.
    pub fn all(&self) -> [(&'static str, Option<&AdminCredentials>, &'static str); 6] {
        [
            ("backup", self.backup.as_ref(), "mongodb.jobs.backup.password_file"),
            ("restore", self.restore.as_ref(), "mongodb.jobs.restore.password_file"),
            ("drill", self.drill.as_ref(), "mongodb.jobs.drill.password_file"),
            ("cleanup", self.cleanup.as_ref(), "mongodb.jobs.cleanup.password_file"),
            ("stats", self.stats.as_ref(), "mongodb.jobs.stats.password_file"),
            ("indexes", self.indexes.as_ref(), "mongodb.jobs.indexes.password_file"),
        ]
    }

    /// A job's own account, with the key of its password file.
    pub fn get(&self, job: &str) -> Option<(&AdminCredentials, &'static str)> {
        self.all()
            .into_iter()
            .find(|(j, _, _)| *j == job)
            .and_then(|(_, a, key)| a.map(|a| (a, key)))
    }
}

impl Default for MongoConfig {
    fn default() -> Self {
        MongoConfig {
            uri: String::new(),
            username: None,
            password_file: None,
            auth_source: None,
            database: "daraa".into(),
            read_preference: None,
            app_name: "daraa-ops".into(),
            server_selection_timeout: std::time::Duration::from_secs(10),
            connect_timeout: std::time::Duration::from_secs(5),
            admin: None,
            jobs: JobAccounts::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ReadPreference {
    Primary,
    PrimaryPreferred,
    Secondary,
    SecondaryPreferred,
    Nearest,
}

impl std::str::FromStr for ReadPreference {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "primary" => ReadPreference::Primary,
            "primaryPreferred" => ReadPreference::PrimaryPreferred,
            "secondary" => ReadPreference::Secondary,
            "secondaryPreferred" => ReadPreference::SecondaryPreferred,
            "nearest" => ReadPreference::Nearest,
            _ => {
                return Err("expected primary, primaryPreferred, secondary, \
                            secondaryPreferred or nearest"
                    .into());
            }
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdminCredentials {
    pub username: String,
    pub password_file: Option<SecretFile>,
    #[serde(default = "default_admin_db")]
    pub auth_source: String,
}

fn default_admin_db() -> String {
    "admin".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    #[serde(serialize_with = "ser_redacted_uri")]
    pub url: String,
    pub password_file: Option<SecretFile>,
    /// When false, an unreachable Redis is reported and the command goes on (file lock, no
    /// cache invalidation); when true it is an error (exit 3).
    pub required: bool,
    pub cache_prefixes: Vec<String>,
    /// Prefix of the keys daraa-ops itself writes (locks, last-run records).
    pub key_prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            url: "redis://127.0.0.1:6379/0".into(),
            password_file: None,
            required: false,
            cache_prefixes: [
                "product:",
                "store:",
                "category:",
                "user:",
                "cart:",
                "order:",
                "settings:",
            ]
            .map(String::from)
            .to_vec(),
            key_prefix: "daraa-ops:".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    pub bucket: String,
    pub prefix: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub force_path_style: bool,
    pub storage_class: Option<String>,
    pub sse: Option<String>,
    pub kms_key_id: Option<String>,
    /// Multipart part size in MiB; default: the smallest that lets 10,000 parts cover the archive.
    pub part_size_mib: Option<u64>,
    pub max_attempts: Option<u32>,
}

pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "GLACIER_IR",
    "DEEP_ARCHIVE",
    "REDUCED_REDUNDANCY",
];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupConfig {
    pub dir: PathBuf,
    pub name_prefix: String,
    pub keep_local: bool,
    pub include_collections: Vec<String>,
    pub exclude_collections: Vec<String>,
    /// Collections read at once (mongodump's --numParallelCollections).
    pub parallel_collections: usize,
    /// Documents per cursor batch at most; a batch also holds only about 512 KiB (documents
    /// per batch from the median size of the collection's first documents), so with
    /// `parallel_collections` it bounds the memory of a dump whatever the documents weigh.
    pub batch_size: u32,
    /// `gzip` (default: a `.tar.gz` every reader opens) or `zstd` (a `.tar.zst` with about
    /// 0.6× the gzip backup's client CPU and a slightly smaller archive; read by daraa-ops and
    /// by `zstd -dc | tar x`; tar format only, since mongorestore reads gzip archives only).
    pub compression: Compression,
    /// The level of `compression`: gzip 1-9 (default 5), zstd 1-19 (default 1).
    pub compression_level: Option<u32>,
    /// Compression threads; 0 means one per core.
    pub compression_threads: usize,
    /// A backup holding fewer documents than `1 - max_shrink` of the previous complete one is
    /// kept but marked `shrunk`, exits 6 and does not count towards `keep_last` or `latest`
    /// (an accidental mass delete cannot rotate the good backups away). 0 turns it off.
    pub max_shrink: f64,
    /// `tar` (default): a `.tar.gz` in mongodump's folder layout; `archive`: a `.archive.gz` in
    /// mongodump's archive format, written as the dump runs (no raw collection staged on disk).
    pub format: BackupFormat,
    /// Client-side encryption with age (docs/encryption.md).
    pub encryption: EncryptionConfig,
    /// The oplog written while the dump runs, in the archive (docs/pitr.md): `auto` (default:
    /// where the server keeps one the backup user may read), `true` (a backup without it
    /// fails), `false`.
    pub oplog: OplogMode,
}

impl BackupConfig {
    /// The level of `compression`.
    pub fn level(&self) -> u32 {
        self.compression_level.unwrap_or(self.compression.default_level())
    }

    /// The gzip level of what is always gzip (the archive format, oplog chunks): the
    /// configured level when the backup is gzip too, gzip's default otherwise.
    pub fn gzip_level(&self) -> u32 {
        match self.compression {
            Compression::Gzip => self.level(),
            Compression::Zstd => Compression::Gzip.default_level(),
        }
    }
    /// Whether a backup takes this collection (`include_collections`, `exclude_collections`).
    pub fn takes(&self, collection: &str) -> bool {
        (self.include_collections.is_empty()
            || self.include_collections.iter().any(|c| c == collection))
            && !self.exclude_collections.iter().any(|c| c == collection)
    }
}

/// `pitr`: how `pitr push` cuts the oplog into chunks.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PitrConfig {
    /// A chunk spans at most this many seconds of oplog; the pusher (without `--once`) runs
    /// again after as long: the recovery point is about this old.
    pub span_seconds: u64,
    /// A chunk holds at most this many MiB of raw entries.
    pub max_chunk_mib: u64,
}

impl Default for PitrConfig {
    fn default() -> Self {
        PitrConfig { span_seconds: 60, max_chunk_mib: 16 }
    }
}

/// `backup.oplog`: `auto`, `true` or `false`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OplogMode {
    #[default]
    Auto,
    On,
    Off,
}

impl<'de> Deserialize<'de> for OplogMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Flag(true) => Ok(OplogMode::On),
            Raw::Flag(false) => Ok(OplogMode::Off),
            Raw::Word(w) if w == "auto" => Ok(OplogMode::Auto),
            Raw::Word(w) => {
                Err(serde::de::Error::custom(format!("{w:?} is not auto, true or false")))
            }
        }
    }
}

impl Serialize for OplogMode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OplogMode::Auto => s.serialize_str("auto"),
            OplogMode::On => s.serialize_bool(true),
            OplogMode::Off => s.serialize_bool(false),
        }
    }
}

/// `backup.encryption`: the age recipients new archives and cleanup parts are encrypted to,
/// and the identities (private keys) that read encrypted backups back.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncryptionConfig {
    /// `age1…` public keys. Several are allowed (an offline recovery key beside the daily one).
    pub recipients: Vec<String>,
    /// Files of `age1…` keys, one per line (`#` comments): public, no mode check.
    pub recipients_files: Vec<PathBuf>,
    /// age identity files (`age-keygen` output) for verify, restore, drill, import, mask
    /// check and rekey: secrets, mode 0600. `DARAA_OPS_AGE_IDENTITY_FILE` replaces the list.
    pub identity_files: Vec<SecretFile>,
}

impl EncryptionConfig {
    /// Whether new archives are encrypted.
    pub fn enabled(&self) -> bool {
        !self.recipients.is_empty() || !self.recipients_files.is_empty()
    }
}

/// The container of a backup (docs/archive-format.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupFormat {
    #[default]
    Tar,
    Archive,
}

/// How a tar backup is compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Gzip,
    Zstd,
}

impl Compression {
    /// The level used when `backup.compression_level` is not set.
    pub fn default_level(self) -> u32 {
        match self {
            Compression::Gzip => 5,
            Compression::Zstd => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The levels `backup.compression_level` takes.
    pub fn levels(self) -> std::ops::RangeInclusive<u32> {
        match self {
            Compression::Gzip => 1..=9,
            Compression::Zstd => 1..=19,
        }
    }
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            dir: PathBuf::from("./backups"),
            name_prefix: "daraa".into(),
            keep_local: true,
            include_collections: Vec::new(),
            exclude_collections: Vec::new(),
            parallel_collections: 4,
            batch_size: 1000,
            compression: Compression::Gzip,
            compression_level: None,
            compression_threads: 0,
            max_shrink: 0.5,
            format: BackupFormat::Tar,
            encryption: EncryptionConfig::default(),
            oplog: OplogMode::Auto,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestoreConfig {
    /// Databases a restore refuses to write into without `--force-protected`.
    pub protected_databases: Vec<String>,
    pub parallel_collections: usize,
    pub insertion_workers: usize,
}

impl Default for RestoreConfig {
    fn default() -> Self {
        RestoreConfig {
            protected_databases: Vec::new(),
            parallel_collections: 2,
            insertion_workers: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Keep backups younger than this many days; `null` (`none` in the environment): no age
    /// rule, only the counting and calendar rules. `0` is refused: it reads as "forever" to
    /// some and as "none" to others.
    pub keep_days: Option<u32>,
    pub keep_last: u32,
    pub keep_daily: u32,
    pub keep_weekly: u32,
    pub keep_monthly: u32,
    /// Keep the newest backup whose last drill passed, whatever the other rules say: the
    /// newest backup known to restore is never rotated away. Default: true.
    pub keep_drilled: bool,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            keep_days: Some(30),
            keep_last: 3,
            keep_daily: 0,
            keep_weekly: 0,
            keep_monthly: 0,
            keep_drilled: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LockConfig {
    /// How long a lock lives without renewal; a crashed run's lock expires after this.
    #[serde(with = "humantime_serde_compat")]
    pub ttl: std::time::Duration,
    /// Folder of the file lock used without Redis; default: the backup directory.
    pub dir: Option<PathBuf>,
}

impl Default for LockConfig {
    fn default() -> Self {
        LockConfig { ttl: std::time::Duration::from_secs(120), dir: None }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub name: String,
    #[serde(default = "default_admin_db")]
    pub db: String,
    #[serde(default)]
    pub roles: Vec<RoleRef>,
    pub password_file: Option<SecretFile>,
    /// Name of an environment variable that holds the path of the password file.
    pub password_file_env: Option<String>,
    #[serde(default = "default_mechanisms")]
    pub mechanisms: Vec<String>,
}

fn default_mechanisms() -> Vec<String> {
    vec!["SCRAM-SHA-256".into()]
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRef {
    pub role: String,
    pub db: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub role: String,
    #[serde(default = "default_admin_db")]
    pub db: String,
    #[serde(default)]
    pub privileges: Vec<Privilege>,
    #[serde(default)]
    pub roles: Vec<RoleRef>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Privilege {
    pub resource: Resource,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub db: Option<String>,
    pub collection: Option<String>,
    #[serde(default)]
    pub cluster: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexesConfig {
    /// Index spec file; relative paths resolve against the config file's folder.
    pub spec: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CleanupConfig {
    pub batch_size: u32,
    #[serde(with = "humantime_serde_compat")]
    pub sleep_between_batches: std::time::Duration,
    #[serde(with = "humantime_serde_opt", skip_serializing_if = "Option::is_none")]
    pub max_run_time: Option<std::time::Duration>,
    /// With a replica set, batches pause while a secondary lags more than this.
    #[serde(with = "humantime_serde_compat")]
    pub max_secondary_lag: std::time::Duration,
    /// Folder for `archive_to: local` when a rule names none.
    pub archive_dir: Option<PathBuf>,
    pub rules: Vec<CleanupRule>,
}

impl Default for CleanupConfig {
    fn default() -> Self {
        CleanupConfig {
            batch_size: 1000,
            sleep_between_batches: std::time::Duration::ZERO,
            max_run_time: None,
            max_secondary_lag: std::time::Duration::from_secs(10),
            archive_dir: None,
            rules: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CleanupRule {
    pub name: String,
    pub collection: String,
    /// A MongoDB query, written in YAML, combined with the age condition.
    #[serde(default)]
    pub filter: Option<IndexMap<String, serde_json::Value>>,
    pub age_field: String,
    #[serde(with = "humantime_serde_compat")]
    pub older_than: std::time::Duration,
    pub action: CleanupAction,
    pub archive_to: Option<ArchiveTarget>,
    pub archive_dir: Option<PathBuf>,
    pub archive_collection: Option<String>,
    #[serde(default)]
    pub invalidate_prefixes: Vec<String>,
    pub batch_size: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CleanupAction {
    Delete,
    Archive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchiveTarget {
    S3,
    Local,
    Collection,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleConfig {
    pub backup: Option<String>,
    pub cleanup: Option<String>,
    pub archive: Option<String>,
    pub maintenance: Option<String>,
    pub drill: Option<String>,
}

impl ScheduleConfig {
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("backup", &self.backup),
            ("cleanup", &self.cleanup),
            ("archive", &self.archive),
            ("maintenance", &self.maintenance),
            ("drill", &self.drill),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// node_exporter textfile collector folder; unset means no metrics files.
    pub textfile_dir: Option<PathBuf>,
}

fn ser_redacted_uri<S: serde::Serializer>(uri: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::redact::redact_uri(uri))
}

/// Durations written as `90d`, `10s`, `1h30m`.
mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(text.trim()).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid duration {text:?} ({e}); write e.g. 90d, 12h, 30s"
            ))
        })
    }
}

mod humantime_serde_opt {
    use serde::{Deserializer, Serializer};

    #[allow(clippy::ref_option)] // serde's `with` passes `&Option<T>`
    pub fn serialize<S: Serializer>(
        d: &Option<std::time::Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::humantime_serde_compat::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<std::time::Duration>, D::Error> {
        super::humantime_serde_compat::deserialize(d).map(Some)
    }
}
