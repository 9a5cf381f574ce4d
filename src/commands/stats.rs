//! `stats`: the statistics engine (src/stats/) as a table, JSON or Prometheus text, to
//! stdout or a file (`--out`, for node_exporter's textfile collector).

use crate::cli::{StatsArgs, StatsFormat};
use crate::context::Context;
use crate::error::CliError;
use crate::error::Outcome;
use crate::stats::{Report, job, prom, table};

pub async fn run(ctx: &Context, args: &StatsArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let prometheus_out = args.format == StatsFormat::Prometheus;
    let collected =
        job::collect(cfg, args.history.as_deref(), prometheus_out, args.out.as_deref()).await?;
    let report = &collected.report;
    let format = if ctx.out.is_json() { StatsFormat::Json } else { args.format };
    let text = match format {
        StatsFormat::Prometheus => Some(prom::render(report)),
        StatsFormat::Json => Some(serde_json::to_string_pretty(report)? + "\n"),
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
        _ => table::print_table(&ctx.out, report, &collected.display_uri),
    }
    ctx.out.summary(&Summary { report, path: written });
    match collected.redis_failure {
        Some(e) => Err(e),
        None => Ok(Outcome::Ok),
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
