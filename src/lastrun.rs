//! The record of a job's last run, per database (the one the job acted on): a Redis hash
//! `<prefix>last:<job>:<db>` when Redis is configured, and a node_exporter textfile
//! `daraa_ops_<job>.<db>.prom` (series labelled `database="<db>"`) when
//! `metrics.textfile_dir` is set. Database names cannot contain dots, so the names are
//! unambiguous.
//! Failures to record are logged, never fatal: the job itself already happened.

use crate::config::Config;
use crate::metrics::{Families, sample};

/// What a job did, as its engine reports it, for its last-run record: bytes and documents
/// written, read or deleted, and a drill's restore time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    pub bytes: u64,
    pub documents: u64,
    /// drill: seconds its restore took (the restore time to expect, RTO).
    pub restore_seconds: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct Record {
    pub job: &'static str,
    pub database: String,
    pub exit_code: u8,
    pub started_unix: f64,
    pub duration_seconds: f64,
    pub bytes: u64,
    pub documents: u64,
    /// drill: seconds its restore took (the restore time to expect, RTO).
    pub restore_seconds: Option<f64>,
}

/// The Redis hash of a job's last run on `db`.
pub fn redis_key(key_prefix: &str, job: &str, db: &str) -> String {
    format!("{key_prefix}last:{job}:{db}")
}

/// The textfile of a job's last run on `db`.
pub fn textfile_name(job: &str, db: &str) -> String {
    format!("daraa_ops_{job}.{db}.prom")
}

pub async fn save(cfg: &Config, r: &Record) {
    let now = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
    if let Some(redis_cfg) = &cfg.redis {
        match crate::cache::connect(redis_cfg).await {
            Ok(mut conn) => {
                let key = redis_key(&redis_cfg.key_prefix, r.job, &r.database);
                let mut cmd = redis::cmd("HSET");
                cmd.arg(&key)
                    .arg("database")
                    .arg(&r.database)
                    .arg("last_run_timestamp")
                    .arg(now)
                    .arg("exit_code")
                    .arg(r.exit_code)
                    .arg("duration_seconds")
                    .arg(r.duration_seconds)
                    .arg("bytes")
                    .arg(r.bytes)
                    .arg("documents")
                    .arg(r.documents)
                    .arg("started_timestamp")
                    .arg(r.started_unix);
                if let Some(s) = r.restore_seconds {
                    cmd.arg("restore_seconds").arg(s);
                }
                if r.exit_code == 0 {
                    cmd.arg("last_success_timestamp").arg(now);
                }
                if let Err(e) = cmd.query_async::<i64>(&mut conn).await {
                    tracing::warn!("cannot record the last run in Redis key {key}: {e}");
                }
            }
            Err(e) => tracing::warn!("cannot record the last run in Redis: {e}"),
        }
    }
    if let Some(dir) = &cfg.metrics.textfile_dir {
        let path = dir.join(textfile_name(r.job, &r.database));
        // Keep the last success time across failed runs.
        let previous_success = std::fs::read_to_string(&path).ok().and_then(|t| {
            sample(&t, &format!("daraa_ops_{}_last_success_timestamp_seconds", r.job))
        });
        let success = if r.exit_code == 0 { Some(now) } else { previous_success };
        let text = render(r, now, success);
        if let Err(e) = std::fs::create_dir_all(dir)
            // No secret in it, and node_exporter usually runs as another user.
            .and_then(|()| crate::files::write_atomic_mode(&path, text.as_bytes(), 0o644))
        {
            tracing::warn!("cannot write metrics file {}: {e}", path.display());
        }
    }
}

/// Prometheus text exposition of one job's last run.
pub fn render(r: &Record, now: f64, last_success: Option<f64>) -> String {
    let job = r.job;
    let labels = [("database", r.database.as_str())];
    let mut f = Families::default();
    let mut metric = |name: &str, help: &str, value: f64| {
        f.add(&format!("{job}_{name}"), "gauge", help, &labels, value);
    };
    metric("last_start_timestamp_seconds", "Unix time the last run started.", r.started_unix);
    metric("last_run_timestamp_seconds", "Unix time the last run ended.", now);
    metric("last_exit_code", "Exit code of the last run.", f64::from(r.exit_code));
    metric("last_duration_seconds", "Duration of the last run.", r.duration_seconds);
    metric("last_bytes", "Bytes handled by the last run.", r.bytes as f64);
    metric("last_documents", "Documents handled by the last run.", r.documents as f64);
    if let Some(s) = r.restore_seconds {
        metric(
            "last_restore_seconds",
            "Seconds the last run's restore took (a drill: the restore time to expect).",
            s,
        );
    }
    if let Some(s) = last_success {
        metric("last_success_timestamp_seconds", "Unix time of the last successful run.", s);
    }
    f.render()
}
