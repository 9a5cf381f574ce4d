#!/usr/bin/env bash
# Regenerates the committed generated files from the clap definition: completions/, docs/man/,
# docs/cli.md and the --help snapshots in tests/snapshots/help/; with the test services up
# (scripts/services.sh up), also the JSON shapes (tests/snapshots/json/, docs/json-output.md).
# Review the diff, then commit.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f docs/man/*.1
DARAA_UPDATE_GENERATED=1 DARAA_TEST_SKIP_SERVICES=1 cargo test --quiet --test it -- generated cli::help_of_every_command
if scripts/services.sh status | grep -q stopped; then
  echo "gen-docs: test services are not running; JSON shapes not regenerated (scripts/services.sh up)" >&2
else
  eval "$(scripts/services.sh env)"
  DARAA_UPDATE_GENERATED=1 cargo test --quiet --test it -- json_shapes
fi
git status --short completions docs/man docs/cli.md docs/json-output.md tests/snapshots
