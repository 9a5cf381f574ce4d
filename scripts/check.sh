#!/usr/bin/env bash
# Fast pre-commit gate (no services): format, clippy with warnings denied, unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --quiet --lib
