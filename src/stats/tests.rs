//! The stats report rendered for Prometheus from reply fixtures (tests/fixtures: written here
//! from MongoDB 7's and Redis 7's documentation, not recorded from a server).

use std::collections::HashSet;

use super::*;

pub fn sample_report() -> Report {
    let rs_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mongodb7/replSetGetStatus.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(rs_path).unwrap()).unwrap();
    let Bson::Document(rs) = Bson::try_from(v).unwrap() else { panic!() };
    let info = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/redis7/info.txt"),
    )
    .unwrap();
    let orders = parse_coll_stats(
        "orders",
        &doc! {"count": 150, "size": 150_000, "avgObjSize": 1000, "storageSize": 65536, "nindexes": 3, "totalIndexSize": 12288},
    );
    let mut with_usage = orders.clone();
    with_usage.index_usage = parse_index_stats(&[
        doc! {"name": "_id_", "accesses": {"ops": 12_i64, "since": bson::DateTime::from_millis(1_780_000_000_000)}},
        doc! {"name": "status_1", "accesses": {"ops": 0_i64, "since": bson::DateTime::from_millis(1_780_000_000_000)}},
    ]);
    Report {
        generated_at: "2026-11-26T00:00:00Z".into(),
        mongodb: MongoStats {
            server_version: "7.0.14".into(),
            uptime_seconds: Some(3600.5),
            connections_current: Some(12),
            connections_available: Some(838_848),
            database: parse_db_stats(
                "daraa",
                &doc! {"collections": 2, "objects": 160, "dataSize": 151_000.0, "storageSize": 70_000, "indexSize": 16_384},
            ),
            collections: vec![
                with_usage,
                parse_coll_stats("tags \"x\"", &doc! {"count": 10, "size": 1000}),
            ],
            index_usage_available: true,
        },
        replica_set: crate::mongo::replset::parse(&rs),
        redis: RedisSection {
            status: "ok",
            error: None,
            server: Some(redis_info::parse(&info)),
            cache_keys: vec![PrefixCount { prefix: "cart:".into(), keys: 3, capped: false }],
        },
        jobs: Vec::new(),
        growth: None,
    }
}

#[test]
fn prometheus_text_has_one_help_and_type_per_family_and_no_duplicate_series() {
    let text = prom::render(&sample_report());
    let mut families = HashSet::new();
    let mut series = HashSet::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap().to_owned();
            assert!(families.insert(name.clone()), "family {name} twice");
            assert!(name.starts_with("daraa_ops_"), "{name}");
            current = name;
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut p = rest.split(' ');
            assert_eq!(p.next().unwrap(), current);
            let kind = p.next().unwrap();
            assert!(
                kind == "gauge" || (kind == "counter" && current.ends_with("_total")),
                "{line}"
            );
        } else {
            let key = line.rsplit_once(' ').unwrap().0;
            assert!(key.starts_with(&current), "{line} outside its family {current}");
            assert!(series.insert(key.to_owned()), "series {key} twice");
        }
    }
    assert!(text.contains(
        "daraa_ops_mongodb_collection_documents{database=\"daraa\",collection=\"orders\"} 150\n"
    ));
    assert!(text.contains("collection=\"tags \\\"x\\\"\""), "label values are escaped");
    assert!(text.contains("daraa_ops_mongodb_index_accesses_total{database=\"daraa\",collection=\"orders\",index=\"status_1\"} 0\n"));
    assert!(text.contains("daraa_ops_mongodb_replset_member_lag_seconds{set=\"rs0\",member=\"mongo-secondary:27017\"} 12\n"));
    assert!(text.contains("daraa_ops_redis_hit_ratio 0.8\n"));
    assert!(text.contains("daraa_ops_mongodb_uptime_seconds 3600.5\n"));
}

#[test]
fn job_ages_come_from_the_job_textfile() {
    let r = crate::lastrun::Record {
        job: "backup",
        database: "daraa".into(),
        exit_code: 0,
        ..Default::default()
    };
    let text = crate::lastrun::render(&r, 1000.0, Some(900.0));
    let age = job_age_from_textfile(&text, "backup", 1060.0);
    assert_eq!(age.last_run_age_seconds, Some(60.0));
    assert_eq!(age.last_success_age_seconds, Some(160.0));
    assert_eq!(age.last_exit_code, Some(0));
}
