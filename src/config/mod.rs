//! Configuration: find the file, parse it, apply `DARAA_OPS_*` overrides, validate (docs/configuration.md).
//!
//! Layering is file < environment < command flags; commands apply their own flags on top of the
//! returned [`Config`]. Nothing here connects to anything, and nothing here reads a secret's value
//! except [`Loaded::check_secrets`], which `config check` calls.

pub mod env_vars;
mod env_vars_apply;
mod file;
pub mod redact;
pub mod secrets;
mod validate;

use std::path::{Path, PathBuf};

pub use file::*;
pub use secrets::SecretFile;
pub use validate::{
    SYSTEM_DATABASES, check_collection_name, check_cron, check_db_name, check_restore_target,
};

use env_vars::EnvSource;

/// Where the default config file is looked for, in order, when neither `--config` nor
/// `DARAA_OPS_CONFIG` names one.
pub const DEFAULT_PATHS: &[&str] = &["./daraa-ops.yaml", "/etc/daraa-ops/daraa-ops.yaml"];

/// Every way configuration can be wrong; all of them exit 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {} does not exist", path.display())]
    NotFound { path: PathBuf },
    #[error("cannot read config file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse { path: PathBuf, line: u32, column: u32, message: String },
    #[error("{}invalid {key}: {message}", origin_prefix(path.as_deref()))]
    Invalid { path: Option<PathBuf>, key: String, message: String },
    #[error("invalid environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("secret file {} for {key} cannot be read: {source}", path.display())]
    SecretFile { key: String, path: PathBuf, source: std::io::Error },
    #[error("secret file {} for {key} is empty", path.display())]
    EmptySecret { key: String, path: PathBuf },
    #[error("{key} is not set")]
    Missing { key: String, hint: String },
}

fn origin_prefix(path: Option<&Path>) -> String {
    path.map(|p| format!("{}: ", p.display())).unwrap_or_default()
}

impl ConfigError {
    /// What the operator can do about it, printed under the error.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ConfigError::NotFound { .. } => {
                "pass --config PATH, set DARAA_OPS_CONFIG, or start from config/daraa-ops.example.yaml".into()
            }
            // Passwords never go in the config (it is read by people and by `config show`).
            ConfigError::Parse { message, .. } if message.contains("unknown field `password`") => {
                "passwords are never written in the config: put the password on one line of a file (chmod 600) and give its path as password_file".into()
            }
            ConfigError::Parse { .. } => {
                "every key is documented in config/daraa-ops.example.yaml".into()
            }
            ConfigError::SecretFile { path, .. } => format!(
                "create it with the secret (password, key or URL) on one line and chmod 600 {}",
                path.display()
            ),
            ConfigError::EmptySecret { .. } => "write the secret on one line".into(),
            ConfigError::Missing { hint, .. } => hint.clone(),
            _ => return None,
        })
    }
}

/// A validated configuration and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// The file read, or `None` when the configuration came from the environment alone.
    pub path: Option<PathBuf>,
}

/// Finds, parses, overrides and validates the configuration.
pub fn load(explicit: Option<&Path>, env: &dyn EnvSource) -> Result<Loaded, ConfigError> {
    let path = match (explicit, env.get(env_vars::CONFIG)) {
        (Some(p), _) => Some(p.to_path_buf()),
        (None, Some(p)) => Some(PathBuf::from(p)),
        (None, None) => DEFAULT_PATHS.iter().map(PathBuf::from).find(|p| p.is_file()),
    };
    let mut config = match &path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound {
                    ConfigError::NotFound { path: path.clone() }
                } else {
                    ConfigError::Read { path: path.clone(), source }
                }
            })?;
            let mut config = parse_str(&text, path)?;
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            resolve_relative_paths(&mut config, &base);
            config
        }
        None => Config::default(),
    };
    env_vars_apply::apply(&mut config, env)?;
    normalise(&mut config);
    validate::validate(&config, path.as_deref())?;
    Ok(Loaded { config, path })
}

