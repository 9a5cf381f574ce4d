//! One backup, restore, prune or cleanup at a time per database.
//!
//! With Redis: `SET <prefix>lock:<db> <holder> NX PX <ttl>`, renewed every ttl/3 while the job
//! runs (compare-and-renew), released with compare-and-delete; a crashed run's lock expires after
//! the TTL. Without Redis (or when it is optional and unreachable): an exclusive `flock` on
//! `<lock.dir or backup.dir>/.daraa-ops-<db>.lock`, which the kernel releases when the process
//! dies, even by SIGKILL. The holder's host, pid, command and start time are stored with the
//! lock so that a refused run can name it (exit 4).

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod process;

pub use process::{Liveness, ProcessId, hostname};

use redis::aio::MultiplexedConnection;

use crate::cache::CacheError;
use crate::config::Config;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// Why a lock could not be taken or inspected; `classify::classify` maps it to an exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockFault {
    /// Another run holds it; `release` is the command that frees it.
    Held { release: String },
    /// A file lock held by a live process on this host.
    AliveHere { pid: u32 },
    /// Redis failed while handling the lock.
    Redis,
    /// The lock file could not be created or written.
    Io,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct LockError {
    pub fault: LockFault,
    pub message: String,
}

impl LockError {
    fn new(fault: LockFault, message: impl Into<String>) -> Self {
        LockError { fault, message: message.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub token: String,
    /// Host and pid, and (absent in records of older versions) the kernel's boot id, the PID
    /// namespace and the process's start time in clock ticks after boot, so that a process
    /// elsewhere (another container with the same host name) is never declared dead, and a
    /// reused pid is not taken for the holder.
    #[serde(flatten)]
    pub process: ProcessId,
    pub command: String,
    pub started_at: String,
}

impl Holder {
    pub fn new(command: &str) -> Self {
        let mut token = [0u8; 16];
        rand::fill(&mut token);
        Holder {
            token: crate::files::hex(&token),
            process: ProcessId::current(),
            command: command.to_owned(),
            started_at: jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or_else(|_| jiff::Timestamp::now())
                .to_string(),
        }
    }

    pub fn describe(&self) -> String {
        let p = &self.process;
        format!("{} on {} (pid {}) since {}", self.command, p.host, p.pid, self.started_at)
    }
}

/// Where the lock lives.
#[derive(Clone)]
pub enum Backend {
    Redis { conn: MultiplexedConnection, key: String, name: String },
    File { path: PathBuf, name: String },
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Redis { key, .. } => write!(f, "redis key {key}"),
            Backend::File { path, .. } => write!(f, "file {}", path.display()),
        }
    }
}

impl Backend {
    /// The lock's name: a database, `<db>_drill` or `<db>_pitr`.
    pub fn name(&self) -> &str {
        match self {
            Backend::Redis { name, .. } | Backend::File { name, .. } => name,
        }
    }

    pub fn redis(conn: MultiplexedConnection, key_prefix: &str, db: &str) -> Self {
        Backend::Redis { conn, key: format!("{key_prefix}lock:{db}"), name: db.to_owned() }
    }

    pub fn file(dir: &Path, db: &str) -> Self {
        Backend::File { path: dir.join(format!(".daraa-ops-{db}.lock")), name: db.to_owned() }
    }
}

/// The backends of the lock `name` (a database, or `<db>_drill`): always the file lock, and
/// the Redis lock as well when Redis is configured. Redis configured but unreachable is an
/// error when `redis.required`; otherwise the file lock alone guards this host (warned).
pub async fn backends(cfg: &Config, name: &str) -> Result<Vec<Backend>, CacheError> {
    let mut backends = vec![Backend::file(&dir(cfg), name)];
    if let Some(r) = &cfg.redis {
        match crate::cache::connect(r).await {
            Ok(conn) => backends.push(Backend::redis(conn, &r.key_prefix, name)),
            Err(e) if r.required => return Err(e),
            Err(e) => tracing::warn!(
                "{e}; locking with the file lock only: runs on other hosts are not excluded (redis.required is false)"
            ),
        }
    }
    Ok(backends)
}

/// The lock names daraa-ops takes for the configured database: the main one (backup, prune,
/// restore, cleanup), the drill's and the oplog pusher's (`pitr push`, which runs beside
/// backups).
pub fn names(cfg: &Config) -> Vec<String> {
    let db = &cfg.mongodb.database;
    vec![db.clone(), format!("{db}_drill"), pitr_name(db)]
}

