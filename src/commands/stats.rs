//! `stats [--format table|json|prometheus] [--out FILE] [--history FILE]`: see src/stats.

use std::fmt::Write as _;

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};

use crate::cli::{StatsArgs, StatsFormat};
use crate::config::Config;
use crate::context::Context;
use crate::mongo::{self, Access, Role};
use crate::outcome::CliError;
use crate::outcome::Outcome;
use crate::output::human_bytes;
use crate::stats::{self, JobAge, RedisSection, Report, history, prom, redis_info};

/// Keys scanned per cache prefix before counting stops (SCAN, never KEYS).
const PREFIX_SCAN_CAP: u64 = 100_000;

pub async fn run(ctx: &Context, args: &StatsArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let connected = async {
        let m = mongo::connect(
            &cfg.mongodb,
            Role::Job(crate::mongo::privileges::Job::Stats),
            Access::ReadOnly,
        )
        .await?;
        let mongodb = stats::mongo_stats(&m.client, &cfg.mongodb.database).await.map_err(|e| {
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
            write_down(cfg, args).await;
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
    let (redis, mut conn, redis_failure) = redis_or_failure(cfg).await;
    let now = jiff::Timestamp::now();
    let jobs = job_ages(cfg, conn.as_mut(), now.as_millisecond() as f64 / 1000.0).await;
    let mut report = Report {
        generated_at: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        mongodb,
        replica_set,
        redis,
        jobs,
        growth: None,
    };
    if let Some(path) = &args.history {
        let entry = history::Entry {
            time: report.generated_at.clone(),
            database: report.mongodb.database.clone(),
            collections: report
                .mongodb
                .collections
                .iter()
                .map(|c| stats::CollectionStats { index_usage: Vec::new(), ..c.clone() })
                .collect(),
        };
        report.growth = history::last_entry(path).map(|prev| history::growth(&prev, &entry));
        history::append(path, &entry).map_err(|e| {
            CliError::new(Outcome::Failed, format!("cannot append to {}: {e}", path.display()))
        })?;
    }

    let format = if ctx.out.is_json() { StatsFormat::Json } else { args.format };
    let text = match format {
        StatsFormat::Prometheus => Some(prom::render(&report)),
        StatsFormat::Json => Some(serde_json::to_string_pretty(&report)? + "\n"),
        StatsFormat::Table => None,
    };
    let mut written = None;
    match (&args.out, text) {
        (Some(path), Some(text)) => {
            // The folder is made when missing; metrics are no secret, and node_exporter
            // usually runs as another user: the file is world-readable.
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            dir.map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| crate::files::write_atomic_mode(path, text.as_bytes(), 0o644))
                .map_err(|e| {
                CliError::new(Outcome::Failed, format!("cannot write {}: {e}", path.display()))
                    .with_hint("for node_exporter, --out must be in its textfile folder (writable by this user)")
            })?;
            written = Some(path.display().to_string());
            ctx.out.line(format!("wrote {}", path.display()));
        }
        (Some(_), None) => {
            return Err(CliError::usage("--out needs --format prometheus or json").into());
        }
        (None, Some(text)) if format != StatsFormat::Json || !ctx.out.is_json() => {
            ctx.out.raw(&text);
        }
        _ => print_table(ctx, &report, &m.display_uri),
    }
    ctx.out.summary(&Summary { report: &report, path: written });
    match redis_failure {
        Some(e) => Err(e),
        None => Ok(Outcome::Ok),
    }
}

/// The Redis section; a required Redis that does not answer is reported as unreachable *and*
/// returned as the run's failure (exit 3), after the report (with `redis_up 0`) is written.
async fn redis_or_failure(
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

/// MongoDB did not answer: with `--format prometheus --out FILE`, the file still says so
/// (`daraa_ops_mongodb_up 0`, and `redis_up` when Redis is configured), so an alert on
/// `mongodb_up == 0` fires instead of the old file's values going stale.
async fn write_down(cfg: &Config, args: &StatsArgs) {
    let (StatsFormat::Prometheus, Some(path)) = (args.format, &args.out) else { return };
    let redis_up = match redis_section(cfg).await {
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

/// The JSON summary of `stats` (docs/cli.md): the report, and the file written with `--out`.
#[derive(Debug, serde::Serialize)]
struct Summary<'a> {
    #[serde(flatten)]
    report: &'a Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
}

async fn redis_section(
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
    let cache_keys =
        match stats::count_prefixes(&mut conn, &rc.cache_prefixes, PREFIX_SCAN_CAP).await {
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

async fn job_ages(
    cfg: &Config,
    conn: Option<&mut redis::aio::MultiplexedConnection>,
    now: f64,
) -> Vec<JobAge> {
    let mut out = Vec::new();
    if let Some(dir) = &cfg.metrics.textfile_dir {
        for job in stats::JOBS {
            if let Ok(text) = std::fs::read_to_string(
                dir.join(crate::lastrun::textfile_name(job, &cfg.mongodb.database)),
            ) {
                out.push(stats::job_age_from_textfile(&text, job, now));
            }
        }
        return out;
    }
    let (Some(conn), Some(rc)) = (conn, &cfg.redis) else { return out };
    for job in stats::JOBS {
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

fn age(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    humantime::format_duration(std::time::Duration::from_secs(s)).to_string()
}

fn bytes(n: i64) -> String {
    human_bytes(u64::try_from(n).unwrap_or(0))
}

#[allow(clippy::many_single_char_names)]
fn print_table(ctx: &Context, r: &Report, uri: &str) {
    let m = &r.mongodb;
    let mut head = format!("MongoDB {} at {uri}", m.server_version);
    if let Some(u) = m.uptime_seconds {
        let _ = write!(head, ", up {}", age(u));
    }
    if let Some(c) = m.connections_current {
        let _ = write!(head, ", {c} connections");
        if let Some(a) = m.connections_available {
            let _ = write!(head, " ({a} available)");
        }
    }
    ctx.out.line(head);
    let d = &m.database;
    ctx.out.line(format!(
        "database {}: {} collections, {} documents, data {}, storage {}, indexes {}",
        d.name,
        d.collections,
        d.objects,
        bytes(d.data_bytes),
        bytes(d.storage_bytes),
        bytes(d.index_bytes)
    ));
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY);
    t.set_header([
        "COLLECTION",
        "DOCUMENTS",
        "SIZE",
        "AVG DOC",
        "STORAGE",
        "INDEXES",
        "INDEX SIZE",
    ]);
    for c in &m.collections {
        t.add_row([
            c.name.clone(),
            c.documents.to_string(),
            bytes(c.size_bytes),
            bytes(c.avg_object_bytes),
            bytes(c.storage_bytes),
            c.indexes.to_string(),
            bytes(c.index_bytes),
        ]);
    }
    ctx.out.line(t);
    print_index_usage(ctx, m);
    print_replica_set_and_redis(ctx, r);
    print_jobs_and_growth(ctx, r);
}

fn print_index_usage(ctx: &Context, m: &crate::stats::MongoStats) {
    if m.index_usage_available {
        let unused: Vec<String> = m
            .collections
            .iter()
            .flat_map(|c| {
                c.index_usage
                    .iter()
                    .filter(|i| i.ops == 0 && i.name != "_id_")
                    .map(move |i| format!("{}.{}", c.name, i.name))
            })
            .collect();
        ctx.out.line(if unused.is_empty() {
            "unused indexes since restart: none".to_owned()
        } else {
            format!("unused indexes since restart: {}", unused.join(", "))
        });
    } else {
        ctx.out.line("index usage: not available ($indexStats is not implemented by this server)");
    }
}

fn print_replica_set_and_redis(ctx: &Context, r: &Report) {
    if let Some(rs) = &r.replica_set {
        ctx.out.line(format!("replica set {}:", rs.set));
        for mem in &rs.members {
            ctx.out.line(format!(
                "  {} {}{}{}",
                mem.name,
                mem.state,
                if mem.healthy { "" } else { " UNHEALTHY" },
                mem.lag_seconds.map(|l| format!(", lag {l:.0}s")).unwrap_or_default()
            ));
        }
    }
    match (&r.redis.server, r.redis.status) {
        (Some(s), _) => {
            ctx.out.line(format!(
                "Redis {}: memory {} (peak {}, max {}, policy {}), hit ratio {}, evicted {}, expired {}, clients {}, rdb {}, aof {}",
                s.version,
                human_bytes(s.used_memory_bytes),
                human_bytes(s.used_memory_peak_bytes),
                if s.maxmemory_bytes == 0 { "none".to_owned() } else { human_bytes(s.maxmemory_bytes) },
                s.maxmemory_policy,
                s.hit_ratio.map_or_else(|| "-".to_owned(), |h| format!("{:.1}%", h * 100.0)),
                s.evicted_keys,
                s.expired_keys,
                s.connected_clients,
                if s.rdb_last_bgsave_ok { "ok" } else { "LAST SAVE FAILED" },
                if s.aof_enabled { "on" } else { "off" },
            ));
            if !r.redis.cache_keys.is_empty() {
                let parts: Vec<String> = r
                    .redis
                    .cache_keys
                    .iter()
                    .map(|p| format!("{} {}{}", p.prefix, p.keys, if p.capped { "+" } else { "" }))
                    .collect();
                ctx.out.line(format!("  cache keys: {}", parts.join(", ")));
            }
        }
        (None, "not-configured") => ctx.out.line("Redis: not configured"),
        (None, status) => ctx.out.line(format!(
            "Redis: {status} ({})",
            r.redis.error.as_deref().unwrap_or("no details")
        )),
    }
}

fn print_jobs_and_growth(ctx: &Context, r: &Report) {
    for j in &r.jobs {
        ctx.out.line(format!(
            "{}: last success {}, last run {}{}",
            j.job,
            j.last_success_age_seconds
                .map_or_else(|| "never".to_owned(), |a| format!("{} ago", age(a))),
            j.last_run_age_seconds
                .map_or_else(|| "never".to_owned(), |a| format!("{} ago", age(a))),
            j.last_exit_code.map(|c| format!(" (exit {c})")).unwrap_or_default()
        ));
    }
    if let Some(g) = &r.growth {
        ctx.out.line(format!(
            "since {}: {:+} documents, {:+} bytes of data",
            g.since, g.objects, g.data_bytes
        ));
    }
}