/// `s3.prefix` is a folder: without a trailing slash, keys would read `prefixdaraa-...`.
fn normalise(config: &mut Config) {
    // The codec's own level when none is set: `config show` prints the level in use.
    let b = &mut config.backup;
    b.compression_level.get_or_insert(b.compression.default_level());
    if let Some(s3) = &mut config.s3
        && !s3.prefix.is_empty()
        && !s3.prefix.ends_with('/')
    {
        s3.prefix.push('/');
    }
}

/// Parses YAML text into a [`Config`], naming file, line and column on any error.
pub fn parse_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
    // An empty file is a valid, all-defaults configuration.
    if text.trim().is_empty() {
        return Ok(Config::default());
    }
    serde_saphyr::from_str::<Config>(text).map_err(|e| with_key(parse_error(&e, path), text))
}

/// Puts the dotted key of the line a value error points at into the message: serde-saphyr
/// says `invalid u32` where the operator needs `retention.keep_last`. The key path is read
/// from the line and the less-indented lines above it (block-style YAML, as configs are).
fn with_key(err: ConfigError, text: &str) -> ConfigError {
    let ConfigError::Parse { path, line, column, message } = err else { return err };
    // A key's indent is the column it starts at: after a list item's `- ` too, so the first
    // key of an item is its siblings' sibling, not their parent.
    let key_of = |l: &str| -> Option<(usize, String)> {
        let body = l.trim_start().trim_start_matches("- ");
        let indent = l.len() - body.len();
        let (key, _) = body.split_once(':')?;
        let key = key.trim();
        (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .then(|| (indent, key.to_owned()))
    };
    let lines: Vec<&str> = text.lines().collect();
    let Some((mut indent, key)) =
        lines.get((line as usize).wrapping_sub(1)).and_then(|l| key_of(l))
    else {
        return ConfigError::Parse { path, line, column, message };
    };
    if message.contains(&format!("`{key}`")) {
        // "unknown field `databse`" names it already.
        return ConfigError::Parse { path, line, column, message };
    }
    let mut parts = vec![key];
    for l in lines[..line as usize - 1].iter().rev() {
        if let Some((i, k)) = key_of(l).filter(|(i, _)| *i < indent) {
            parts.push(k);
            indent = i;
        }
    }
    parts.reverse();
    let message = format!("{}: {message}", parts.join("."));
    ConfigError::Parse { path, line, column, message }
}

/// Parses and validates text as [`load`] does, without environment overrides (the fuzz target).
pub fn parse_and_validate(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let config = parse_str(text, path)?;
    validate::validate(&config, Some(path))?;
    Ok(config)
}

/// A YAML error as `file:line:column: message` (also used for the index spec file).
pub fn parse_error(e: &serde_saphyr::Error, path: &Path) -> ConfigError {
    let (line, column) = e.location().map_or((0, 0), |l| (l.line() as u32, l.column() as u32));
    ConfigError::Parse { path: path.to_path_buf(), line, column, message: first_line(e) }
}

/// serde-saphyr renders a snippet under the message; an operator's one-line error wants only
/// the message itself.
fn first_line(e: &serde_saphyr::Error) -> String {
    let text = e.to_string();
    let mut line = text.lines().next().unwrap_or("invalid YAML").trim();
    line = line.strip_prefix("error: ").unwrap_or(line);
    // The library's advice is for programmers, not for whoever edits the file.
    line = line.strip_suffix(", set DuplicateKeyPolicy in Options if acceptable").unwrap_or(line);
    // "line 3 column 5: ..." repeats what the file:line:column prefix already says.
    if line.starts_with("line ")
        && let Some((_, rest)) = line.split_once(": ")
    {
        line = rest;
    }
    line.to_owned()
}

fn resolve_relative_paths(config: &mut Config, base: &Path) {
    let fix = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    };
    let fix_secret = |s: &mut Option<SecretFile>| {
        if let Some(s) = s {
            fix(&mut s.0);
        }
    };
    fix_secret(&mut config.mongodb.password_file);
    if let Some(admin) = &mut config.mongodb.admin {
        fix_secret(&mut admin.password_file);
    }
    let jobs = &mut config.mongodb.jobs;
    for account in [
        &mut jobs.backup,
        &mut jobs.restore,
        &mut jobs.drill,
        &mut jobs.cleanup,
        &mut jobs.stats,
        &mut jobs.indexes,
    ]
    .into_iter()
    .flatten()
    {
        // (mutable, so not through JobAccounts::all)
        fix_secret(&mut account.password_file);
    }
    if let Some(redis) = &mut config.redis {
        fix_secret(&mut redis.password_file);
    }
    for user in &mut config.users {
        fix_secret(&mut user.password_file);
    }
    fix_secret(&mut config.masking.key_file);
    for w in &mut config.notify.webhooks {
        fix(&mut w.url_file.0);
    }
    for f in &mut config.backup.encryption.identity_files {
        fix(&mut f.0);
    }
    for p in &mut config.backup.encryption.recipients_files {
        fix(p);
    }
    if config.backup.dir != BackupConfig::default().dir {
        fix(&mut config.backup.dir);
    }
    for p in [
        config.indexes.spec.as_mut(),
        config.lock.dir.as_mut(),
        config.metrics.textfile_dir.as_mut(),
        config.cleanup.archive_dir.as_mut(),
    ]
    .into_iter()
    .flatten()
    {
        fix(p);
    }
    for rule in &mut config.cleanup.rules {
        if let Some(p) = rule.archive_dir.as_mut() {
            fix(p);
        }
    }
}

