#!/usr/bin/env bash
# Benchmarks (docs/benchmarks.md). Runs against the local test services; never part of the
# test suite. Prints a markdown table.
#
#   scripts/bench.sh [--scales "1 10"] [--reps 3] [--pipeline-only] [--raw-mb 300]
#
# --pipeline-only: scale 1 only (backup, restore), then the archive-pipeline comparison with
# gzip -6 and pigz -6 -p 2 on --raw-mb MB of raw BSON, and verify throughput.
#
# Seeds one database per scale (121k documents at scale 1), backs each up --reps times
# (--no-upload --no-prune) and restores the archive into a fresh database --reps times, and
# reports medians of wall time, client CPU seconds, peak RSS and archive size. Targets: peak RSS
# at most 150 MB, and at scale 10 within 25% of scale 1.
set -euo pipefail
cd "$(dirname "$0")/.."

scales="1 10"
reps=3
pipeline_only=false
raw_mb=300
while [[ $# -gt 0 ]]; do
  case $1 in
    --scales) scales=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --pipeline-only) pipeline_only=true; shift ;;
    --raw-mb) raw_mb=$2; shift 2 ;;
    *) echo "usage: $0 [--scales \"1 10\"] [--reps N] [--pipeline-only] [--raw-mb N]" >&2; exit 2 ;;
  esac
done
$pipeline_only && scales=1

command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet --bin daraa-ops --example seed --example pipeline
bin=target/release/daraa-ops
scripts/services.sh up >&2
eval "$(scripts/services.sh env)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pw="$DARAA_TEST_SERVICES_DIR/ferretdb-admin.password"
uri="mongodb://127.0.0.1:${DARAA_TEST_MONGODB_URI##*@127.0.0.1:}"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# mongodump/mongorestore for the side-by-side rows: built from the Go module proxy when it
# serves github.com/mongodb/mongo-tools; otherwise say so and measure the rest.
tools="${DARAA_OPS_CACHE:-$HOME/.cache/daraa-ops}/mongo-tools"
have_mongodump=false
if [[ -x $tools/bin/mongodump ]]; then
  have_mongodump=true
elif command -v go >/dev/null; then
  if out=$(GOBIN="$tools/bin" GOFLAGS=-mod=mod go install github.com/mongodb/mongo-tools/mongodump@latest 2>&1) &&
     GOBIN="$tools/bin" GOFLAGS=-mod=mod go install github.com/mongodb/mongo-tools/mongorestore@latest >/dev/null 2>&1; then
    have_mongodump=true
  else
    echo "bench: mongodump/mongorestore cannot be built here, comparison rows skipped: $(echo "$out" | grep -m1 -E 'Forbidden|not available|error' || echo "$out" | tail -1)" >&2
  fi
else
  echo "bench: no Go toolchain, mongodump/mongorestore comparison rows skipped" >&2
fi

