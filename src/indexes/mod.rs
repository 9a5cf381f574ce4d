//! Index management: the declared spec (`spec.rs`), the comparison with the live indexes
//! (`diff.rs`). The `indexes` command reads, applies and exports through these.

pub mod diff;
pub mod server;
pub mod spec;

#[cfg(test)]
mod tests;
