//! Redis `INFO` parsed into the figures `stats` reports.

use std::collections::HashMap;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RedisStats {
    pub version: String,
    pub uptime_seconds: u64,
    pub used_memory_bytes: u64,
    pub used_memory_peak_bytes: u64,
    /// 0 means no limit.
    pub maxmemory_bytes: u64,
    pub maxmemory_policy: String,
    pub evicted_keys: u64,
    pub expired_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    /// hits / (hits + misses); none before the first lookup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hit_ratio: Option<f64>,
    pub connected_clients: u64,
    pub rdb_last_bgsave_ok: bool,
    pub rdb_last_save_timestamp: u64,
    pub aof_enabled: bool,
    /// Keys in all databases (from the Keyspace section).
    pub keys: u64,
}

/// `key:value` lines of an INFO reply; section headers and blank lines skipped.
pub fn fields(text: &str) -> HashMap<&str, &str> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .collect()
}

pub fn parse(text: &str) -> RedisStats {
    let f = fields(text);
    let n = |k: &str| f.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let hits = n("keyspace_hits");
    let misses = n("keyspace_misses");
    let keys = f
        .iter()
        .filter(|(k, _)| k.starts_with("db") && k[2..].chars().all(|c| c.is_ascii_digit()))
        .filter_map(|(_, v)| {
            v.split(',').find_map(|p| p.strip_prefix("keys=")).and_then(|k| k.parse::<u64>().ok())
        })
        .sum();
    RedisStats {
        version: f.get("redis_version").copied().unwrap_or("unknown").to_owned(),
        uptime_seconds: n("uptime_in_seconds"),
        used_memory_bytes: n("used_memory"),
        used_memory_peak_bytes: n("used_memory_peak"),
        maxmemory_bytes: n("maxmemory"),
        maxmemory_policy: f.get("maxmemory_policy").copied().unwrap_or("").to_owned(),
        evicted_keys: n("evicted_keys"),
        expired_keys: n("expired_keys"),
        keyspace_hits: hits,
        keyspace_misses: misses,
        hit_ratio: (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64),
        connected_clients: n("connected_clients"),
        rdb_last_bgsave_ok: f.get("rdb_last_bgsave_status").is_some_and(|s| *s == "ok"),
        rdb_last_save_timestamp: n("rdb_last_save_time"),
        aof_enabled: n("aof_enabled") == 1,
        keys,
    }
}

#[cfg(test)]
mod tests {
    /// INFO recorded from the redis-server 7.0.15 the tests run (CRLF line ends kept).
    #[test]
    fn parses_a_recorded_info_reply() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/redis7/info.txt"),
        )
        .unwrap();
        let s = super::parse(&text);
        assert_eq!(s.version, "7.0.15");
        assert_eq!(s.used_memory_bytes, 1_166_320);
        assert_eq!(s.used_memory_peak_bytes, 1_214_888);
        assert_eq!(s.maxmemory_policy, "noeviction");
        assert_eq!((s.keyspace_hits, s.keyspace_misses), (4, 1));
        assert_eq!(s.hit_ratio, Some(0.8));
        assert!(s.rdb_last_bgsave_ok && !s.aof_enabled);
        assert_eq!(s.keys, 4);
        assert_eq!(s.connected_clients, 1);
    }
}
