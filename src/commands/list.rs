//! `list`: backups in the local directory and in S3, from names and sidecars only.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog;
use crate::cli::ListArgs;
use crate::context::Context;
use crate::outcome::Outcome;
use crate::output::human_bytes;
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

#[derive(Debug, Serialize)]
struct Row {
    id: String,
    time: String,
    size: Option<u64>,
    collections: Option<u64>,
    documents: Option<u64>,
    label: Option<String>,
    locations: Vec<&'static str>,
    complete: bool,
    status: String,
    /// Adopted by `import` (not written by `backup`).
    imported: bool,
    /// Marked by the shrink guard (`backup.max_shrink`): not counted by retention or `latest`.
    shrunk: bool,
    /// Complete but holding no documents: not counted by retention or `latest`.
    empty: bool,
    /// The last verify and drill of this backup (`<id>.checks.json`), when any ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    verified: Option<catalog::Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    drilled: Option<catalog::Check>,
}

pub async fn run(ctx: &Context, args: &ListArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let mut storages: Vec<Storage> = Vec::new();
    if !args.remote {
        storages
            .push(Storage::Local(crate::storage::local::LocalStore::new(cfg.backup.dir.clone())));
    }
    if !args.local {
        match crate::storage::remote(cfg).await {
            Some(s) => storages.push(s),
            None if args.remote => {
                return Err(crate::outcome::CliError::usage(
                    "--remote needs the s3 section in the config",
                )
                .into());
            }
            None => {}
        }
    }
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut remote_error = None;
    for storage in &storages {
        let kind = storage.kind();
        let entries =
            match catalog::scan(storage, &cfg.backup.name_prefix, &cfg.mongodb.database).await {
                Ok(entries) => entries,
                // S3 down: still show the local backups, and say so.
                Err(e) if kind == "s3" && !args.remote => {
                    tracing::warn!("{e}; showing local backups only");
                    remote_error = Some(e.to_string());
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
        for e in entries {
            let status = if e.complete {
                "complete"
            } else if e.partial {
                "in progress or interrupted"
            } else {
                "incomplete"
            };
            let row = rows.entry(e.id.clone()).or_insert_with(|| Row {
                id: e.id.clone(),
                time: e.time.to_string(),
                size: e.archive_size,
                collections: None,
                documents: None,
                label: None,
                locations: Vec::new(),
                complete: false,
                status: String::new(),
                imported: false,
                shrunk: false,
                empty: false,
                verified: None,
                drilled: None,
            });
            if let Some(s) = &e.sidecar {
                row.collections = Some(s.manifest.totals.collections + s.manifest.totals.views);
                row.documents = Some(s.manifest.totals.documents);
                row.label.clone_from(&s.manifest.label);
                row.size = Some(s.archive.size);
                row.imported = e.imported();
                row.shrunk = e.shrunk();
                row.empty = e.complete && !e.shrunk() && !e.is_good();
            }
            row.locations.push(kind);
            if let Some(c) = &e.checks {
                // Newest result wins when both storages hold one.
                let newer = |a: &Option<catalog::Check>, b: &Option<catalog::Check>| match (a, b) {
                    (Some(x), Some(y)) if y.at > x.at => b.clone(),
                    (None, _) => b.clone(),
                    _ => a.clone(),
                };
                row.verified = newer(&row.verified, &c.verified);
                row.drilled = newer(&row.drilled, &c.drilled);
            }
            // Complete somewhere is complete; the status names each place otherwise.
            row.complete |= e.complete;
            let part = format!("{kind}: {status}");
            row.status =
                if row.status.is_empty() { part } else { format!("{}, {part}", row.status) };
        }
    }
    let rows: Vec<Row> = rows.into_values().rev().collect();
    if !ctx.out.is_json() {
        print_table(ctx, &rows, cfg, &storages);
    }
    ctx.out.summary(&Summary { backups: rows, remote_error });
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
