#!/usr/bin/env bash
# Benchmarks (docs/benchmarks.md). Runs against the local test services; never part of the
# test suite. Prints a markdown table.
#
#   scripts/bench.sh [--scales "1 10"] [--reps 3] [--pipeline-only] [--raw-mb 300]
#   scripts/bench.sh --peers [--scales "0.3 3"] [--reps 3]
#   scripts/bench.sh --streaming [--scales "0.3 3"] [--reps 3]   (the backup rows of --peers)
#   scripts/bench.sh --masking [--scales 3] [--reps 3]
#   scripts/bench.sh --disk [--scales 3]
#   scripts/bench.sh --encryption [--scales 3] [--reps 3] [--raw-mb 300]
#   scripts/bench.sh --codecs [--reps 3] [--raw-mb 300]
#   scripts/bench.sh --replay [--changes 10000] [--reps 3]
#
# --replay: the oplog replay rate (docs/pitr.md): on a FerretDB of the bench's own with its
# oplog on (DARAA_TEST_FERRETDB_BIN, port DARAA_BENCH_FERRETDB_PORT or 27199; the shared oplog
# server's oplog would keep every run's entries), a base backup, --changes changes (inserts,
# updates, deletes) archived by `pitr push --once`, then the base restored alone and
# `restore --to-time` the last archived entry; the rate is the entries replayed over the
# extra wall time.
#
# --codecs: the candidates for cheaper compression (docs/benchmarks.md, "Compressing for less
# CPU"): daraa-ops' writer at several gzip levels, libdeflate's gzip, pigz, gzip and zstd, on
# the same --raw-mb MB of raw BSON; client CPU seconds (user + sys) and compressed size. Then
# zlib-rs and libdeflate alone on the same chunks at each level (examples/deflaters.rs).
#
# --encryption: the same jobs with and without backup.encryption (one age recipient): backup
# (tar, and the archive format to stdout), verify and restore of the same data, and the
# archive pipeline alone on --raw-mb MB of raw BSON; ratios encrypted / plain.
#
# --disk: peak local disk used by a backup in each format (tar with gzip'd staging, archive to
# a local file, archive streamed to S3), measured by polling the backup folder every 20 ms.
#
# --masking: restore vs restore --mask (the example config's masking rules) of the same archive.
#
# --peers: daraa-ops side by side with the real mongodump/mongorestore (MongoDB Database Tools
# 100.18.0: DARAA_TEST_MONGODUMP/DARAA_TEST_MONGORESTORE, PATH, or ../shared/peers/bin) on the
# same data and server in one run: backup vs `mongodump --archive --gzip` and vs
# `mongodump --gzip --out` + tar (the replaced script); restore into an empty database, with
# --drop over existing data and with --collections, vs mongorestore with its defaults and with
# the workers matched. Wall, client CPU, peak RSS, and the server's (FerretDB's) CPU in the same
# interval, which shows which side bounds the wall time.
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

scales=""
reps=3
pipeline_only=false
peers=false
masking=false
streaming=false
disk=false
encryption=false
codecs=false
replay=false
changes=10000
raw_mb=300
while [[ $# -gt 0 ]]; do
  case $1 in
    --scales) scales=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --pipeline-only) pipeline_only=true; shift ;;
    --peers) peers=true; shift ;;
    --streaming) peers=true; streaming=true; shift ;;
    --masking) masking=true; shift ;;
    --disk) disk=true; shift ;;
    --encryption) encryption=true; shift ;;
    --codecs) codecs=true; pipeline_only=true; shift ;;
    --raw-mb) raw_mb=$2; shift 2 ;;
    --replay) replay=true; shift ;;
    --changes) changes=$2; shift 2 ;;
    *) echo "usage: $0 [--scales \"1 10\"] [--reps N] [--pipeline-only] [--raw-mb N]" >&2; exit 2 ;;
  esac
done
$pipeline_only && scales=1
if [[ -z $scales ]]; then
  if $peers; then scales="0.3 3"; elif $masking || $disk || $encryption; then scales=3; else scales="1 10"; fi
fi

