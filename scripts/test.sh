#!/usr/bin/env bash
# The test command (README, CI): start the test services (installing what is missing), then
# format check, clippy, every test; stop the services this run started, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Services already running before this script (a developer's) are left running afterwards.
if scripts/services.sh status | grep -q stopped; then
  trap 'scripts/services.sh down' EXIT
fi
scripts/services.sh up
eval "$(scripts/services.sh env)"

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test --workspace --all-targets"
cargo test --workspace --all-targets
