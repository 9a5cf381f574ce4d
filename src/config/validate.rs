//! Semantic checks the YAML types cannot express: ranges, combinations, names, cron syntax.
//!
//! Each failure names the key (`cleanup.rules[2].archive_to`) and, through the caller, the file.

use std::collections::HashSet;
use std::path::Path;

use super::{
    ArchiveTarget, BackupFormat, CleanupAction, Compression, Config, ConfigError, STORAGE_CLASSES,
};

/// Builds the error for a key.
type Bad<'a> = dyn Fn(&str, String) -> ConfigError + 'a;

pub(super) fn validate(c: &Config, path: Option<&Path>) -> Result<(), ConfigError> {
    let bad = |key: &str, message: String| ConfigError::Invalid {
        path: path.map(Path::to_path_buf),
        key: key.to_owned(),
        message,
    };
    mongodb(c, &bad)?;
    redis(c, &bad)?;
    s3(c, &bad)?;
    backup(c, &bad)?;
    retention_and_lock(c, &bad)?;
    users_and_roles(c, &bad)?;
    cleanup(c, &bad)?;
    schedule(c, &bad)?;
    masking(c, &bad)?;
    encryption(c, &bad)?;
    Ok(())
}

/// Inline recipients must parse (files are read when a backup runs: `config check` reads them
/// too).
fn encryption(c: &Config, bad: &Bad<'_>) -> Result<(), ConfigError> {
    for (i, r) in c.backup.encryption.recipients.iter().enumerate() {
        if <age::x25519::Recipient as std::str::FromStr>::from_str(r.trim()).is_err() {
            let shown: String = r.chars().take(12).collect();
            return Err(bad(
                &format!("backup.encryption.recipients[{i}]"),
                format!(
                    "{shown}… is not an age X25519 public key (age1…, from `age-keygen -y KEYFILE`)"
                ),
            ));
        }
    }
    Ok(())
}

fn masking(c: &Config, bad: &Bad<'_>) -> Result<(), ConfigError> {
    use super::{MaskKind, MaskRuleSpec};
    for (i, name) in c.masking.copy_as_is.iter().enumerate() {
        let key = format!("masking.copy_as_is[{i}]");
        check_collection_name(name).map_err(|m| bad(&key, m))?;
        if c.masking.collections.contains_key(name) {
            return Err(bad(
                &key,
                format!("{name} has rules under masking.collections; list it in one place"),
            ));
        }
    }
    let m = &c.masking;
    if !m.collections.is_empty() && m.key_file.is_none() {
        return Err(bad(
            "masking.key_file",
            "is required when masking.collections has rules (a secret of at least 16 bytes)".into(),
        ));
    }
    for (i, db) in m.staging_databases.iter().enumerate() {
        check_db_name(db).map_err(|msg| bad(&format!("masking.staging_databases[{i}]"), msg))?;
        if *db == c.mongodb.database {
            return Err(bad(
                &format!("masking.staging_databases[{i}]"),
                format!(
                    "{db} is mongodb.database, the live database; masked data never goes there"
                ),
            ));
        }
    }
    for (collection, fields) in &m.collections {
        check_collection_name(collection)
            .map_err(|msg| bad(&format!("masking.collections.{collection}"), msg))?;
        for (path, spec) in fields {
            let key = format!("masking.collections.{collection}.{path}");
            if path.is_empty() || path.split('.').any(|p| p.is_empty() || p.starts_with('$')) {
                return Err(bad(&key, "is not a field path (a.b.c, no empty part, no $)".into()));
            }
            let MaskRuleSpec::Full(f) = spec else { continue };
            let allowed = match f.rule {
                MaskKind::ShiftDate => f.grid.is_none() && f.value.is_none(),
                MaskKind::RoundGeo => f.max_days.is_none() && f.value.is_none(),
                MaskKind::Redact => f.max_days.is_none() && f.grid.is_none(),
                _ => f.max_days.is_none() && f.grid.is_none() && f.value.is_none(),
            };
            if !allowed {
                return Err(bad(
                    &key,
                    "has an option its rule does not take (max_days: shift_date, grid: round_geo, value: redact)".into(),
                ));
            }
            if f.max_days == Some(0) || f.max_days.is_some_and(|d| d > MAX_DAYS) {
                return Err(bad(&key, format!("max_days must be between 1 and {MAX_DAYS}")));
            }
            if f.grid.is_some_and(|g| !(g > 0.0 && g <= 10.0)) {
                return Err(bad(&key, "grid must be more than 0 and at most 10 degrees".into()));
            }
        }
    }
    Ok(())
}

