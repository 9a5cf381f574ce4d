#!/usr/bin/env bash
# First run on a fresh machine: build, start local services (FerretDB, Redis, S3), seed demo
# data into the `daraa` database, check a config that points at all three, then back up,
# list, describe, verify and run a restore drill (docs/operations.md, "First night", goes on
# from there).
# Afterwards:  export DARAA_OPS_CONFIG=<printed path>; ./target/debug/daraa-ops config show
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== building daraa-ops, installing and starting local services (side by side)"
scripts/services.sh up & services=$!
cargo build --quiet --bin daraa-ops --example seed
wait "$services"
eval "$(scripts/services.sh env)"
state=$DARAA_TEST_SERVICES_DIR

# The quickstart config (docs/operations.md's "First night" runs with it); passwords stay
# in the services' 0600 files.
config="$state/quickstart.yaml"
scripts/quickstart-config.sh "$config"

echo "== seeding demo data (scale 0.1, seed 42)"
./target/debug/examples/seed --scale 0.1 --seed 42 --db daraa > "$state/seed.json"
head -c 600 "$state/seed.json"; echo

echo "== config check --connect"
./target/debug/daraa-ops --config "$config" config check --connect

echo "== backup, list, verify"
./target/debug/daraa-ops --config "$config" backup
./target/debug/daraa-ops --config "$config" list
./target/debug/daraa-ops --config "$config" describe latest
./target/debug/daraa-ops --config "$config" verify latest

echo "== restore drill"
./target/debug/daraa-ops --config "$config" drill latest

cat <<MSG

Ready. Try:
  export DARAA_OPS_CONFIG=$config
  ./target/debug/daraa-ops config show
Stop the services with: scripts/services.sh down
MSG
