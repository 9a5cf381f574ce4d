//! `describe <ID|latest|PATH>`: one backup's manifest as a table (collections, documents,
//! bytes, checksums), with its format, encryption, timings, copies and last verify and drill;
//! the whole sidecar in JSON. A backup without a sidecar (a path) is read once for its
//! manifest.

use comfy_table::Table;
use serde::Serialize;

use crate::archive::Sidecar;
use crate::cli::DescribeArgs;
use crate::context::Context;
use crate::error::Outcome;
use crate::output::human_bytes;
use crate::repo;

/// The JSON summary of `describe` (docs/cli.md).
#[derive(Debug, Serialize)]
struct Summary {
    id: String,
    source: String,
    /// The manifest and the archive's size, SHA-256 and encryption (as the sidecar holds them);
    /// for a backup without a sidecar, the manifest read from it and no `archive`.
    manifest: crate::archive::Manifest,
    #[serde(skip_serializing_if = "Option::is_none")]
    archive: Option<crate::archive::ArchiveInfo>,
    /// Storages holding a complete copy (`local`, `s3`).
    locations: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<repo::Checks>,
}

pub async fn run(ctx: &Context, args: &DescribeArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let source = repo::resolve(cfg, &args.target).await?;
    let (manifest, archive) = match &source.sidecar {
        Some(Sidecar { manifest, archive }) => (manifest.clone(), Some(archive.clone())),
        None => {
            let survey =
                crate::restore::survey(&source, &ctx.cancel, "nothing was changed").await?;
            (survey.manifest, None)
        }
    };
    let (locations, checks) = if source.in_catalog {
        repo::listing::copies(cfg, &source.id).await
    } else {
        (Vec::new(), None)
    };
    if !ctx.out.is_json() {
        for line in describe(&source, &manifest, archive.as_ref(), &locations, checks.as_ref()) {
            ctx.out.line(line);
        }
        ctx.out.line(collections_table(&manifest));
    }
    ctx.out.summary(&Summary {
        id: source.id.clone(),
        source: source.describe(),
        manifest,
        archive,
        locations,
        checks,
    });
    Ok(Outcome::Ok)
}

fn describe(
    source: &repo::Resolved,
    m: &crate::archive::Manifest,
    archive: Option<&crate::archive::ArchiveInfo>,
    locations: &[&str],
    checks: Option<&repo::Checks>,
) -> Vec<String> {
    let mut lines = vec![format!("backup      {}", source.id)];
    if let Some(l) = &m.label {
        lines.push(format!("label       {l}"));
    }
    lines.push(format!("database    {} (MongoDB {})", m.database, m.server_version));
    let took = m
        .created_at
        .parse::<jiff::Timestamp>()
        .ok()
        .zip(m.completed_at.parse::<jiff::Timestamp>().ok())
        .map(|(a, b)| format!(" ({:.0}s)", b.duration_since(a).as_secs_f64().max(0.0)))
        .unwrap_or_default();
    lines.push(format!("dumped      {} to {}{took}", m.created_at, m.completed_at));
    let format = match m.container.as_deref() {
        Some("archive") => "mongodump archive format (.archive.gz)",
        _ if archive
            .map_or(&source.archive_name, |a| &a.file)
            .contains(crate::archive::names::ZSTD_SUFFIX) =>
        {
            "tar of mongodump's folder layout, zstd (.tar.zst)"
        }
        _ => "tar of mongodump's folder layout (.tar.gz)",
    };
    lines.push(format!("format      {format}, written by daraa-ops {}", m.tool_version));
    if let Some(a) = archive {
        lines.push(format!(
            "archive     {} ({}, sha256 {})",
            a.file,
            human_bytes(a.size),
            a.sha256
        ));
        lines.push(match &a.encryption {
            Some(e) => format!("encryption  {} for {}", e.scheme, e.recipients.join(", ")),
            None => "encryption  none".into(),
        });
    }
    lines.push(format!(
        "totals      {} collection(s), {} view(s), {} document(s), {} of BSON",
        m.totals.collections,
        m.totals.views,
        m.totals.documents,
        human_bytes(m.totals.bytes)
    ));
    if locations.is_empty() {
        lines.push(format!("read from   {}", source.describe()));
    } else {
        lines.push(format!("stored in   {}", locations.join(", ")));
    }
    if let Some(i) = &m.imported {
        lines.push(format!(
            "imported    from {} ({}) at {}",
            i.source, i.source_format, i.imported_at
        ));
    }
    if let Some(o) = &m.oplog {
        let until = crate::oplog::Ts::from(o.until);
        lines.push(format!(
            "oplog       {} entries written during the dump; restores stand at {until}",
            o.entries
        ));
    } else if let Some(why) = &m.not_point_in_time {
        lines.push(format!("oplog       none: not point-in-time ({why})"));
    }
    if let Some(s) = &m.shrunk {
        lines.push(format!(
            "SHRUNK      {} documents against {} in {}: not counted by retention or `latest`",
            m.totals.documents, s.previous_documents, s.previous_id
        ));
    }
    let check = |name: &str, c: Option<&repo::Check>| match c {
        None => format!("{name:<11} never"),
        Some(c) if c.ok => format!(
            "{name:<11} ok{} at {}{}",
            if c.contents_checked == Some(false) {
                " (no key: the stored file's size and SHA-256 only)"
            } else {
                ""
            },
            c.at,
            c.restore_seconds.map(|s| format!(", restore took {s:.1}s")).unwrap_or_default()
        ),
        Some(c) => format!(
            "{name:<11} FAILED at {}: {}",
            c.at,
            c.error.as_deref().unwrap_or("(no detail)")
        ),
    };
    lines.push(check("verified", checks.and_then(|c| c.verified.as_ref())));
    lines.push(check("drilled", checks.and_then(|c| c.drilled.as_ref())));
    lines
}

fn collections_table(m: &crate::archive::Manifest) -> Table {
    let mut t = crate::output::table();
    t.set_header(["COLLECTION", "TYPE", "DOCUMENTS", "BSON", "SHA-256"]);
    for c in &m.collections {
        t.add_row([
            c.name.clone(),
            c.kind.clone(),
            c.documents.to_string(),
            human_bytes(c.bytes),
            c.sha256
                .as_deref()
                .map_or_else(|| "-".into(), |h| format!("{}…", &h[..h.len().min(16)])),
        ]);
    }
    t
}
