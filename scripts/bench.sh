#!/usr/bin/env bash
# Benchmarks (docs/benchmarks.md). Runs against the local test services; never part of the
# test suite. Prints a markdown table.
#
#   scripts/bench.sh [--scales "1 10"] [--reps 3]
#
# Seeds one database per scale (121k documents at scale 1), backs each up --reps times
# (--no-upload --no-prune) and restores the archive into a fresh database --reps times, and
# reports medians of wall time, client CPU seconds, peak RSS and archive size. Targets: peak RSS
# at most 150 MB, and at scale 10 within 25% of scale 1.
set -euo pipefail
cd "$(dirname "$0")/.."

scales="1 10"
reps=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --scales) scales=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    *) echo "usage: $0 [--scales \"1 10\"] [--reps N]" >&2; exit 2 ;;
  esac
done

command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet --bin daraa-ops --example seed
bin=target/release/daraa-ops
scripts/services.sh up >&2
eval "$(scripts/services.sh env)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pw="$DARAA_TEST_SERVICES_DIR/ferretdb-admin.password"
uri="mongodb://127.0.0.1:${DARAA_TEST_MONGODB_URI##*@127.0.0.1:}"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

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