fn mongodb(c: &Config, bad: &Bad<'_>) -> Result<(), ConfigError> {
    let m = &c.mongodb;
    if m.uri.is_empty() {
        return Err(ConfigError::Missing {
            key: "mongodb.uri".into(),
            hint: "set mongodb.uri in the config file or DARAA_OPS_MONGODB_URI, \
                   e.g. mongodb://127.0.0.1:27017/?authSource=admin"
                .into(),
        });
    }
    if !(m.uri.starts_with("mongodb://") || m.uri.starts_with("mongodb+srv://")) {
        return Err(bad("mongodb.uri", "must start with mongodb:// or mongodb+srv://".into()));
    }
    check_db_name(&m.database).map_err(|msg| bad("mongodb.database", msg))?;
    match (&m.username, &m.password_file) {
        (Some(_), None) => {
            return Err(bad(
                "mongodb.password_file",
                "is required when mongodb.username is set".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(bad(
                "mongodb.username",
                "is required when mongodb.password_file is set".into(),
            ));
        }
        _ => {}
    }
    if let Some(admin) = &m.admin {
        if admin.username.is_empty() {
            return Err(bad("mongodb.admin.username", "must not be empty".into()));
        }
        if admin.password_file.is_none() {
            return Err(bad(
                "mongodb.admin.password_file",
                "is required (root password secrets file)".into(),
            ));
        }
    }
    if m.server_selection_timeout.is_zero() {
        return Err(bad("mongodb.server_selection_timeout", "must be greater than 0".into()));
    }
    Ok(())
}

fn redis(c: &Config, bad: &Bad<'_>) -> Result<(), ConfigError> {
    if let Some(r) = &c.redis {
        if !(r.url.starts_with("redis://") || r.url.starts_with("rediss://")) {
            return Err(bad("redis.url", "must start with redis:// or rediss://".into()));
        }
        if let Some(i) = r.cache_prefixes.iter().position(|p| p.trim().is_empty()) {
            return Err(bad(
                &format!("redis.cache_prefixes[{i}]"),
                "must not be empty (it would match every key)".into(),
            ));
        }
    }
    Ok(())
}

fn s3(c: &Config, bad: &Bad<'_>) -> Result<(), ConfigError> {
    if let Some(s) = &c.s3 {
        if s.bucket.is_empty() {
            return Err(bad("s3.bucket", "must be set when the s3 section is present".into()));
        }
        if let Some(e) = &s.endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            return Err(bad(
                "s3.endpoint",
                format!("must be an http:// or https:// URL, got {e:?}"),
            ));
        }
        match (s.sse.as_deref(), &s.kms_key_id) {
            (None | Some("AES256"), None) | (Some("aws:kms"), _) => {}
            (Some("AES256") | None, Some(_)) => {
                return Err(bad("s3.kms_key_id", "is only used with sse: aws:kms".into()));
            }
            (Some(other), _) => {
                return Err(bad("s3.sse", format!("expected AES256 or aws:kms, got {other:?}")));
            }
        }
        if let Some(sc) = &s.storage_class
            && !STORAGE_CLASSES.contains(&sc.as_str())
        {
            return Err(bad(
                "s3.storage_class",
                format!("unknown class {sc:?}; one of {}", STORAGE_CLASSES.join(", ")),
            ));
        }
        if let Some(p) = s.part_size_mib
            && !(5..=5120).contains(&p)
        {
            return Err(bad("s3.part_size_mib", "must be between 5 and 5120 (S3 limits)".into()));
        }
        if s.max_attempts == Some(0) {
            return Err(bad("s3.max_attempts", "must be at least 1".into()));
        }
    }
    Ok(())
}

fn backup(c: &Config, bad: &Bad<'_>) -> Result<(), ConfigError> {
    let b = &c.backup;
    if b.name_prefix.is_empty()
        || !b.name_prefix.chars().all(|ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch))
    {
        return Err(bad(
            "backup.name_prefix",
            "must be non-empty letters, digits, '_', '.' or '-'".into(),
        ));
    }
    let levels = b.compression.levels();
    if !levels.contains(&b.level()) {
        return Err(bad(
            "backup.compression_level",
            format!(
                "must be between {} and {} for {}",
                levels.start(),
                levels.end(),
                b.compression.name()
            ),
        ));
    }
    if b.compression == Compression::Zstd && b.format == BackupFormat::Archive {
        return Err(bad(
            "backup.compression",
            "zstd is for `format: tar` only (mongorestore reads gzip'd archives only); use gzip with `format: archive`".into(),
        ));
    }
    if !(1..=100_000).contains(&b.batch_size) {
        return Err(bad("backup.batch_size", "must be between 1 and 100000".into()));
    }
    if !(0.0..1.0).contains(&b.max_shrink) {
        return Err(bad(
            "backup.max_shrink",
            format!("{} is not a fraction from 0 (off) to below 1, e.g. 0.5", b.max_shrink),
        ));
    }
    if b.parallel_collections == 0 {
        return Err(bad("backup.parallel_collections", "must be at least 1".into()));
    }
    if !(1..=86_400).contains(&c.pitr.span_seconds) {
        return Err(bad("pitr.span_seconds", "must be between 1 and 86400".into()));
    }
    if !(1..=1024).contains(&c.pitr.max_chunk_mib) {
        return Err(bad("pitr.max_chunk_mib", "must be between 1 and 1024".into()));
    }
    if c.restore.parallel_collections == 0 {
        return Err(bad("restore.parallel_collections", "must be at least 1".into()));
    }
    if c.restore.insertion_workers == 0 {
        return Err(bad("restore.insertion_workers", "must be at least 1".into()));
    }
    Ok(())
}