command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet --bin daraa-ops --example seed --example pipeline --example deflaters
bin=target/release/daraa-ops
scripts/services.sh up >&2
eval "$(scripts/services.sh env)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pw="$DARAA_TEST_SERVICES_DIR/ferretdb-admin.password"
uri="mongodb://127.0.0.1:${DARAA_TEST_MONGODB_URI##*@127.0.0.1:}"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# The real MongoDB Database Tools, for --peers.
peer() {
  local name=$1 var="DARAA_TEST_${1^^}"
  if [[ -n ${!var:-} ]]; then echo "${!var}"; return; fi
  if command -v "$name" >/dev/null; then command -v "$name"; return; fi
  [[ -x ../shared/peers/bin/$name ]] && { echo "$PWD/../shared/peers/bin/$name"; return; }
  echo "bench: $name not found ($var, PATH, ../shared/peers/bin)" >&2; exit 1
}

# CPU seconds the FerretDB process has used so far (utime + stime): the shared one, or the
# one in $server_pid (--replay's own).
server_pid=""
server_cpu() {
  local pid=$server_pid
  [[ -n $pid ]] || pid=$(scripts/services.sh status | sed -n 's/^ferretdb: running (pid \([0-9]*\)).*/\1/p')
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$pid/stat"
}

# timed LABEL SCALE CMD...: runs CMD under /usr/bin/time, appends a row to $work/runs.tsv:
# label, scale, wall s, client CPU s, peak RSS MiB, server CPU s.
timed() {
  local label=$1 scale=$2; shift 2
  local before after; before=$(server_cpu)
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" > "$work/out.txt" 2> "$work/err.txt" ||
    { echo "bench: $label failed:" >&2; tail -5 "$work/err.txt" >&2; exit 1; }
  after=$(server_cpu)
  local wall user sys maxkb; read -r wall user sys maxkb < "$work/time"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$scale" "$wall" "$(echo "$user + $sys" | bc)" \
    "$(echo "scale=1; $maxkb / 1024" | bc)" "$(echo "$after - $before" | bc)" >> "$work/runs.tsv"
}

# ratios BASIS RULE...: the medians of $work/runs.tsv as a Markdown table, each row against its
# baseline row (same scale): RULE is `LABEL=>BASELINE` or `s/FROM/TO/` (substring replaced in
# the label). Rows of the archive pipeline (`pipeline …`) also get MB/s of $raw_mb.
ratios() {
  python3 - "$work/runs.tsv" "$raw_mb" "$@" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, scale, wall, cpu, rss, server = line.rstrip("\n").split("\t")
    rows[(label, scale)].append((float(wall), float(cpu), float(rss), float(server)))
med = {k: [statistics.median(c) for c in zip(*v)] for k, v in rows.items()}
raw_mb, basis, rules = float(sys.argv[2]), sys.argv[3], sys.argv[4:]


def baseline(label):
    for r in rules:
        if "=>" in r and r.split("=>")[0] == label:
            return r.split("=>")[1]
        if r.startswith("s/"):
            old, new = r[2:-1].split("/")
            if old in label:
                return label.replace(old, new)
    return label


print(f"| run | scale | wall s | client CPU s | peak RSS MiB | server CPU s | wall / {basis} | client CPU / {basis} |")
print("|---|---|---|---|---|---|---|---|")
for (label, scale), (wall, cpu, rss, server) in med.items():
    b = med.get((baseline(label), scale))
    ratio = f"{wall / b[0]:.2f}" if b and b[0] else ""
    cratio = f"{cpu / b[1]:.2f}" if b and b[1] else ""
    shown = f"{label} ({raw_mb / wall:.0f} MB/s)" if label.startswith("pipeline") else label
    print(f"| {shown} | {scale} | {wall:.2f} | {cpu:.2f} | {rss:.1f} | {server:.2f} | {ratio} | {cratio} |")
PY
}

