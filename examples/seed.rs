//! Seeds a database with deterministic Daraa-like data and the `bsonzoo` collection, then
//! prints a JSON report (counts, and what the server refused or altered).
//!
//!   cargo run --example seed -- --uri "$DARAA_TEST_MONGODB_URI" --scale 1 --seed 42
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
