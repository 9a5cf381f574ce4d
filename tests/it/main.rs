//! The integration test binary: CLI golden tests (no services) and tests against the real
//! services started by `scripts/services.sh up` (FerretDB, Redis, S3 on loopback).

mod cli;
mod config_services;
mod generated;
mod seed;
mod support;
