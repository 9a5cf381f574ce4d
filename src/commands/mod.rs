//! One module per command, each `pub async fn run(ctx, args) -> anyhow::Result<ExitStatus>`.
pub mod completions;
pub mod config;
pub mod man;