pipeline() {
  # Raw BSON of the scale-1 backup, repeated to at least --raw-mb MB.
  local archive=$1 dir="$work/extract"
  rm -rf "$dir" && mkdir -p "$dir"
  tar xzf "$archive" -C "$dir"
  find "$dir" -name '*.bson' -print0 | xargs -0 cat > "$work/one.bson"
  : > "$work/raw.bson"
  while (( $(stat -c %s "$work/raw.bson") < raw_mb * 1000000 )); do cat "$work/one.bson" >> "$work/raw.bson"; done
  local bytes; bytes=$(stat -c %s "$work/raw.bson")
  command -v pigz >/dev/null || apt-get install -y -qq pigz >/dev/null
  echo
  echo "Archive pipeline on $((bytes / 1000000)) MB of raw BSON (medians of $reps):"
  echo
  echo "| tool | MB/s | compressed MB | ratio |"
  echo "|---|---|---|---|"
  local name cmd
  for name in "gzip -6" "pigz -6 -p 2" "daraa-ops level 5 (default), 2 threads" "daraa-ops level 6, 2 threads"; do
    local walls=() size=0
    for _ in $(seq "$reps"); do
      sync
      case $name in
        gzip*) cmd=(gzip -6 -c "$work/raw.bson") ;;
        pigz*) cmd=(pigz -6 -p 2 -c "$work/raw.bson") ;;
        *) cmd=() ;;
      esac
      if [[ ${#cmd[@]} -gt 0 ]]; then
        /usr/bin/time -f '%e' -o "$work/time" "${cmd[@]}" > "$work/out.gz"
        walls+=("$(cat "$work/time")"); size=$(stat -c %s "$work/out.gz")
      else
        local level=5; [[ $name == *"level 6"* ]] && level=6
        target/release/examples/pipeline --input "$work/raw.bson" --out "$work/out.tar.gz" --level "$level" --threads 2 > "$work/p.json"
        walls+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$work/p.json")")
        size=$(stat -c %s "$work/out.tar.gz")
      fi
    done
    local wall; wall=$(printf '%s\n' "${walls[@]}" | median)
    printf '| %s | %.0f | %.1f | %.2f |\n' "$name" "$(echo "$bytes / 1000000 / $wall" | bc -l)" \
      "$(echo "$size / 1000000" | bc -l)" "$(echo "$bytes / $size" | bc -l)"
  done
  # verify: MB/s of raw BSON checked (decompression, tar, BSON validation, SHA-256).
  local vbytes walls=()
  vbytes=$(stat -c %s "$work/one.bson")
  for _ in $(seq "$reps"); do
    /usr/bin/time -f '%e' -o "$work/time" "$bin" --config "$work/c.yaml" -q verify "$archive" >/dev/null
    walls+=("$(cat "$work/time")")
  done
  local wall; wall=$(printf '%s\n' "${walls[@]}" | median)
  printf '\nverify: %.0f MB/s of raw BSON (%s MB archive member data, %ss)\n' "$(echo "$vbytes / 1000000 / $wall" | bc -l)" "$((vbytes / 1000000))" "$wall"
}

echo "| job | scale | documents | BSON MiB | wall s | client CPU s | peak RSS MiB | archive MiB |"
echo "|---|---|---|---|---|---|---|---|"
for scale in $scales; do
  db="bench_s${scale//./_}"
  seeded=$(target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$db" --scale "$scale" --seed 42 --no-zoo)
  docs=$(echo "$seeded" | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"])')
  cat > "$work/c.yaml" <<YAML
mongodb: {uri: "$uri", username: admin, password_file: "$pw", database: "$db"}
backup: {dir: "$work/backups"}
YAML
  walls=(); cpus=(); rss=(); sizes=(); bytes=0
  for _ in $(seq "$reps"); do
    rm -rf "$work/backups"
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$bin" --config "$work/c.yaml" -q --output json backup --no-upload --no-prune > "$work/out.json"
    read -r wall user sys maxkb < "$work/time"
    walls+=("$wall"); cpus+=("$(echo "$user + $sys" | bc)"); rss+=("$((maxkb / 1024))")
    sizes+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["archive"]["size"])' "$work/out.json")")
    bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["bytes"])' "$work/out.json")
  done
  printf '| backup | %s | %s | %.1f | %s | %s | %s | %.1f |\n' "$scale" "$docs" "$(echo "$bytes / 1048576" | bc -l)" \
    "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" \
    "$(printf '%s\n' "${rss[@]}" | median)" "$(echo "$(printf '%s\n' "${sizes[@]}" | median) / 1048576" | bc -l)"

  # Restore the last archive into a fresh database each time.
  archive=$(ls "$work"/backups/*.tar.gz)
  walls=(); cpus=(); rss=()
  for rep in $(seq "$reps"); do
    target="${db}_restore_$rep"
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$bin" --config "$work/c.yaml" -q --output json restore "$archive" --target-db "$target" > "$work/out.json"
    read -r wall user sys maxkb < "$work/time"
    walls+=("$wall"); cpus+=("$(echo "$user + $sys" | bc)"); rss+=("$((maxkb / 1024))")
    target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$target" --drop-only
  done
  printf '| restore | %s | %s | %.1f | %s | %s | %s | - |\n' "$scale" "$docs" "$(echo "$bytes / 1048576" | bc -l)" \
    "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" "$(printf '%s\n' "${rss[@]}" | median)"
done

# The archive pipeline and verify, on the last scale's archive.
pipeline "$archive"