/// The lock of `pitr push` for database `db`.
pub fn pitr_name(db: &str) -> String {
    format!("{db}_pitr")
}

/// Where file locks live: `lock.dir`, else `backup.dir`.
pub fn dir(cfg: &Config) -> PathBuf {
    cfg.lock.dir.clone().unwrap_or_else(|| cfg.backup.dir.clone())
}

/// Runs `job` holding the lock `name` for `command` in every backend (file first, then
/// Redis), with the configured TTL, and releases it when `job` ends, however it ends: the one
/// way a job holds its lock for its length. Held anywhere: exit 4 naming the holder and the
/// command that frees it.
pub async fn with<T>(
    cfg: &Config,
    name: &str,
    command: &str,
    cancel: &CancellationToken,
    job: impl AsyncFnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let guard = take(cfg, name, command, cancel).await?;
    let result = job().await;
    guard.release().await;
    result
}

/// Takes the lock `name` for `command` in every backend (file first, then Redis).
async fn take(
    cfg: &Config,
    name: &str,
    command: &str,
    cancel: &CancellationToken,
) -> anyhow::Result<JobLock> {
    let mut guards = Vec::new();
    for backend in backends(cfg, name).await? {
        match acquire(backend, command, cfg.lock.ttl, cancel).await {
            Ok(g) => guards.push(g),
            Err(e) => {
                for g in guards {
                    g.release().await;
                }
                return Err(e.into());
            }
        }
    }
    Ok(JobLock { guards })
}

/// A job's lock, held in every backend.
#[derive(Debug)]
pub struct JobLock {
    guards: Vec<Guard>,
}

impl JobLock {
    /// The holder record (host, pid, command, start), as stored with the lock.
    pub fn holder(&self) -> &Holder {
        self.guards[0].holder()
    }

    async fn release(self) {
        // Redis first: the file lock is what keeps a second run on this host out meanwhile.
        for g in self.guards.into_iter().rev() {
            g.release().await;
        }
    }
}

/// Decides whether the holder's process is alive, from what this host can see.
pub fn liveness(h: &Holder) -> Liveness {
    h.process.liveness()
}

/// Whether the holder's process runs on this host (see [`liveness`]).
pub fn alive_here(h: &Holder) -> bool {
    liveness(h) == Liveness::Alive
}

/// A held lock. Release it with [`Guard::release`]; dropping it without (a panic) lets the TTL
/// or the process exit free it.
pub struct Guard {
    backend: Backend,
    holder: Holder,
    file: Option<File>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
    /// A Redis lock is released even on an immediate exit (a second signal).
    _abort: Option<crate::signal::AbortRegistration>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "lock {:?} held by {}", self.backend, self.holder.describe())
    }
}

const RENEW: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

fn locked(holder: Option<&Holder>, backend: &Backend) -> LockError {
    let who = holder.map_or_else(|| "an unknown run".to_owned(), Holder::describe);
    let message = format!("another run holds the lock {} ({backend:?}): {who}", backend.name());
    match holder {
        // Running here: forcing the lock away would let two runs overlap.
        Some(h) if liveness(h) == Liveness::Alive => {
            LockError::new(LockFault::AliveHere { pid: h.process.pid }, message)
        }
        _ => LockError::new(LockFault::Held { release: release_command(backend.name()) }, message),
    }
}

/// The command that frees the lock `name`.
pub fn release_command(name: &str) -> String {
    format!("daraa-ops lock release --force --name {name}")
}

/// A holder on this host whose process is gone (killed, crashed) can neither renew nor release
/// its key: it is taken over at once instead of after the TTL. Only that exact value is
/// deleted, so a holder that arrived meanwhile is never removed. Returns whether the lock is
/// now ours, and the holder found.
async fn take_over_if_dead(
    conn: &mut MultiplexedConnection,
    key: &str,
    value: &str,
    ttl: Duration,
) -> Result<(bool, Option<Holder>), LockError> {
    let raw: Option<String> =
        redis::cmd("GET").arg(key).query_async(conn).await.map_err(|e| redis_err(&e))?;
    let current = raw.as_deref().and_then(|v| serde_json::from_str::<Holder>(v).ok());
    let dead_here = current.as_ref().is_some_and(|h| liveness(h) == Liveness::Dead);
    if !dead_here {
        return Ok((false, current));
    }
    let deleted: i64 = redis::cmd("EVAL")
        .arg(RELEASE)
        .arg(1)
        .arg(key)
        .arg(raw.as_deref().unwrap_or_default())
        .query_async(conn)
        .await
        .map_err(|e| redis_err(&e))?;
    let ours = deleted == 1 && set_nx(conn, key, value, ttl).await?;
    Ok((ours, current))
}

