//! daraa-ops' own format: a gzip'd tar (docs/archive-format.md), its member layout, its
//! writer and its walker (which also reads tars of mongodump `--out` folders).

pub mod layout;
pub mod reader;
pub mod writer;
