#!/usr/bin/env bash
# Regenerates the committed generated files from the clap definition: completions/, docs/man/,
# docs/cli.md and the --help snapshots in tests/snapshots/help/. Review the diff, then commit.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f docs/man/*.1
DARAA_UPDATE_GENERATED=1 DARAA_TEST_SKIP_SERVICES=1 cargo test --quiet --test it -- generated cli::help_of_every_command
git status --short completions docs/man docs/cli.md tests/snapshots
