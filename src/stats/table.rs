//! `stats` for people: the tables and lines of the default format.

use std::fmt::Write as _;

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};

use super::Report;
use crate::output::{Printer, human_bytes};

fn age(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    humantime::format_duration(std::time::Duration::from_secs(s)).to_string()
}

fn bytes(n: i64) -> String {
    human_bytes(u64::try_from(n).unwrap_or(0))
}

#[allow(clippy::many_single_char_names)]
pub fn print_table(out: &Printer, r: &Report, uri: &str) {
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
    out.line(head);
    let d = &m.database;
    out.line(format!(
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
    out.line(t);
    print_index_usage(out, m);
    print_replica_set_and_redis(out, r);
    print_jobs_and_growth(out, r);
}

fn print_index_usage(out: &Printer, m: &super::MongoStats) {
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
        out.line(if unused.is_empty() {
            "unused indexes since restart: none".to_owned()
        } else {
            format!("unused indexes since restart: {}", unused.join(", "))
        });
    } else {
        out.line("index usage: not available ($indexStats is not implemented by this server)");
    }
}

fn print_replica_set_and_redis(out: &Printer, r: &Report) {
    if let Some(rs) = &r.replica_set {
        out.line(format!("replica set {}:", rs.set));
        for mem in &rs.members {
            out.line(format!(
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
            out.line(format!(
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
                out.line(format!("  cache keys: {}", parts.join(", ")));
            }
        }
        (None, "not-configured") => out.line("Redis: not configured"),
        (None, status) => out.line(format!(
            "Redis: {status} ({})",
            r.redis.error.as_deref().unwrap_or("no details")
        )),
    }
}

fn print_jobs_and_growth(out: &Printer, r: &Report) {
    for j in &r.jobs {
        out.line(format!(
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
        out.line(format!(
            "since {}: {:+} documents, {:+} bytes of data",
            g.since, g.objects, g.data_bytes
        ));
    }
}