/// A hundred years: the longest age any setting may name (times are computed with dates that
/// end at year 9999).
pub const MAX_DAYS: u32 = 36_500;

fn retention_and_lock(c: &Config, bad: &Bad<'_>) -> Result<(), ConfigError> {
    let r = &c.retention;
    if r.keep_last == 0 {
        return Err(bad(
            "retention.keep_last",
            "must be at least 1: the newest backup is always kept".into(),
        ));
    }
    // 0 reads as "forever" to some and as "no age rule" to others; the second would delete
    // every backup but the keep_last newest.
    if r.keep_days == Some(0) {
        return Err(bad(
            "retention.keep_days",
            "0 is ambiguous (forever? none?): give the days to keep, or null for no age rule (keep_last and the calendar rules alone)".into(),
        ));
    }
    for (key, value) in [
        ("keep_days", r.keep_days.unwrap_or(0)),
        ("keep_last", r.keep_last),
        ("keep_daily", r.keep_daily),
        ("keep_weekly", r.keep_weekly),
        ("keep_monthly", r.keep_monthly),
    ] {
        if value > MAX_DAYS {
            return Err(bad(
                &format!("retention.{key}"),
                format!("{value} is more than {MAX_DAYS} (a hundred years of daily backups)"),
            ));
        }
    }
    if c.lock.ttl < std::time::Duration::from_secs(10) {
        return Err(bad("lock.ttl", "must be at least 10s".into()));
    }
    if c.lock.ttl > std::time::Duration::from_secs(86_400) {
        return Err(bad("lock.ttl", "must be at most 24h".into()));
    }
    Ok(())
}

fn users_and_roles(c: &Config, bad: &Bad<'_>) -> Result<(), ConfigError> {
    let mut seen = HashSet::new();
    for (i, u) in c.users.iter().enumerate() {
        let key = |k: &str| format!("users[{i}].{k}");
        if u.name.is_empty() {
            return Err(bad(&key("name"), "must not be empty".into()));
        }
        if !seen.insert((&u.name, &u.db)) {
            return Err(bad(&key("name"), format!("user {}@{} is listed twice", u.name, u.db)));
        }
        match (&u.password_file, &u.password_file_env) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    &key("password_file"),
                    "set password_file or password_file_env, not both".into(),
                ));
            }
            (None, None) => {
                return Err(bad(
                    &key("password_file"),
                    format!("user {} needs password_file or password_file_env", u.name),
                ));
            }
            _ => {}
        }
        if u.mechanisms.is_empty() {
            return Err(bad(&key("mechanisms"), "must list at least one mechanism".into()));
        }
        if let Some(mech) =
            u.mechanisms.iter().find(|m| !matches!(m.as_str(), "SCRAM-SHA-256" | "SCRAM-SHA-1"))
        {
            return Err(bad(
                &key("mechanisms"),
                format!("unknown mechanism {mech:?}; SCRAM-SHA-256 or SCRAM-SHA-1"),
            ));
        }
        if let Some(j) = u.roles.iter().position(|r| r.role.is_empty() || r.db.is_empty()) {
            return Err(bad(
                &format!("users[{i}].roles[{j}]"),
                "role and db must not be empty".into(),
            ));
        }
    }
    let mut seen = HashSet::new();
    for (i, r) in c.roles.iter().enumerate() {
        if r.role.is_empty() || !seen.insert((&r.role, &r.db)) {
            return Err(bad(&format!("roles[{i}].role"), "must be non-empty and unique".into()));
        }
        for (j, p) in r.privileges.iter().enumerate() {
            let res = &p.resource;
            if res.cluster == res.db.is_some() || (res.collection.is_some() && res.db.is_none()) {
                return Err(bad(
                    &format!("roles[{i}].privileges[{j}].resource"),
                    "must be {cluster: true} or {db: NAME, collection: NAME}".into(),
                ));
            }
            if p.actions.is_empty() {
                return Err(bad(
                    &format!("roles[{i}].privileges[{j}].actions"),
                    "must not be empty".into(),
                ));
            }
        }
    }
    Ok(())
}

