//! `lock status` and `lock release --force`: every lock daraa-ops takes for the configured
//! database (the main one and the drill's), in every backend (file, Redis).

use serde::Serialize;

use crate::cli::LockCommand;
use crate::context::Context;
use crate::error::CliError;
use crate::error::Outcome;
use crate::lock::{self, Holder};

pub async fn run(ctx: &Context, cmd: &LockCommand) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let mut summary = Summary::default();
    match cmd {
        LockCommand::Status => {
            for name in lock::names(cfg) {
                for backend in lock::backends(cfg, &name).await? {
                    let state = lock::status(&backend).await?;
                    let line = match &state {
                        Some((h, ttl)) => format!(
                            "{name} ({backend:?}): held by {}{}",
                            h.describe(),
                            ttl.map(|t| format!(", expires in {}s unless renewed", t.as_secs()))
                                .unwrap_or_default()
                        ),
                        None => format!("{name} ({backend:?}): free"),
                    };
                    ctx.out.line(line);
                    summary.held = Some(summary.held.unwrap_or(false) || state.is_some());
                    summary.locks.push(LockState {
                        name: name.clone(),
                        backend: format!("{backend:?}"),
                        held: state.is_some(),
                        expires_in_seconds: state
                            .as_ref()
                            .and_then(|(_, t)| t.map(|t| t.as_secs())),
                        holder: state.map(|(h, _)| h),
                    });
                }
            }
        }
        LockCommand::Release(args) => {
            if args.force == 0 {
                return Err(CliError::usage("lock release needs --force")
                    .with_hint("releasing a lock that a running job holds lets two jobs overlap; check `daraa-ops lock status` first")
                    .into());
            }
            let names = lock::names(cfg);
            if let Some(n) = &args.name
                && !names.contains(n)
            {
                return Err(CliError::usage(format!("no lock named {n}"))
                    .with_hint(format!("the locks of this database: {}", names.join(", ")))
                    .into());
            }
            for name in names.iter().filter(|n| args.name.as_ref().is_none_or(|w| w == *n)) {
                for backend in lock::backends(cfg, name).await? {
                    match lock::force_release(&backend, args.force >= 2).await {
                        Ok(Some(h)) => {
                            ctx.out.line(format!(
                                "{name}: released the lock held by {}",
                                h.describe()
                            ));
                            summary.released.push(h);
                        }
                        Ok(None) => ctx.out.line(format!("{name} ({backend:?}): was free")),
                        Err(e) => {
                            ctx.out.summary(&summary);
                            return Err(e.into());
                        }
                    }
                }
            }
        }
    }
    ctx.out.summary(&summary);
    Ok(Outcome::Ok)
}

/// The JSON summary of `lock status|release` (docs/cli.md).
#[derive(Debug, Default, Serialize)]
struct Summary {
    /// Whether any lock is held (status).
    #[serde(skip_serializing_if = "Option::is_none")]
    held: Option<bool>,
    /// Each lock in each backend (status).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locks: Vec<LockState>,
    /// The holders whose locks were removed (release).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    released: Vec<Holder>,
}

#[derive(Debug, Serialize)]
struct LockState {
    name: String,
    backend: String,
    held: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    holder: Option<Holder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in_seconds: Option<u64>,
}
