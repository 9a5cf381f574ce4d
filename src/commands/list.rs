//! `list`: backups in the local directory and in S3 (src/repo/listing.rs), as a table or JSON.

use serde::Serialize;

use crate::cli::ListArgs;
use crate::context::Context;
use crate::error::Outcome;
use crate::output::human_bytes;
use crate::repo::listing::{self, Row};
use crate::storage::Storage;

/// The JSON summary of `list` (docs/cli.md).
#[derive(Debug, Serialize)]
struct Summary {
    /// Newest first.
    backups: Vec<Row>,
    /// S3 could not be listed; the local backups are shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    remote_error: Option<String>,
}

pub async fn run(ctx: &Context, args: &ListArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let l = listing::list(cfg, args.local, args.remote).await?;
    if !ctx.out.is_json() {
        print_table(ctx, &l.rows, cfg, &l.storages);
    }
    ctx.out.summary(&Summary { backups: l.rows, remote_error: l.remote_error });
    Ok(Outcome::Ok)
}

fn print_table(ctx: &Context, rows: &[Row], cfg: &crate::config::Config, storages: &[Storage]) {
    if rows.is_empty() {
        ctx.out.line(format!(
            "no backups of {} in {}",
            cfg.mongodb.database,
            storages.iter().map(Storage::describe).collect::<Vec<_>>().join(" or ")
        ));
        return;
    }
    // Fits an 80-column terminal: the id carries the time (UTC, sortable), borders are
    // spaces. Labels get a column when a backup has one.
    let mut t = crate::output::table();
    let labels = rows.iter().any(|r| r.label.is_some());
    let mut header = vec!["ID (time UTC)", "SIZE", "DOCS", "WHERE", "STATUS"];
    if labels {
        header.push("LABEL");
    }
    t.set_header(header);
    // The id is what people copy into the next command: no column but the label ever wraps
    // (collection counts are in `describe` and the JSON, to leave the label room).
    for i in 0..5 {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
        }
    }
    if let Some(c) = t.column_mut(5) {
        c.set_constraint(comfy_table::ColumnConstraint::LowerBoundary(comfy_table::Width::Fixed(
            12,
        )));
    }
    for r in rows {
        let opt = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        let mut row = vec![
            r.id.clone(),
            r.size.map_or_else(|| "-".into(), human_bytes),
            opt(r.documents),
            r.locations.join("+"),
            if r.complete && !r.status.contains("incomplete") && !r.status.contains("interrupted") {
                checked(r)
            } else {
                r.status.clone()
            },
        ];
        if labels {
            row.push(r.label.clone().unwrap_or_default());
        }
        t.add_row(row);
    }
    ctx.out.line(t);
}

/// A complete backup's status: SHRUNK or EMPTY first (such a backup never counts), then the
/// newest of its checks (a failed one stands out), else `complete`; `imported` last.
fn checked(r: &Row) -> String {
    let check = match (&r.verified, &r.drilled) {
        (_, Some(d)) if !d.ok => "drill FAILED",
        (Some(v), _) if !v.ok => "verify FAILED",
        (_, Some(_)) => "drilled",
        (Some(v), None) if v.contents_checked == Some(false) => "verified (no key)",
        (Some(_), None) => "verified",
        (None, None) => "complete",
    };
    let mut parts = Vec::new();
    if r.shrunk {
        parts.push("SHRUNK");
    } else if r.empty {
        parts.push("EMPTY");
    }
    if check != "complete" || parts.is_empty() {
        parts.push(check);
    }
    if r.imported {
        parts.push("imported");
    }
    parts.join(", ")
}