fn cleanup(c: &Config, bad: &Bad<'_>) -> Result<(), ConfigError> {
    let cl = &c.cleanup;
    if !(1..=100_000).contains(&cl.batch_size) {
        return Err(bad("cleanup.batch_size", "must be between 1 and 100000".into()));
    }
    let mut seen = HashSet::new();
    for (i, r) in cl.rules.iter().enumerate() {
        let key = |k: &str| format!("cleanup.rules[{i}].{k}");
        if r.name.is_empty() || !seen.insert(&r.name) {
            return Err(bad(
                &key("name"),
                format!("rule names must be non-empty and unique ({:?})", r.name),
            ));
        }
        check_collection_name(&r.collection).map_err(|m| bad(&key("collection"), m))?;
        if r.age_field.is_empty() {
            return Err(bad(&key("age_field"), "must not be empty".into()));
        }
        if r.older_than.is_zero() {
            return Err(bad(&key("older_than"), "must be greater than 0".into()));
        }
        if r.older_than > std::time::Duration::from_secs(u64::from(MAX_DAYS) * 86_400) {
            return Err(bad(&key("older_than"), format!("must be at most {MAX_DAYS}d")));
        }
        // A blank prefix matches every Redis key, daraa-ops' own locks included.
        if let Some(j) = r.invalidate_prefixes.iter().position(|p| p.trim().is_empty()) {
            return Err(bad(
                &key(&format!("invalidate_prefixes[{j}]")),
                "must not be blank (it would match every key, the job's own lock included)".into(),
            ));
        }
        if let Some(b) = r.batch_size
            && !(1..=100_000).contains(&b)
        {
            return Err(bad(&key("batch_size"), "must be between 1 and 100000".into()));
        }
        match (r.action, r.archive_to) {
            (CleanupAction::Archive, None) => {
                return Err(bad(
                    &key("archive_to"),
                    "action archive needs archive_to: s3, local or collection".into(),
                ));
            }
            (CleanupAction::Delete, Some(_)) => {
                return Err(bad(&key("archive_to"), "is only used with action: archive".into()));
            }
            (CleanupAction::Archive, Some(ArchiveTarget::S3)) if c.s3.is_none() => {
                return Err(bad(&key("archive_to"), "archive_to: s3 needs the s3 section".into()));
            }
            (CleanupAction::Archive, Some(ArchiveTarget::Collection))
                if r.archive_collection.is_none() =>
            {
                return Err(bad(
                    &key("archive_collection"),
                    "archive_to: collection needs archive_collection".into(),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn schedule(c: &Config, bad: &Bad<'_>) -> Result<(), ConfigError> {
    for (name, expr) in c.schedule.entries() {
        check_cron(expr).map_err(|m| bad(&format!("schedule.{name}"), m))?;
    }
    Ok(())
}

/// Database names every MongoDB-compatible server takes: ASCII letters, digits, `_` and `-`,
/// 1 to 63 bytes. MongoDB itself takes more (not `/\\. "$*<>:|?` or NUL); FerretDB takes
/// exactly these, so a name outside them would fail half-way on one server and not another.
pub fn check_db_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err("must be 1 to 63 bytes".into());
    }
    if let Some(ch) = name.chars().find(|ch| !(ch.is_ascii_alphanumeric() || "_-".contains(*ch))) {
        return Err(format!(
            "must not contain {ch:?}: database names are ASCII letters, digits, _ and -"
        ));
    }
    Ok(())
}

/// Databases the server itself uses: never a restore's target.
pub const SYSTEM_DATABASES: [&str; 3] = ["admin", "local", "config"];

/// A database a restore may write: a valid name that is not one of the server's own.
pub fn check_restore_target(name: &str) -> Result<(), String> {
    check_db_name(name)?;
    if SYSTEM_DATABASES.contains(&name) {
        return Err(format!(
            "{name} is the server's own database (users, the oplog, sharding); restores never write it"
        ));
    }
    Ok(())
}

pub fn check_collection_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.contains('\0') || name.starts_with("system.") || name.contains('$') {
        return Err(format!("{name:?} is not a collection name a rule may touch"));
    }
    Ok(())
}

/// Five-field cron, as crontab(5) reads it.
pub fn check_cron(expr: &str) -> Result<(), String> {
    let fields = expr.split_whitespace().count();
    if fields != 5 {
        return Err(format!(
            "{expr:?} has {fields} fields; cron needs 5 (minute hour day-of-month month day-of-week)"
        ));
    }
    croner::parser::CronParser::new().parse(expr).map(|_| ()).map_err(|e| format!("{expr:?}: {e}"))
}
