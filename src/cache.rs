//! Redis: connections from the config (password from a secrets file), and probes.
//!
//! Locks, last-run records and cache invalidation build on [`connect`].

use std::time::Duration;

use redis::IntoConnectionInfo as _;
use redis::aio::MultiplexedConnection;
use secrecy::ExposeSecret as _;

use crate::config::RedisConfig;
use crate::config::redact::{redact_uri, scrub};

/// What went wrong with Redis; `classify::classify` turns the fault into an exit code and hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheFault {
    /// `redis.url` or `redis.password_file` is unusable.
    Config,
    AuthFailed,
    Unreachable,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CacheError {
    pub fault: CacheFault,
    pub message: String,
}

impl CacheError {
    fn new(fault: CacheFault, message: impl Into<String>) -> Self {
        CacheError { fault, message: message.into() }
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn connect(cfg: &RedisConfig) -> Result<MultiplexedConnection, CacheError> {
    let shown = redact_uri(&cfg.url);
    let mut info = cfg.url.as_str().into_connection_info().map_err(|e| {
        CacheError::new(
            CacheFault::Config,
            format!("invalid redis.url {shown}: {}", scrub(&e.to_string(), &[&cfg.url])),
        )
    })?;
    let mut secrets = vec![cfg.url.clone()];
    if let Some(file) = &cfg.password_file {
        let pw = file
            .read("redis.password_file")
            .map_err(|e| CacheError::new(CacheFault::Config, e.to_string()))?;
        secrets.push(pw.expose_secret().to_owned());
        let settings = info.redis_settings().clone().set_password(pw.expose_secret());
        info = info.set_redis_settings(settings);
    }
    let client = redis::Client::open(info).map_err(|e| {
        CacheError::new(CacheFault::Config, format!("invalid redis.url {shown}: {e}"))
    })?;
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let fail = |e: redis::RedisError| {
        let detail = scrub(&e.to_string(), &refs);
        if e.kind() == redis::ErrorKind::AuthenticationFailed
            || detail.contains("NOAUTH")
            || detail.contains("WRONGPASS")
        {
            CacheError::new(
                CacheFault::AuthFailed,
                format!("Redis authentication failed at {shown}"),
            )
        } else {
            CacheError::new(
                CacheFault::Unreachable,
                format!("cannot reach Redis at {shown}: {detail}"),
            )
        }
    };
    let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, client.get_multiplexed_async_connection())
        .await
        .map_err(|_| {
            CacheError::new(
                CacheFault::Unreachable,
                format!("cannot reach Redis at {shown}: timed out after 5s"),
            )
        })?
        .map_err(fail)?;
    // PING forces authentication on servers that accept the connection first.
    let _: String = redis::cmd("PING").query_async(&mut conn).await.map_err(fail)?;
    Ok(conn)
}

/// The `redis_version` field of INFO server.
pub async fn server_version(conn: &mut MultiplexedConnection) -> Result<String, redis::RedisError> {
    let info: String = redis::cmd("INFO").arg("server").query_async(conn).await?;
    Ok(info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("unknown")
        .trim()
        .to_owned())
}

/// The keys under one prefix, a SCAN batch at a time (never KEYS, so Redis is not blocked).
/// Glob characters in the prefix are escaped, so `cart:` matches only keys starting with it.
#[derive(Debug)]
pub struct PrefixScan {
    pattern: String,
    cursor: u64,
    done: bool,
}

impl PrefixScan {
    pub fn new(prefix: &str) -> Self {
        PrefixScan { pattern: format!("{}*", escape_glob(prefix)), cursor: 0, done: false }
    }

    /// The next batch (possibly empty), or `None` once the scan is complete.
    pub async fn next_batch(
        &mut self,
        conn: &mut MultiplexedConnection,
    ) -> Result<Option<Vec<String>>, redis::RedisError> {
        if self.done {
            return Ok(None);
        }
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(self.cursor)
            .arg("MATCH")
            .arg(&self.pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await?;
        self.cursor = next;
        self.done = next == 0;
        Ok(Some(keys))
    }

    pub fn is_done(&self) -> bool {
        self.done
    }
}

/// Deletes every key under each prefix with SCAN + UNLINK in batches; returns how many.
pub async fn invalidate(
    conn: &mut MultiplexedConnection,
    prefixes: &[String],
) -> Result<u64, redis::RedisError> {
    let mut removed = 0u64;
    for prefix in prefixes {
        let mut scan = PrefixScan::new(prefix);
        while let Some(keys) = scan.next_batch(conn).await? {
            if !keys.is_empty() {
                let n: u64 = redis::cmd("UNLINK").arg(&keys).query_async(conn).await?;
                removed += n;
            }
        }
    }
    Ok(removed)
}

fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
