#!/usr/bin/env bash
# cargo-mutants over the pure modules, judged by the unit tests (docs/testing.md, "Mutation
# testing"): every mutant must be caught, or be listed there with the reason it is harmless.
# Not in CI: about 30 s per mutant on two cores (a build and the unit tests).
#
#   scripts/mutants.sh              # the pure modules below
#   scripts/mutants.sh FILE...      # only these files
#
# Results: mutants.out/<file>/mutants.out/ (caught.txt, missed.txt, timeout.txt, unviable.txt;
# with --iterate each pass lists what it tested, outcomes.json all). The work is done
# in a copy of the tree (cargo-mutants' own scratch folder), never in this one; that copy
# rebuilds every dependency first (about 20 minutes on two cores). MUTANTS_IN_PLACE=1 mutates
# this tree and uses its warm target/ instead (about 30 s a mutant): only in a clone made for
# it (git clone . ../mut && cp -a target ../mut/), never in a tree you are editing.
set -euo pipefail
cd "$(dirname "$0")/.."
version=27.1.0
if ! cargo mutants --version 2>/dev/null | grep -q "$version"; then
    cargo install --locked "cargo-mutants@$version"
fi
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
    files=(
        src/retention/mod.rs       # which backups are kept, and why
        src/retention/prune.rs     # every backup's verdict and what prune prints (decide, describe)
        src/indexes/diff.rs        # spec against live indexes
        src/indexes/spec.rs        # the declared spec: parsed, checked, written as MongoDB writes it
        src/archive/names.rs       # member names, mongodump escaping, backup ids
        src/archive/manifest.rs    # sidecar matching (rekey's pending archive)
        src/error.rs               # the outcome table
        src/classify.rs            # error chain -> outcome and hint
        src/lock/process.rs        # whether a lock's holder still runs (decide, parse_stat)
        src/mask/detect.rs         # what looks personal
        src/config/validate.rs     # values refused at load
        src/config/secrets.rs      # secret files: read, trimmed, warned about when readable
        src/config/redact.rs       # credentials cut out of connection strings
        src/config/file.rs         # defaults, collections a backup takes, job accounts, codecs
        src/config/mod.rs          # errors and hints, key paths in YAML errors, the loader
        src/config/env_vars.rs src/config/env_vars_apply.rs   # environment overrides
        # The archive format and masking (docs/testing.md, a row each): slower, mostly because
        # of the archive tests' compression.
        src/archive/bson.rs src/archive/crypt.rs src/archive/event.rs src/archive/format.rs
        src/archive/found.rs src/archive/gz.rs src/archive/hashing.rs src/archive/metadata.rs
        src/archive/mongodump/folder.rs src/archive/mongodump/reader.rs
        src/archive/mongodump/writer.rs src/archive/tar/layout.rs src/archive/tar/reader.rs
        src/archive/tar/writer.rs src/archive/walk.rs
        src/mask/check.rs src/mask/mod.rs src/mask/names.rs src/mask/scan.rs
    )
fi
# Each file is judged first by its own module's unit tests (`--lib MODULE::`: a second instead
# of the whole unit suite's 40), then its missed mutants again by every unit test
# (`--iterate` retests only what the last run missed), so a mutant counts as missed only when
# no unit test at all catches it. The first pass skips the bit-flip sweep (30 s of every
# archive mutant's test time in a debug build); the second runs it. A mutant that makes the
# tests run past the timeout counts as detected (an endless loop): 120 s, since the unit suite
# takes up to a minute. The first pass of mask/, whose own tests take a second and whose
# loops make many mutants endless, waits 20 s (MUTANTS_MODULE_TIMEOUT sets it for every file).
# One output folder per file: mutants.out/<file>/.
module() { local m=${1#src/}; m=${m%.rs}; m=${m%/mod}; echo "${m%%/*}::"; }
common=(--test-tool cargo --cargo-test-arg=--lib --iterate
  --exclude-re 'src/lock/process.rs:.*\b(boot_id|pid_namespace|proc_stat|hostname|ProcessId::current|ProcessId::here|ProcessId::liveness)\b'
  --exclude-re 'src/retention/prune.rs:.*(: replace (run|apply|prune_chunks|remove|find|delete|delete_copies) ->| in (run|apply|prune_chunks|remove|find|delete|delete_copies)$)'
  --exclude-re 'src/mask/check.rs:.*(: replace (sample_live|sample_backup) ->| in (sample_live|sample_backup)$)')
# Reading /proc and the host name is left to tests/it/locks.rs (real processes); prune's
# storage calls (tests/it/backup.rs, operator.rs, recovery.rs, pitr.rs: a real S3 server and
# directory) and mask check's readers of a live database and of a stored backup
# (tests/it/masking.rs) to the integration tests.
if [ "${MUTANTS_IN_PLACE:-0}" = 1 ]; then common+=(--in-place); else common+=(--copy-target=true); fi
status=0
for f in "${files[@]}"; do
  out="mutants.out/$(echo "${f#src/}" | tr / _)"
  mkdir -p "$out"
  case "$f" in src/mask/*) first=20 ;; *) first=120 ;; esac
  cargo mutants "${common[@]}" --file "$f" --cargo-test-arg="$(module "$f")" \
    --timeout "${MUTANTS_MODULE_TIMEOUT:-$first}" \
    --cargo-test-arg=-- --cargo-test-arg=--skip=no_flipped_bit_changes_the_data_undetected \
    --output "$out" || true
  cargo mutants "${common[@]}" --file "$f" --baseline skip --timeout 120 --output "$out" || status=1
  echo "== $f: $(wc -l < "$out/mutants.out/caught.txt") caught, $(wc -l < "$out/mutants.out/missed.txt") missed, $(wc -l < "$out/mutants.out/timeout.txt") timeouts, $(wc -l < "$out/mutants.out/unviable.txt") unviable (this pass)"
done
exit $status
