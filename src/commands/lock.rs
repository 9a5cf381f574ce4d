//! `lock status` and `lock release --force`.

use crate::cli::LockCommand;
use crate::context::Context;
use crate::error::CliError;
use crate::lock;
use crate::outcome::Outcome;

pub async fn run(ctx: &Context, cmd: &LockCommand) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let backend = lock::backend(cfg, &cfg.mongodb.database).await?;
    ctx.out.set("lock", format!("{backend:?}"));
    match cmd {
        LockCommand::Status => match lock::status(&backend).await? {
            Some((holder, ttl)) => {
                let expires = ttl
                    .map(|t| format!(", expires in {}s unless renewed", t.as_secs()))
                    .unwrap_or_default();
                ctx.out.line(format!("held: {}{expires}", holder.describe()));
                ctx.out.set("held", true);
                ctx.out.set("holder", &holder);
            }
            None => {
                ctx.out.line(format!("free ({backend:?})"));
                ctx.out.set("held", false);
            }
        },
        LockCommand::Release(args) => {
            if !args.force {
                return Err(CliError::usage("lock release needs --force")
                    .with_hint("releasing a lock that a running job holds lets two jobs overlap; check `daraa-ops lock status` first")
                    .into());
            }
            match lock::force_release(&backend).await? {
                Some(h) => {
                    ctx.out.line(format!("released the lock held by {}", h.describe()));
                    ctx.out.set("released", &h);
                }
                None => ctx.out.line("the lock was free"),
            }
        }
    }
    Ok(Outcome::Ok)
}
