#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input (config, index spec, archive reader) with cargo-fuzz
# (libFuzzer, nightly toolchain): SECONDS_PER_TARGET each (default 180). Not part of
# scripts/test.sh; crashes land in fuzz/artifacts/<target>/ and must become regression tests
# (tests/fixtures/fuzz/ and src/*/tests).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-180}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q nightly || { echo "fuzz: needs the nightly toolchain (rustup toolchain install nightly)" >&2; exit 2; }
targets=(${*:-config_parse index_spec archive_reader})
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  # Seeds: real inputs of each kind.
  case $t in
    config_parse) cp config/daraa-ops.example.yaml "fuzz/corpus/$t/example.yaml" ;;
    index_spec) cp config/indexes.yaml "fuzz/corpus/$t/daraa.yaml" ;;
    archive_reader) ls tests/fixtures/fuzz/*.tar.gz >/dev/null 2>&1 && cp tests/fixtures/fuzz/*.tar.gz "fuzz/corpus/$t/" || true ;;
  esac
  echo "fuzz: $t for ${SECONDS_PER_TARGET}s"
  # archive_reader: the reader decompresses on a scoped thread; LeakSanitizer reports the
  # 32 bytes glibc allocates to register that thread's TLS destructors
  # (__cxa_thread_atexit_impl), freed at thread exit, so leak detection is off for it.
  extra=()
  [[ $t == archive_reader ]] && extra=(-detect_leaks=0)
  cargo +nightly fuzz run "$t" -- -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=2048 -timeout=10 "${extra[@]}"
done