/// `SET key value NX PX ttl`: whether the key was free and is now ours.
async fn set_nx(
    conn: &mut MultiplexedConnection,
    key: &str,
    value: &str,
    ttl: Duration,
) -> Result<bool, LockError> {
    let set: Option<String> = redis::cmd("SET")
        .arg(key)
        .arg(value)
        .arg("NX")
        .arg("PX")
        .arg(ttl.as_millis() as u64)
        .query_async(conn)
        .await
        .map_err(|e| redis_err(&e))?;
    Ok(set.is_some())
}

fn redis_err(e: &redis::RedisError) -> LockError {
    LockError::new(LockFault::Redis, format!("Redis failed while handling the lock: {e}"))
}

/// Takes the lock or fails with exit 4 naming the holder. With Redis, a heartbeat renews it;
/// if renewal finds the lock gone or taken, `cancel` is triggered so the job stops.
pub async fn acquire(
    backend: Backend,
    command: &str,
    ttl: Duration,
    cancel: &CancellationToken,
) -> Result<Guard, LockError> {
    let holder = Holder::new(command);
    let value = serde_json::to_string(&holder).expect("holder serializes");
    match &backend {
        Backend::Redis { conn, key, .. } => {
            let mut conn = conn.clone();
            if !set_nx(&mut conn, key, &value, ttl).await? {
                let (taken_over, current) = take_over_if_dead(&mut conn, key, &value, ttl).await?;
                if !taken_over {
                    return Err(locked(current.as_ref(), &backend));
                }
                tracing::warn!(
                    "took over the lock {key} of {}: its process is gone",
                    current.as_ref().map_or_else(String::new, Holder::describe)
                );
            }
            let abort = {
                let (mut conn, key, value) = (conn.clone(), key.clone(), value.clone());
                crate::signal::on_abort(move || async move {
                    let _: Result<i64, _> = redis::cmd("EVAL")
                        .arg(RELEASE)
                        .arg(1)
                        .arg(&key)
                        .arg(&value)
                        .query_async(&mut conn)
                        .await;
                })
            };
            let heartbeat = tokio::spawn(heartbeat(
                conn,
                backend.name().to_owned(),
                key.clone(),
                value,
                ttl,
                cancel.clone(),
            ));
            Ok(Guard {
                backend,
                holder,
                file: None,
                heartbeat: Some(heartbeat),
                _abort: Some(abort),
            })
        }
        Backend::File { path, .. } => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    LockError::new(
                        LockFault::Io,
                        format!("cannot create lock folder {}: {e}", dir.display()),
                    )
                })?;
            }
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)
                .map_err(|e| {
                    LockError::new(
                        LockFault::Io,
                        format!("cannot open lock file {}: {e}", path.display()),
                    )
                })?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    return Err(locked(serde_json::from_str(&text).ok().as_ref(), &backend));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(LockError::new(
                        LockFault::Io,
                        format!("cannot lock {}: {e}", path.display()),
                    ));
                }
            }
            file.set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(value.as_bytes()))
                .map_err(|e| {
                    LockError::new(
                        LockFault::Io,
                        format!("cannot write lock file {}: {e}", path.display()),
                    )
                })?;
            Ok(Guard { backend, holder, file: Some(file), heartbeat: None, _abort: None })
        }
    }
}