impl Loaded {
    /// Every secret file the configuration names, with the key that names it.
    pub fn secret_files(&self, env: &dyn EnvSource) -> Vec<(String, SecretFile)> {
        let c = &self.config;
        let mut out = Vec::new();
        if let Some(f) = &c.mongodb.password_file {
            out.push(("mongodb.password_file".to_owned(), f.clone()));
        }
        if let Some(f) = c.mongodb.admin.as_ref().and_then(|a| a.password_file.clone()) {
            out.push(("mongodb.admin.password_file".to_owned(), f));
        }
        if let Some(f) = c.redis.as_ref().and_then(|r| r.password_file.clone()) {
            out.push(("redis.password_file".to_owned(), f));
        }
        for (_, account, key) in c.mongodb.jobs.all() {
            if let Some(f) = account.and_then(|a| a.password_file.clone()) {
                out.push((key.to_owned(), f));
            }
        }
        for (i, w) in c.notify.webhooks.iter().enumerate() {
            out.push((format!("notify.webhooks[{i}].url_file"), w.url_file.clone()));
        }
        for f in &c.backup.encryption.identity_files {
            out.push(("backup.encryption.identity_files".to_owned(), f.clone()));
        }
        if let Some(f) = &c.masking.key_file {
            out.push(("masking.key_file".to_owned(), f.clone()));
        }
        for (i, u) in c.users.iter().enumerate() {
            if let Some(f) = user_password_file(u, env) {
                out.push((format!("users[{i}] ({}) password", u.name), f));
            }
        }
        out
    }

    /// Reads every secret once, so a missing or empty one is reported before a job needs it.
    pub fn check_secrets(&self, env: &dyn EnvSource) -> Result<usize, ConfigError> {
        let files = self.secret_files(env);
        for (key, file) in &files {
            file.read(key)?;
        }
        for u in &self.config.users {
            if let (None, Some(var)) = (&u.password_file, &u.password_file_env)
                && env.get(var).is_none()
            {
                return Err(ConfigError::Missing {
                    key: format!("environment variable {var} (password file of user {})", u.name),
                    hint: format!("set {var} to the path of the secrets file"),
                });
            }
        }
        Ok(files.len())
    }
}

/// A user's password file: `password_file`, else the path held by `password_file_env`.
pub fn user_password_file(user: &UserSpec, env: &dyn EnvSource) -> Option<SecretFile> {
    user.password_file.clone().or_else(|| {
        user.password_file_env.as_ref().and_then(|v| env.get(v)).map(|p| SecretFile(p.into()))
    })
}

#[cfg(test)]
mod tests;