peers_bench() {
  local backups_only=${1:-false}
  local mongodump mongorestore; mongodump=$(peer mongodump); mongorestore=$(peer mongorestore)
  local tools="$work/tools.yaml"
  ( umask 077; printf "uri: '%s'\n" "$DARAA_TEST_MONGODB_URI" > "$tools" )
  : > "$work/runs.tsv"
  local scale
  for scale in $scales; do
    local db="bench_p${scale//./_}"
    target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$db" --scale "$scale" --seed 42 --no-zoo > "$work/seed.json"
    cat > "$work/c.yaml" <<YAML
mongodb: {uri: "$uri", username: admin, password_file: "$pw", database: "$db"}
backup: {dir: "$work/backups"}
restore: {protected_databases: []}
YAML
    sed -e "s|backup: {dir: \"$work/backups\"}|backup: {dir: \"$work/backups_zstd\", compression: zstd}|" "$work/c.yaml" > "$work/c_zstd.yaml"
    local rep t
    for rep in $(seq "$reps"); do
      rm -rf "$work/backups" "$work/backups_zstd" "$work/md" "$work/dump_x" "$work"/*.archive.gz "$work"/dump_x.tar.gz
      timed "backup: daraa-ops" "$scale" "$bin" --config "$work/c.yaml" -q backup --no-upload --no-prune
      # The opt-in backup.compression: zstd (a .tar.zst).
      timed "backup: daraa-ops (compression: zstd)" "$scale" "$bin" --config "$work/c_zstd.yaml" -q backup --no-upload --no-prune
      # The streaming path: mongodump's archive format as the dump runs, nothing staged.
      timed "backup: daraa-ops --stdout (archive format)" "$scale" bash -c "'$bin' --config '$work/c.yaml' -q backup --stdout > '$work/stream.archive.gz'"
      timed "backup: mongodump --archive --gzip" "$scale" "$mongodump" --config="$tools" --db="$db" --archive="$work/md.archive.gz" --gzip --quiet
      timed "backup: mongodump --gzip --out + tar" "$scale" bash -c "'$mongodump' --config='$tools' --db='$db' --gzip --out='$work/dump_x' --quiet && tar -C '$work' -czf '$work/dump_x.tar.gz' dump_x"
    done
    local archive; archive=$(ls "$work"/backups/*.tar.gz)
    if $backups_only; then
      target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$db" --drop-only >/dev/null
      continue
    fi
    for rep in $(seq "$reps"); do
      t="${db}_r"
      timed "restore empty: daraa-ops" "$scale" "$bin" --config "$work/c.yaml" -q restore "$archive" --target-db "$t"
      timed "restore --drop: daraa-ops" "$scale" "$bin" --config "$work/c.yaml" -q --yes restore "$archive" --target-db "$t" --drop
      target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$t" --drop-only >/dev/null
      timed "restore --collections: daraa-ops" "$scale" "$bin" --config "$work/c.yaml" -q restore "$archive" --target-db "$t" --collections orders,notifications,wallettransactions
      target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$t" --drop-only >/dev/null
      local mr=("$mongorestore" --config="$tools" --archive="$work/md.archive.gz" --gzip --noIndexRestore --quiet --nsFrom="$db.*" --nsTo="$t.*")
      timed "restore empty: mongorestore (defaults)" "$scale" "${mr[@]}"
      timed "restore --drop: mongorestore (defaults)" "$scale" "${mr[@]}" --drop
      target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$t" --drop-only >/dev/null
      timed "restore --collections: mongorestore (defaults)" "$scale" "${mr[@]}" --nsInclude="$db.orders" --nsInclude="$db.notifications" --nsInclude="$db.wallettransactions"
      target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$t" --drop-only >/dev/null
      timed "restore empty: mongorestore (2 collections x 2 workers)" "$scale" "${mr[@]}" --numParallelCollections=2 --numInsertionWorkersPerCollection=2
      timed "restore --drop: mongorestore (2 collections x 2 workers)" "$scale" "${mr[@]}" --numParallelCollections=2 --numInsertionWorkersPerCollection=2 --drop
      target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$t" --drop-only >/dev/null
    done
    # Client-only: the same archives read without a server (decompress, parse, check).
    for rep in $(seq "$reps"); do
      timed "read only: daraa-ops verify" "$scale" "$bin" --config "$work/c.yaml" -q verify "$archive"
      timed "read only: daraa-ops verify (mongodump archive)" "$scale" "$bin" --config "$work/c.yaml" -q verify "$work/md.archive.gz"
    done
    target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$db" --drop-only >/dev/null
    echo "scale $scale: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["documents"], "documents")' "$work/seed.json"), archive $(stat -c %s "$archive") bytes" >&2
  done
  ratios peer "backup: daraa-ops=>backup: mongodump --archive --gzip" \
    "backup: daraa-ops (compression: zstd)=>backup: mongodump --archive --gzip" \
    "backup: daraa-ops --stdout (archive format)=>backup: mongodump --archive --gzip" \
    "restore empty: daraa-ops=>restore empty: mongorestore (defaults)" \
    "restore --drop: daraa-ops=>restore --drop: mongorestore (defaults)" \
    "restore --collections: daraa-ops=>restore --collections: mongorestore (defaults)"
}

replay_bench() {
  local port=${DARAA_BENCH_FERRETDB_PORT:-27199} dir="$work/ferretdb" db=bench_replay
  mkdir -p "$dir/data" "$dir/state"
  FERRETDB_SETUP_PASSWORD="$(cat "$pw")" "$DARAA_TEST_FERRETDB_BIN" --handler=sqlite \
    --sqlite-url="file:$dir/data/" --state-dir="$dir/state" --listen-addr="127.0.0.1:$port" \
    --debug-addr=- --telemetry=disable --log-level=warn --test-enable-new-auth \
    --setup-database=admin --setup-username=admin > "$dir/log" 2>&1 &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
  local _i
  for _i in $(seq 150); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
  # The seed reads its URI (with the password) from the environment, never from argv; only
  # the seed gets it.
  seed() {
    DARAA_TEST_MONGODB_URI="mongodb://admin:$(cat "$pw")@127.0.0.1:$port/?authSource=admin&authMechanism=SCRAM-SHA-256" \
      target/release/examples/seed "$@"
  }
  cat > "$work/c.yaml" <<YAML
mongodb: {uri: "mongodb://127.0.0.1:$port/?authSource=admin&authMechanism=SCRAM-SHA-256", username: admin, password_file: "$pw", database: "$db"}
backup: {dir: "$work/backups"}
restore: {protected_databases: []}
YAML
  seed --db "$db" --changes 2000 > /dev/null
  "$bin" --config "$work/c.yaml" -q backup --no-upload --no-prune
  local base; base=$(ls "$work"/backups/*.tar.gz)
  seed --db "$db" --changes "$changes" > "$work/changes.json"
  sleep 3
  "$bin" --config "$work/c.yaml" -q --output json pitr push --once > "$work/push.json"
  local to; to=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["until"])' "$work/push.json")
  : > "$work/runs.tsv"
  local rep entries=0
  for rep in $(seq "$reps"); do
    timed "restore: the base alone" "$changes" "$bin" --config "$work/c.yaml" -q --output json restore "$base" --target-db r_base --yes
    seed --db r_base --drop-only
    timed "restore --to-time: the base and the chunks" "$changes" "$bin" --config "$work/c.yaml" -q --output json restore --to-time "$to" --target-db r_pit --yes
    entries=$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["oplog"]; print(o["entries"])' "$work/out.txt")
    seed --db r_pit --drop-only
  done
  echo "changes: $(cat "$work/changes.json"); push: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["entries"], "entries in", len(d["chunks"]), "chunks")' "$work/push.json"); replayed: $entries entries" >&2
  ratios base "restore --to-time: the base and the chunks=>restore: the base alone"
  python3 - "$work/runs.tsv" "$entries" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, _, wall, cpu, *_ = line.split("\t")
    rows[label].append((float(wall), float(cpu)))
base = [statistics.median(c) for c in zip(*rows["restore: the base alone"])]
pit = [statistics.median(c) for c in zip(*rows["restore --to-time: the base and the chunks"])]
n = int(sys.argv[2])
print(f"\nreplay: {n} entries in {pit[0] - base[0]:.2f} s more wall ({n / (pit[0] - base[0]):.0f} entries/s), {pit[1] - base[1]:.2f} s more client CPU")
PY
}

masking_bench() {
  : > "$work/runs.tsv"
  local scale
  for scale in $scales; do
    local db="bench_m${scale//./_}"
    target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$db" --scale "$scale" --seed 42 --no-zoo > /dev/null
    ( umask 077; head -c 32 /dev/urandom | base64 > "$work/mask_key" )
    # The example config's masking block, with this run's key and no staging database.
    local block
    block=$(awk '/^masking:/{on=1} on&&/^$/{exit} on' config/daraa-ops.example.yaml | grep -v '^ *#' |
      sed -e "s|key_file: .*|key_file: $work/mask_key|" -e 's|staging_databases: .*|staging_databases: []|')
    cat > "$work/c.yaml" <<YAML
mongodb: {uri: "$uri", username: admin, password_file: "$pw", database: "$db"}
backup: {dir: "$work/backups"}
$block
YAML
    rm -rf "$work/backups"
    "$bin" --config "$work/c.yaml" -q backup --no-upload --no-prune > /dev/null
    local archive rep; archive=$(ls "$work"/backups/*.tar.gz)
    for rep in $(seq "$reps"); do
      timed "restore" "$scale" "$bin" --config "$work/c.yaml" -q restore "$archive" --target-db "${db}_r"
      target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "${db}_r" --drop-only >/dev/null
      timed "restore --mask" "$scale" "$bin" --config "$work/c.yaml" -q restore "$archive" --target-db "${db}_r" --mask
      target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "${db}_r" --drop-only >/dev/null
    done
    target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$db" --drop-only >/dev/null
  done
  ratios plain "s/ --mask//"
}

encryption_bench() {
  : > "$work/runs.tsv"
  command -v age-keygen >/dev/null || scripts/services.sh up >/dev/null
  ( umask 077; age-keygen -o "$work/age.key" 2>/dev/null )
  local recipient; recipient=$(age-keygen -y "$work/age.key")
  local scale
  for scale in $scales; do
    local db="bench_e${scale//./_}"
    target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$db" --scale "$scale" --seed 42 --no-zoo > /dev/null
    local mode
    for mode in plain encrypted; do
      local enc=""
      [[ $mode == encrypted ]] && enc=", encryption: {recipients: [$recipient], identity_files: [\"$work/age.key\"]}"
      cat > "$work/$mode.yaml" <<YAML
mongodb: {uri: "$uri", username: admin, password_file: "$pw", database: "$db"}
backup: {dir: "$work/b_$mode"$enc}
YAML
    done
    local rep
    for rep in $(seq "$reps"); do
      for mode in plain encrypted; do
        rm -rf "$work/b_$mode"
        timed "backup tar: $mode" "$scale" "$bin" --config "$work/$mode.yaml" -q backup --no-upload --no-prune
        timed "backup --stdout (archive format): $mode" "$scale" bash -c "'$bin' --config '$work/$mode.yaml' -q backup --stdout > '$work/stream_$mode'"
        timed "verify: $mode" "$scale" "$bin" --config "$work/$mode.yaml" -q verify latest
        timed "restore: $mode" "$scale" "$bin" --config "$work/$mode.yaml" -q restore latest --target-db "${db}_r"
        target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "${db}_r" --drop-only >/dev/null
      done
    done
    local archive; archive=$(ls "$work"/b_plain/*.tar.gz)
    rm -rf "$work/extract" && mkdir -p "$work/extract" && tar xzf "$archive" -C "$work/extract"
    find "$work/extract" -name '*.bson' -print0 | xargs -0 cat > "$work/one.bson"
    : > "$work/raw.bson"
    while (( $(stat -c %s "$work/raw.bson") < raw_mb * 1000000 )); do cat "$work/one.bson" >> "$work/raw.bson"; done
    for rep in $(seq "$reps"); do
      for mode in plain encrypted; do
        local flag=""; [[ $mode == encrypted ]] && flag=--encrypt
        timed "pipeline $((raw_mb)) MB: $mode" "$scale" target/release/examples/pipeline --input "$work/raw.bson" --out "$work/p.out" --level 5 --threads 2 $flag
      done
    done
    target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$db" --drop-only >/dev/null
  done
  ratios plain "s/: encrypted/: plain/"
}

if $replay; then
  replay_bench
  exit 0
fi
if $encryption; then
  encryption_bench
  exit 0
fi
if $peers; then
  peers_bench "$streaming"
  exit 0
fi
if $masking; then
  masking_bench
  exit 0
fi

# Peak bytes under a folder while a command runs (polled every 20 ms).
peak_disk() {
  local dir=$1; shift
  mkdir -p "$dir"
  "$@" > /dev/null &
  local pid=$! peak=0 now
  while kill -0 "$pid" 2>/dev/null; do
    now=$(du -sb "$dir" 2>/dev/null | cut -f1)
    (( now > peak )) && peak=$now
    sleep 0.02
  done
  wait "$pid"
  echo "$peak"
}

disk_bench() {
  local scale
  echo "| format | scale | BSON MiB | archive MiB | peak local disk MiB | peak / BSON |"
  echo "|---|---|---|---|---|---|"
  for scale in $scales; do
    local db="bench_d${scale//./_}"
    target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$db" --scale "$scale" --seed 42 --no-zoo > /dev/null
    local format keep
    for variant in "tar local" "archive local" "archive s3"; do
      read -r format keep <<< "$variant"
      rm -rf "$work/backups"
      local keep_local=true; [[ $keep == s3 ]] && keep_local=false
      cat > "$work/c.yaml" <<YAML
mongodb: {uri: "$uri", username: admin, password_file: "$pw", database: "$db"}
backup: {dir: "$work/backups", format: $format, keep_local: $keep_local}
s3: {bucket: "$DARAA_TEST_S3_BUCKET", endpoint: "$DARAA_TEST_S3_ENDPOINT", force_path_style: true, prefix: "bench-disk/"}
YAML
      local peak; peak=$(peak_disk "$work/backups" "$bin" --config "$work/c.yaml" -q --output json backup --no-prune)
      local side; side=$(ls "$work"/backups/*.manifest.json 2>/dev/null | head -1 || true)
      local bytes size
      if [[ -n $side ]]; then
        bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["bytes"])' "$side")
        size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["archive"]["size"])' "$side")
      fi
      printf '| %s (%s) | %s | %.1f | %.1f | %.1f | %.3f |\n' "$format" "$keep" "$scale" \
        "$(echo "${bytes:-$last_bytes} / 1048576" | bc -l)" "$(echo "${size:-$last_size} / 1048576" | bc -l)" \
        "$(echo "$peak / 1048576" | bc -l)" "$(echo "$peak / ${bytes:-$last_bytes}" | bc -l)"
      last_bytes=${bytes:-$last_bytes}; last_size=${size:-$last_size}
    done
    target/release/examples/seed --uri "$DARAA_TEST_MONGODB_URI" --db "$db" --drop-only >/dev/null
  done
}

if $disk; then
  disk_bench
  exit 0
fi

# CPU seconds and size of each candidate compressor on $work/raw.bson (medians of --reps).
codecs_table() {
  local bytes=$1
  for tool in libdeflate-gzip pigz zstd; do
    command -v "$tool" >/dev/null || apt-get install -y -qq libdeflate-tools pigz zstd >/dev/null
  done
  echo
  echo "Compressors on $((bytes / 1000000)) MB of raw BSON: client CPU (user + sys) and output, medians of $reps:"
  echo
  echo "| candidate | CPU s | CPU s per 100 MB | wall s | output MB | ratio | reads as .tar.gz |"
  echo "|---|---|---|---|---|---|---|"
  local name
  local candidates=(
    "daraa-ops gzip level 1|pipeline 1|yes" "daraa-ops gzip level 3|pipeline 3|yes"
    "daraa-ops gzip level 4|pipeline 4|yes" "daraa-ops gzip level 5 (default)|pipeline 5|yes"
    "daraa-ops gzip level 6|pipeline 6|yes" "daraa-ops gzip level 9|pipeline 9|yes"
    "gzip -6|gzip -6 -c|yes" "pigz -6 -p 2|pigz -6 -p 2 -c|yes"
    "libdeflate-gzip -1|libdeflate-gzip -1 -c|yes" "libdeflate-gzip -4|libdeflate-gzip -4 -c|yes"
    "libdeflate-gzip -6|libdeflate-gzip -6 -c|yes" "zstd -1 -T2|zstd -q -1 -T2 -c|no"
    "zstd -3 -T2|zstd -q -3 -T2 -c|no" "zstd -6 -T2|zstd -q -6 -T2 -c|no"
  )
  local entry
  for entry in "${candidates[@]}"; do
    local label cmd reads; IFS='|' read -r label cmd reads <<< "$entry"
    local cpus=() walls=() size=0
    for _ in $(seq "$reps"); do
      sync
      if [[ $cmd == pipeline* ]]; then
        /usr/bin/time -f '%e %U %S' -o "$work/time" target/release/examples/pipeline --input "$work/raw.bson" \
          --out "$work/out.tar.gz" --level "${cmd#pipeline }" --threads 2 > /dev/null
        size=$(stat -c %s "$work/out.tar.gz")
      else
        # shellcheck disable=SC2086
        /usr/bin/time -f '%e %U %S' -o "$work/time" $cmd "$work/raw.bson" > "$work/out.c"
        size=$(stat -c %s "$work/out.c")
      fi
      read -r wall user sys < "$work/time"
      walls+=("$wall"); cpus+=("$(echo "$user + $sys" | bc)")
    done
    local cpu wall; cpu=$(printf '%s\n' "${cpus[@]}" | median); wall=$(printf '%s\n' "${walls[@]}" | median)
    printf '| %s | %.2f | %.2f | %.2f | %.1f | %.2f | %s |\n' "$label" "$cpu" \
      "$(echo "$cpu * 100000000 / $bytes" | bc -l)" "$wall" "$(echo "$size / 1000000" | bc -l)" \
      "$(echo "$bytes / $size" | bc -l)" "$reads"
  done
}

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
  if $codecs; then
    codecs_table "$bytes"
    echo
    echo "The deflaters alone on the same bytes: 256 KiB chunks, one gzip member each, one thread, medians of $reps:"
    echo
    target/release/examples/deflaters --input "$work/raw.bson" --reps "$reps"
  fi
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
