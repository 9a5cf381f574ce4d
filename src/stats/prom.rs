//! The Prometheus text exposition (format 0.0.4) of a stats report: `daraa_ops_` prefix, base
//! units (bytes, seconds), `_total` for counters, labels for database, collection and index.
//! Each family has one HELP and one TYPE line and its samples together; no series twice.
//!
//! Job last-run metrics are not repeated here: each job writes its own
//! `daraa_ops_<job>.prom`, and node_exporter refuses a series found in two files.

use super::Report;
use crate::metrics::Families;

/// What is known when MongoDB does not answer: it is down (and whether Redis is up).
pub fn render_down(redis_up: Option<bool>) -> String {
    let mut f = Families::default();
    f.add("mongodb_up", "gauge", "1 when the MongoDB server answered.", &[], 0.0);
    if let Some(up) = redis_up {
        f.add("redis_up", "gauge", "1 when Redis answered.", &[], if up { 1.0 } else { 0.0 });
    }
    f.render()
}

#[allow(clippy::too_many_lines, clippy::many_single_char_names)] // one metric per line, in the order people read them
pub fn render(r: &Report) -> String {
    let mut f = Families::default();
    let m = &r.mongodb;
    let db = m.database.name.as_str();
    f.add("mongodb_up", "gauge", "1 when the MongoDB server answered.", &[], 1.0);
    f.add(
        "mongodb_info",
        "gauge",
        "MongoDB server version.",
        &[("version", &m.server_version)],
        1.0,
    );
    if let Some(u) = m.uptime_seconds {
        f.add(
            "mongodb_uptime_seconds",
            "gauge",
            "Seconds since the MongoDB server started.",
            &[],
            u,
        );
    }
    if let Some(c) = m.connections_current {
        f.add(
            "mongodb_connections",
            "gauge",
            "Client connections by state.",
            &[("state", "current")],
            c as f64,
        );
    }
    if let Some(c) = m.connections_available {
        f.add(
            "mongodb_connections",
            "gauge",
            "Client connections by state.",
            &[("state", "available")],
            c as f64,
        );
    }
    let d = &m.database;
    let dl = [("database", db)];
    f.add(
        "mongodb_database_collections",
        "gauge",
        "Collections in the database.",
        &dl,
        d.collections as f64,
    );
    f.add("mongodb_database_objects", "gauge", "Documents in the database.", &dl, d.objects as f64);
    f.add(
        "mongodb_database_data_bytes",
        "gauge",
        "Uncompressed data size of the database.",
        &dl,
        d.data_bytes as f64,
    );
    f.add(
        "mongodb_database_storage_bytes",
        "gauge",
        "Storage allocated for the database's data.",
        &dl,
        d.storage_bytes as f64,
    );
    f.add(
        "mongodb_database_index_bytes",
        "gauge",
        "Storage of the database's indexes.",
        &dl,
        d.index_bytes as f64,
    );
    for c in &m.collections {
        let l = [("database", db), ("collection", c.name.as_str())];
        f.add(
            "mongodb_collection_documents",
            "gauge",
            "Documents in the collection.",
            &l,
            c.documents as f64,
        );
        f.add(
            "mongodb_collection_size_bytes",
            "gauge",
            "Uncompressed data size of the collection.",
            &l,
            c.size_bytes as f64,
        );
        f.add(
            "mongodb_collection_avg_object_bytes",
            "gauge",
            "Average document size.",
            &l,
            c.avg_object_bytes as f64,
        );
        f.add(
            "mongodb_collection_storage_bytes",
            "gauge",
            "Storage allocated for the collection.",
            &l,
            c.storage_bytes as f64,
        );
        f.add(
            "mongodb_collection_indexes",
            "gauge",
            "Indexes of the collection.",
            &l,
            c.indexes as f64,
        );
        f.add(
            "mongodb_collection_index_bytes",
            "gauge",
            "Storage of the collection's indexes.",
            &l,
            c.index_bytes as f64,
        );
        for i in &c.index_usage {
            let l = [("database", db), ("collection", c.name.as_str()), ("index", i.name.as_str())];
            f.add("mongodb_index_accesses_total", "counter", "Operations that used the index since the server started or the index was created ($indexStats).", &l, i.ops as f64);
        }
    }
    if let Some(rs) = &r.replica_set {
        for mem in &rs.members {
            let l = [
                ("set", rs.set.as_str()),
                ("member", mem.name.as_str()),
                ("state", mem.state.as_str()),
            ];
            f.add(
                "mongodb_replset_member_healthy",
                "gauge",
                "1 when the replica-set member is healthy.",
                &l,
                if mem.healthy { 1.0 } else { 0.0 },
            );
        }
        for mem in &rs.members {
            if let Some(lag) = mem.lag_seconds {
                let l = [("set", rs.set.as_str()), ("member", mem.name.as_str())];
                f.add(
                    "mongodb_replset_member_lag_seconds",
                    "gauge",
                    "Seconds a secondary is behind the primary.",
                    &l,
                    lag,
                );
            }
        }
    }
    let up = if r.redis.status == "ok" { 1.0 } else { 0.0 };
    if r.redis.status != "not-configured" {
        f.add("redis_up", "gauge", "1 when Redis answered.", &[], up);
    }
    if let Some(s) = &r.redis.server {
        f.add("redis_info", "gauge", "Redis server version.", &[("version", &s.version)], 1.0);
        f.add(
            "redis_uptime_seconds",
            "gauge",
            "Seconds since Redis started.",
            &[],
            s.uptime_seconds as f64,
        );
        f.add(
            "redis_memory_used_bytes",
            "gauge",
            "Memory Redis uses.",
            &[],
            s.used_memory_bytes as f64,
        );
        f.add(
            "redis_memory_peak_bytes",
            "gauge",
            "Peak memory Redis used.",
            &[],
            s.used_memory_peak_bytes as f64,
        );
        f.add(
            "redis_memory_max_bytes",
            "gauge",
            "maxmemory (0: no limit).",
            &[("policy", &s.maxmemory_policy)],
            s.maxmemory_bytes as f64,
        );
        f.add(
            "redis_evicted_keys_total",
            "counter",
            "Keys evicted for maxmemory.",
            &[],
            s.evicted_keys as f64,
        );
        f.add("redis_expired_keys_total", "counter", "Keys expired.", &[], s.expired_keys as f64);
        f.add(
            "redis_keyspace_hits_total",
            "counter",
            "Successful key lookups.",
            &[],
            s.keyspace_hits as f64,
        );
        f.add(
            "redis_keyspace_misses_total",
            "counter",
            "Failed key lookups.",
            &[],
            s.keyspace_misses as f64,
        );
        if let Some(h) = s.hit_ratio {
            f.add(
                "redis_hit_ratio",
                "gauge",
                "Hits / (hits + misses) since Redis started.",
                &[],
                h,
            );
        }
        f.add(
            "redis_connected_clients",
            "gauge",
            "Client connections.",
            &[],
            s.connected_clients as f64,
        );
        f.add(
            "redis_rdb_last_bgsave_success",
            "gauge",
            "1 when the last RDB save succeeded.",
            &[],
            if s.rdb_last_bgsave_ok { 1.0 } else { 0.0 },
        );
        f.add(
            "redis_rdb_last_save_timestamp_seconds",
            "gauge",
            "Unix time of the last RDB save.",
            &[],
            s.rdb_last_save_timestamp as f64,
        );
        f.add(
            "redis_aof_enabled",
            "gauge",
            "1 when the append-only file is on.",
            &[],
            if s.aof_enabled { 1.0 } else { 0.0 },
        );
        f.add("redis_keys", "gauge", "Keys in all Redis databases.", &[], s.keys as f64);
    }
    for p in &r.redis.cache_keys {
        f.add(
            "redis_cache_keys",
            "gauge",
            "Keys under a configured cache prefix (SCAN; a lower bound when capped).",
            &[("prefix", &p.prefix)],
            p.keys as f64,
        );
    }
    for p in &r.redis.cache_keys {
        f.add(
            "redis_cache_keys_capped",
            "gauge",
            "1 when counting a prefix's keys stopped at the scan cap.",
            &[("prefix", &p.prefix)],
            if p.capped { 1.0 } else { 0.0 },
        );
    }
    f.render()
}