async fn heartbeat(
    mut conn: MultiplexedConnection,
    name: String,
    key: String,
    value: String,
    ttl: Duration,
    cancel: CancellationToken,
) {
    let every = ttl / 3;
    let mut last_ok = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(every).await;
        let renewed = tokio::time::timeout(
            every,
            redis::cmd("EVAL")
                .arg(RENEW)
                .arg(1)
                .arg(&key)
                .arg(&value)
                .arg(ttl.as_millis() as u64)
                .query_async::<i64>(&mut conn),
        )
        .await
        .unwrap_or_else(|_| {
            Err(redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no answer",
            )))
        });
        match renewed {
            Ok(1) => last_ok = tokio::time::Instant::now(),
            Ok(_) => {
                let message = format!(
                    "lost the lock {name}: its Redis key {key} expired or was released by force, so another run may hold it"
                );
                tracing::error!("{message}; stopping");
                crate::signal::stop_lost(&cancel, message);
                return;
            }
            // A transient Redis error: keep trying until the TTL has run out; then another
            // run may hold the lock, so this one stops at its next safe point.
            Err(e) if last_ok.elapsed() >= ttl => {
                let message = format!(
                    "lost the lock {name}: Redis did not renew its key {key} for {}s ({e}), so another run may hold it",
                    ttl.as_secs()
                );
                tracing::error!("{message}; stopping");
                crate::signal::stop_lost(&cancel, message);
                return;
            }
            Err(e) => tracing::warn!("cannot renew the lock {key}: {e}"),
        }
    }
}

impl Guard {
    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    pub async fn release(mut self) {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
        match &self.backend {
            Backend::Redis { conn, key, .. } => {
                let mut conn = conn.clone();
                let value = serde_json::to_string(&self.holder).expect("holder serializes");
                let r: Result<i64, _> = redis::cmd("EVAL")
                    .arg(RELEASE)
                    .arg(1)
                    .arg(key)
                    .arg(value)
                    .query_async(&mut conn)
                    .await;
                if let Err(e) = r {
                    tracing::warn!("cannot release the lock {key} (it expires after the TTL): {e}");
                }
            }
            Backend::File { .. } => {
                if let Some(f) = self.file.take() {
                    let _ = f.set_len(0);
                    let _ = f.unlock();
                }
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
    }
}

/// The current holder, if any.
pub async fn status(backend: &Backend) -> Result<Option<(Holder, Option<Duration>)>, LockError> {
    match backend {
        Backend::Redis { conn, key, .. } => {
            let mut conn = conn.clone();
            let value: Option<String> = redis::cmd("GET")
                .arg(key)
                .query_async(&mut conn)
                .await
                .map_err(|e| redis_err(&e))?;
            let Some(value) = value else { return Ok(None) };
            let ttl: i64 = redis::cmd("PTTL")
                .arg(key)
                .query_async(&mut conn)
                .await
                .map_err(|e| redis_err(&e))?;
            let holder = serde_json::from_str(&value).unwrap_or(Holder {
                token: String::new(),
                process: ProcessId {
                    host: "?".into(),
                    pid: 0,
                    boot_id: None,
                    pid_ns: None,
                    start_ticks: None,
                },
                command: format!("unrecognised lock value {value:?}"),
                started_at: "?".into(),
            });
            Ok(Some((holder, u64::try_from(ttl).ok().map(Duration::from_millis))))
        }
        Backend::File { path, .. } => {
            let Ok(mut file) = OpenOptions::new().read(true).write(true).open(path) else {
                return Ok(None);
            };
            match file.try_lock() {
                Ok(()) => {
                    let _ = file.unlock();
                    Ok(None)
                }
                Err(_) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    Ok(serde_json::from_str(&text).ok().map(|h| (h, None)))
                }
            }
        }
    }
}

/// `lock release --force`: deletes a Redis lock, unless its holder is a live process on this
/// host (then only with `twice`: `--force --force`). A file lock held by a live process cannot
/// be taken away (the kernel owns it, and frees it when the process ends); that is reported.
pub async fn force_release(backend: &Backend, twice: bool) -> Result<Option<Holder>, LockError> {
    match backend {
        Backend::Redis { conn, key, .. } => {
            let current = status(backend).await?.map(|(h, _)| h);
            if let Some(h) = &current
                && alive_here(h)
                && !twice
            {
                return Err(LockError::new(
                    LockFault::AliveHere { pid: h.process.pid },
                    format!(
                        "the lock {} is held by a live process on this host: {}",
                        backend.name(),
                        h.describe()
                    ),
                ));
            }
            let mut conn = conn.clone();
            let _: i64 = redis::cmd("DEL")
                .arg(key)
                .query_async(&mut conn)
                .await
                .map_err(|e| redis_err(&e))?;
            Ok(current)
        }
        Backend::File { path, .. } => match status(backend).await? {
            Some((h, _)) => Err(LockError::new(
                LockFault::AliveHere { pid: h.process.pid },
                format!(
                    "the lock file {} is held by a live process: {}",
                    path.display(),
                    h.describe()
                ),
            )),
            None => Ok(None),
        },
    }
}
