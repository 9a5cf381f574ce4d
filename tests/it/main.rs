//! The integration test binary: CLI golden tests (no services) and tests against the real
//! services started by `scripts/services.sh up` (FerretDB, Redis, S3 on loopback).
// Test diagnostics go to stderr; a scenario test reads top to bottom, so it may be long.
#![allow(clippy::print_stderr, clippy::format_push_string, clippy::too_many_lines)]

mod architecture;
mod backup;
mod build;
mod cleanup;
mod cli;
mod compression;
mod config_services;
mod crashes;
mod encryption;
mod faults;
mod first_hour;
mod first_week;
mod generated;
mod hostile;
mod indexes;
mod interop;
mod json_shapes;
mod locks;
mod masking;
mod monitoring;
mod operator;
mod pitr;
mod privileges;
mod recovery;
mod restore;
mod security;
mod seed;
mod stats;
mod storage;
mod streaming;
mod support;
mod users;
mod walkthrough;
