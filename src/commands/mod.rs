//! One module per command, each `pub async fn run(ctx, args) -> anyhow::Result<ExitStatus>`.
pub mod backup;
pub mod completions;
pub mod config;
pub mod drill;
pub mod list;
pub mod lock;
pub mod man;
pub mod prune;
pub mod restore;
pub mod users;
pub mod verify;
