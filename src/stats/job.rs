//! A `stats` run: MongoDB's statistics (required), the replica set's when there is one,
//! Redis's and the jobs' last runs, and growth since the last history entry.

use std::path::Path;

use crate::config::Config;
use crate::error::{CliError, Outcome};
use crate::mongo::{self, Access, Role};

use super::{Report, history, prom, redis};

/// What a stats run read: the report, where MongoDB was read from (no password), and a
/// required Redis that did not answer (the run's failure, exit 3, after the report is out).
pub struct Collected {
    pub report: Report,
    pub display_uri: String,
    pub redis_failure: Option<anyhow::Error>,
}

/// Reads everything `stats` reports; appends to the history file when one is given. When
/// MongoDB does not answer and `prometheus_out` names a textfile, that file says so (see
/// [`write_down`]) before the error is returned.
pub async fn collect(
    cfg: &Config,
    history: Option<&Path>,
    prometheus_out: bool,
    out: Option<&Path>,
) -> anyhow::Result<Collected> {
    let connected = async {
        let m = mongo::connect(
            &cfg.mongodb,
            Role::Job(crate::mongo::privileges::Job::Stats),
            Access::ReadOnly,
        )
        .await?;
        let mongodb = super::mongo_stats(&m.client, &cfg.mongodb.database).await.map_err(|e| {
            e.context(format!(
                "reading statistics of {} at {}",
                cfg.mongodb.database, m.display_uri
            ))
        })?;
        anyhow::Ok((m, mongodb))
    }
    .await;
    let (m, mongodb) = match connected {
        Ok(v) => v,
        Err(e) => {
            if let (true, Some(path)) = (prometheus_out, out) {
                write_down(cfg, path).await;
            }
            return Err(e);
        }
    };
    let replica_set = match crate::mongo::replset::status(&m.client).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("replSetGetStatus failed: {e}");
            None
        }
    };
    let (redis, mut conn, redis_failure) = redis::redis_or_failure(cfg).await;
    let now = jiff::Timestamp::now();
    let jobs = redis::job_ages(cfg, conn.as_mut(), now.as_millisecond() as f64 / 1000.0).await;
    let mut report = Report {
        generated_at: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        mongodb,
        replica_set,
        redis,
        jobs,
        growth: None,
    };
    if let Some(path) = history {
        let entry = history::Entry {
            time: report.generated_at.clone(),
            database: report.mongodb.database.clone(),
            collections: report
                .mongodb
                .collections
                .iter()
                .map(|c| super::CollectionStats { index_usage: Vec::new(), ..c.clone() })
                .collect(),
        };
        report.growth = history::last_entry(path).map(|prev| history::growth(&prev, &entry));
        history::append(path, &entry).map_err(|e| {
            CliError::new(Outcome::Failed, format!("cannot append to {}: {e}", path.display()))
        })?;
    }

    Ok(Collected { report, display_uri: m.display_uri.clone(), redis_failure })
}

/// MongoDB did not answer: with `--format prometheus --out FILE`, the file still says so
/// (`daraa_ops_mongodb_up 0`, and `redis_up` when Redis is configured), so an alert on
/// `mongodb_up == 0` fires instead of the old file's values going stale.
async fn write_down(cfg: &Config, path: &Path) {
    let redis_up = match redis::redis_section(cfg).await {
        Ok((section, _)) if section.status == "not-configured" => None,
        Ok((section, _)) => Some(section.status == "ok"),
        Err(_) => Some(false),
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let written = dir.map_or(Ok(()), std::fs::create_dir_all).and_then(|()| {
        crate::files::write_atomic_mode(path, prom::render_down(redis_up).as_bytes(), 0o644)
    });
    if let Err(e) = written {
        tracing::warn!("cannot write {}: {e}", path.display());
    }
}
