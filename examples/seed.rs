//! Seeds a database with deterministic Daraa-like data and the `bsonzoo` collection, then
//! prints a JSON report (counts, and what the server refused or altered).
//!
//!   cargo run --example seed -- --uri "$DARAA_TEST_MONGODB_URI" --scale 1 --seed 42
//!   cargo run --example seed -- --db bench_replay --changes 50000   # oplog load (bench --replay)
#![allow(clippy::print_stdout)]

use clap::Parser;

#[derive(Debug, Parser)]
struct Args {
    /// MongoDB URI with credentials (an admin user of the test server)
    #[arg(long, env = "DARAA_TEST_MONGODB_URI", hide_env_values = true)]
    uri: String,
    #[arg(long, default_value = "daraa")]
    db: String,
    /// 1 = ~121,000 documents
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Reference time (RFC 3339); default: today 00:00 UTC
    #[arg(long)]
    now: Option<jiff::Timestamp>,
    /// Collections seeded at once
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// Skip the bsonzoo collection
    #[arg(long)]
    no_zoo: bool,
    /// Only drop the database (benchmarks clean up with it)
    #[arg(long)]
    drop_only: bool,
    /// Instead of seeding: about this many changes in collection `live` (six inserts, three
    /// updates, one delete in ten), recorded in the server's oplog, whose capped
    /// `local.oplog.rs` is created when missing (FerretDB records one once it exists).
    /// Prints the changes made as JSON.
    #[arg(long)]
    changes: Option<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = mongodb::Client::with_uri_str(&args.uri).await?;
    if args.drop_only {
        client.database(&args.db).drop().await?;
        return Ok(());
    }
    if let Some(n) = args.changes {
        let made = changes(&client, &args.db, n).await?;
        println!(
            "{}",
            serde_json::json!({"inserted": made.0, "updated": made.1, "deleted": made.2})
        );
        return Ok(());
    }
    let opts = daraa_devdata::SeedOptions {
        database: args.db,
        scale: args.scale,
        seed: args.seed,
        now_ms: args.now.map_or_else(daraa_devdata::today_ms, jiff::Timestamp::as_millisecond),
        parallel: args.parallel,
        with_zoo: !args.no_zoo,
    };
    let report = daraa_devdata::seed(&client, &opts).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// About `n` changes in `<db>.live`, continuing its ids: inserts in batches of 500, then
/// updates that set one field and remove another on the oldest new ones, then deletes of the
/// newest. Returns (inserted, updated, deleted).
async fn changes(client: &mongodb::Client, db: &str, n: u64) -> anyhow::Result<(u64, u64, u64)> {
    use bson::doc;
    let local = client.database("local");
    if !local.list_collection_names().await?.iter().any(|c| c == "oplog.rs") {
        local
            .run_command(doc! {"create": "oplog.rs", "capped": true, "size": 1_073_741_824_i64})
            .await?;
    }
    let live = client.database(db).collection::<bson::Document>("live");
    let first = live
        .find_one(doc! {})
        .sort(doc! {"_id": -1})
        .await?
        .and_then(|d| d.get_i64("_id").ok())
        .map_or(0, |id| id + 1);
    let (inserts, updates) = (n * 6 / 10, n * 3 / 10);
    let deletes = n - inserts - updates;
    let count = i64::try_from(inserts)?;
    for start in (0..count).step_by(500) {
        let batch: Vec<bson::Document> = (start..(start + 500).min(count))
            .map(|i| {
                doc! {"_id": first + i, "seq": i, "status": "new", "total": i as f64 * 1.5,
                "note": format!("order {i}: deliver to the side door"), "items": [{"sku": i % 97, "qty": 2}]}
            })
            .collect();
        live.insert_many(batch).await?;
    }
    let upd = live
        .update_many(
            doc! {"_id": {"$gte": first, "$lt": first + i64::try_from(updates)?}},
            doc! {"$set": {"status": "paid"}, "$unset": {"note": ""}},
        )
        .await?;
    let end = first + count;
    let del =
        live.delete_many(doc! {"_id": {"$gte": end - i64::try_from(deletes)?, "$lt": end}}).await?;
    Ok((inserts, upd.modified_count, del.deleted_count))
}
