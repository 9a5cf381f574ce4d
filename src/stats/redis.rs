//! Redis for `stats`: the server's INFO, the application's cache keys counted per prefix
//! (SCAN, never KEYS), and the jobs' last runs as recorded in Redis or the textfile folder.

use crate::config::Config;
use crate::error::CliError;

use super::{JobAge, RedisSection, redis_info};

/// Keys scanned per cache prefix before counting stops (SCAN, never KEYS).
const PREFIX_SCAN_CAP: u64 = 100_000;

/// The Redis section; a required Redis that does not answer is reported as unreachable *and*
/// returned as the run's failure (exit 3), after the report (with `redis_up 0`) is written.
pub async fn redis_or_failure(
    cfg: &Config,
) -> (RedisSection, Option<redis::aio::MultiplexedConnection>, Option<anyhow::Error>) {
    match redis_section(cfg).await {
        Ok((section, conn)) => (section, conn, None),
        Err(e) => (
            RedisSection {
                status: "unreachable",
                error: Some(format!("{e:#}")),
                server: None,
                cache_keys: Vec::new(),
            },
            None,
            Some(e),
        ),
    }
}

/// The Redis section, and the connection for the jobs' records; a required Redis that does not
/// answer is an error (exit 3), an optional one a section saying so.
pub async fn redis_section(
    cfg: &Config,
) -> anyhow::Result<(RedisSection, Option<redis::aio::MultiplexedConnection>)> {
    let Some(rc) = &cfg.redis else {
        return Ok((
            RedisSection {
                status: "not-configured",
                error: None,
                server: None,
                cache_keys: Vec::new(),
            },
            None,
        ));
    };
    let unreachable = |e: String| -> anyhow::Result<(RedisSection, Option<_>)> {
        if rc.required {
            return Err(CliError::unreachable(e)
                .with_hint("redis.required is true; set it to false to report Redis as optional")
                .into());
        }
        tracing::warn!("{e}");
        Ok((
            RedisSection {
                status: "unreachable",
                error: Some(e),
                server: None,
                cache_keys: Vec::new(),
            },
            None,
        ))
    };
    let mut conn = match crate::cache::connect(rc).await {
        Ok(c) => c,
        Err(e) => return unreachable(e.to_string()),
    };
    let info: String = match redis::cmd("INFO").query_async(&mut conn).await {
        Ok(i) => i,
        Err(e) => return unreachable(format!("Redis INFO failed: {e}")),
    };
    let cache_keys = match count_prefixes(&mut conn, &rc.cache_prefixes, PREFIX_SCAN_CAP).await {
        Ok(c) => c,
        Err(e) => return unreachable(format!("Redis SCAN failed: {e}")),
    };
    Ok((
        RedisSection {
            status: "ok",
            error: None,
            server: Some(redis_info::parse(&info)),
            cache_keys,
        },
        Some(conn),
    ))
}

/// How long ago each job last ran and last succeeded: from the textfile folder when one is
/// configured, else from Redis.
pub async fn job_ages(
    cfg: &Config,
    conn: Option<&mut redis::aio::MultiplexedConnection>,
    now: f64,
) -> Vec<JobAge> {
    let mut out = Vec::new();
    if let Some(dir) = &cfg.metrics.textfile_dir {
        for job in super::JOBS {
            if let Ok(text) = std::fs::read_to_string(
                dir.join(crate::lastrun::textfile_name(job, &cfg.mongodb.database)),
            ) {
                out.push(super::job_age_from_textfile(&text, job, now));
            }
        }
        return out;
    }
    let (Some(conn), Some(rc)) = (conn, &cfg.redis) else { return out };
    for job in super::JOBS {
        let key = crate::lastrun::redis_key(&rc.key_prefix, job, &cfg.mongodb.database);
        let Ok(h) = redis::cmd("HGETALL")
            .arg(&key)
            .query_async::<std::collections::HashMap<String, String>>(conn)
            .await
        else {
            continue;
        };
        if h.is_empty() {
            continue;
        }
        let f = |k: &str| h.get(k).and_then(|v| v.parse::<f64>().ok());
        out.push(JobAge {
            job: job.to_owned(),
            last_run_age_seconds: f("last_run_timestamp").map(|t| (now - t).max(0.0)),
            last_success_age_seconds: f("last_success_timestamp").map(|t| (now - t).max(0.0)),
            last_exit_code: f("exit_code").map(|c| c as i64),
        });
    }
    out
}

/// Keys under each prefix, counted with SCAN (never KEYS), stopping at `cap` scanned keys.
async fn count_prefixes(
    conn: &mut redis::aio::MultiplexedConnection,
    prefixes: &[String],
    cap: u64,
) -> Result<Vec<super::PrefixCount>, redis::RedisError> {
    let mut out = Vec::new();
    for prefix in prefixes {
        let mut scan = crate::cache::PrefixScan::new(prefix);
        let (mut keys, mut capped) = (0u64, false);
        while let Some(batch) = scan.next_batch(conn).await? {
            keys += batch.len() as u64;
            if keys >= cap && !scan.is_done() {
                capped = true;
                break;
            }
        }
        out.push(super::PrefixCount { prefix: prefix.clone(), keys, capped });
    }
    Ok(out)
}
