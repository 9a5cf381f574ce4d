#!/usr/bin/env bash
# Test services on loopback for daraa-ops (docs/testing.md): FerretDB v1.24.2 (SQLite, new auth, an admin
# user) twice (the second one for point-in-time recovery: the tests give it a capped
# local.oplog.rs, which makes FerretDB record an oplog, and keep every other test's writes out
# of it), redis-server with a password, and moto's S3 server. Installs what is missing, starts what
# is not running, waits until each answers.
#
#   scripts/services.sh up      install if missing, start, wait (idempotent)
#   scripts/services.sh down    stop only the processes this script started (PID files)
#   scripts/services.sh env     print export lines for the tests and for manual use
#   scripts/services.sh status  one line per service
#
# Overrides: DARAA_SERVICES_DIR (state, default $TMPDIR/daraa-ops-services), DARAA_FERRETDB_PORT
# (27117), DARAA_FERRETDB_OPLOG_PORT (27118), DARAA_REDIS_PORT (6390), DARAA_S3_PORT (9310), DARAA_OPS_CACHE (installs, default
# ~/.cache/daraa-ops).
set -euo pipefail

FERRETDB_VERSION=1.24.2
MOTO_VERSION=5.2.5

STATE=${DARAA_SERVICES_DIR:-${TMPDIR:-/tmp}/daraa-ops-services}
CACHE=${DARAA_OPS_CACHE:-$HOME/.cache/daraa-ops}
FERRET_PORT=${DARAA_FERRETDB_PORT:-27117}
OPLOG_PORT=${DARAA_FERRETDB_OPLOG_PORT:-27118}
REDIS_PORT=${DARAA_REDIS_PORT:-6390}
S3_PORT=${DARAA_S3_PORT:-9310}
BUCKET=daraa-test
S3_KEY=daraa-test-key
S3_SECRET=daraa-test-secret

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

# A password made once per state directory, kept in a 0600 file (never on a command line).
secret() {
  local f="$STATE/$1.password"
  if [[ ! -s $f ]]; then
    mkdir -p "$STATE" && chmod 700 "$STATE"
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$f")
  fi
  cat "$f"
}

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name, seconds, command...
  local name=$1 secs=$2; shift 2
  local i
  for ((i = 0; i < secs * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$name did not answer within ${secs}s (log: $STATE/$name.log)"
}

# --- installs ---------------------------------------------------------------------------------

ferretdb_bin() { echo "$CACHE/bin/ferretdb-$FERRETDB_VERSION-p1"; }

install_ferretdb() {
  local bin; bin=$(ferretdb_bin)
  [[ -x $bin ]] && return 0
  command -v go >/dev/null || die "go is not installed; FerretDB is built from the Go module proxy"
  log "building FerretDB v$FERRETDB_VERSION (one time, ~2 min)"
  # `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds, but the binary panics
  # at start: the module zip lacks build/version/version.txt, which FerretDB's own build task
  # writes. So: fetch the same module, add that file, build it.
  go mod download github.com/FerretDB/FerretDB@v$FERRETDB_VERSION
  local src; src="$(go env GOMODCACHE)/github.com/!ferret!d!b/!ferret!d!b@v$FERRETDB_VERSION"
  local work="$CACHE/src/ferretdb-$FERRETDB_VERSION"
  rm -rf "$work" && mkdir -p "$CACHE/src" "$CACHE/bin"
  cp -r "$src" "$work" && chmod -R u+w "$work"
  echo "v$FERRETDB_VERSION" > "$work/build/version/version.txt"
  # The MongoDB Rust driver 3.x always starts SCRAM with options {skipEmptyExchange: true}
  # (MongoDB >= 4.4 behaviour) and requires `done: true` after the client-final step. FerretDB
  # 1.24.2 ignores that option and answers `done: false`, forcing a round trip the driver no
  # longer makes, so no Rust client can log in. One-line fix: report the conversation's state
  # after the step. Authentication itself is unchanged (docs/testing.md).
  local sc="$work/internal/handler/msg_saslcontinue.go"
  grep -q '"done", valid, // for compatibility' "$sc" || die "FerretDB source changed; cannot apply the skipEmptyExchange fix"
  sed -i 's|"done", valid, // for compatibility.*|"done", conv.Valid(), // daraa-ops: honour skipEmptyExchange|' "$sc"
  (cd "$work" && go build -o "$bin.tmp" ./cmd/ferretdb) && mv "$bin.tmp" "$bin"
}

install_redis() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
  log "installing redis-server from Debian"
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  # Debian starts a system redis on 6379; ours runs on its own port, so leave that one alone.
}

# age and zstd (the reference command-line tools): the encryption tests decrypt daraa-ops
# archives with age, the compression test decompresses a .tar.zst with zstd.
install_age() {
  command -v age >/dev/null && command -v age-keygen >/dev/null && command -v zstd >/dev/null && return 0
  log "installing age and zstd from Debian"
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age zstd >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age zstd >/dev/null
  fi
}

# Debian's prometheus (with promtool) and prometheus-node-exporter, unpacked into the cache (not
# installed as services): the monitoring test runs node_exporter's textfile collector and a
# Prometheus that scrapes it, on loopback, and checks docs/monitoring/ with promtool.
install_monitoring() {
  local dir="$CACHE/monitoring"
  [[ -x $dir/usr/bin/prometheus && -x $dir/usr/bin/prometheus-node-exporter && -x $dir/usr/bin/promtool ]] && return 0
  log "unpacking Debian's prometheus and prometheus-node-exporter into $dir"
  local tmp; tmp=$(mktemp -d)
  ( cd "$tmp" && apt-get download prometheus prometheus-node-exporter >/dev/null 2>&1 ) ||
    { [[ $(id -u) -eq 0 ]] && apt-get update -qq && ( cd "$tmp" && apt-get download prometheus prometheus-node-exporter >/dev/null 2>&1 ); } ||
    die "cannot download Debian's prometheus packages (apt-get download prometheus prometheus-node-exporter)"
  mkdir -p "$dir"
  local deb; for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
  rm -rf "$tmp"
}

# prometheus_client's text-format parser: the stats tests check `--format prometheus` with it.
PROMCLIENT_VERSION=0.21.1
install_promclient() {
  local venv="$CACHE/promclient-$PROMCLIENT_VERSION"
  [[ -f $venv/.complete ]] && return 0
  log "installing prometheus-client==$PROMCLIENT_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" && "$venv/bin/pip" install -q "prometheus-client==$PROMCLIENT_VERSION"
  touch "$venv/.complete"
}

install_moto() {
  local venv="$CACHE/moto-$MOTO_VERSION"
  [[ -f $venv/.complete ]] && return 0
  log "installing moto[server]==$MOTO_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" && "$venv/bin/pip" install -q "moto[server]==$MOTO_VERSION"
  touch "$venv/.complete"
}

# --- starts -----------------------------------------------------------------------------------

start_ferretdb() { # name, port[, fresh]
  local name=$1 port=$2 fresh=${3:-}
  local pid="$STATE/$name.pid"
  if alive "$pid"; then return 0; fi
  port_open "$port" && die "port $port is taken by another process; set DARAA_FERRETDB_PORT / DARAA_FERRETDB_OPLOG_PORT"
  # FerretDB reads its oplog by scanning it whole and never trims it: the oplog server starts
  # empty each time, so its queries stay as fast as on the first run.
  [[ -n $fresh ]] && rm -rf "$STATE/$name/data"
  mkdir -p "$STATE/$name/data" "$STATE/$name/state"
  local pw; pw=$(secret ferretdb-admin)
  FERRETDB_SETUP_PASSWORD="$pw" nohup "$(ferretdb_bin)" \
    --handler=sqlite --sqlite-url="file:$STATE/$name/data/" --state-dir="$STATE/$name/state" \
    --listen-addr="127.0.0.1:$port" --debug-addr=- --telemetry=disable --log-level=warn \
    --test-enable-new-auth --setup-database=admin --setup-username=admin \
    >"$STATE/$name.log" 2>&1 &
  echo $! > "$pid"
  wait_for "$name" 60 port_open "$port"
  log "$name on 127.0.0.1:$port"
}

start_redis() {
  local pid="$STATE/redis.pid"
  if alive "$pid"; then return 0; fi
  port_open "$REDIS_PORT" && die "port $REDIS_PORT is taken by another process; set DARAA_REDIS_PORT"
  mkdir -p "$STATE/redis"
  local pw; pw=$(secret redis)
  (umask 077; cat > "$STATE/redis.conf" <<EOF
bind 127.0.0.1
port $REDIS_PORT
requirepass $pw
dir $STATE/redis
save ""
appendonly no
daemonize no
EOF
  )
  nohup redis-server "$STATE/redis.conf" >"$STATE/redis.log" 2>&1 &
  echo $! > "$pid"
  wait_for redis 30 env REDISCLI_AUTH="$pw" redis-cli -p "$REDIS_PORT" ping
  log "redis on 127.0.0.1:$REDIS_PORT"
}

start_s3() {
  local pid="$STATE/s3.pid"
  if alive "$pid"; then return 0; fi
  port_open "$S3_PORT" && die "port $S3_PORT is taken by another process; set DARAA_S3_PORT"
  local venv="$CACHE/moto-$MOTO_VERSION"
  nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" >"$STATE/s3.log" 2>&1 &
  echo $! > "$pid"
  wait_for s3 60 curl -sf "http://127.0.0.1:$S3_PORT/moto-api/"
  # The bucket the tests use; creating it again is harmless.
  curl -sf -X PUT "http://127.0.0.1:$S3_PORT/$BUCKET" >/dev/null || die "cannot create bucket $BUCKET"
  log "s3 (moto $MOTO_VERSION) on 127.0.0.1:$S3_PORT, bucket $BUCKET"
}

stop() { # name
  local pid="$STATE/$1.pid"
  if alive "$pid"; then
    local p; p=$(cat "$pid")
    kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    log "stopped $1 (pid $p)"
  fi
  rm -f "$pid"
}

cmd_env() {
  local fpw rpw
  fpw=$(secret ferretdb-admin)
  rpw=$(secret redis)
  cat <<EOF
export DARAA_TEST_MONGODB_URI='mongodb://admin:$fpw@127.0.0.1:$FERRET_PORT/?authSource=admin&authMechanism=SCRAM-SHA-256'
export DARAA_TEST_OPLOG_MONGODB_URI='mongodb://admin:$fpw@127.0.0.1:$OPLOG_PORT/?authSource=admin&authMechanism=SCRAM-SHA-256'
export DARAA_TEST_REDIS_URL='redis://:$rpw@127.0.0.1:$REDIS_PORT/0'
export DARAA_TEST_S3_ENDPOINT='http://127.0.0.1:$S3_PORT'
export DARAA_TEST_S3_BUCKET='$BUCKET'
export AWS_ACCESS_KEY_ID='$S3_KEY'
export AWS_SECRET_ACCESS_KEY='$S3_SECRET'
export AWS_REGION='us-east-1'
export DARAA_TEST_SERVICES_DIR='$STATE'
export DARAA_TEST_FERRETDB_BIN='$(ferretdb_bin)'
export DARAA_TEST_PROM_PARSER='$CACHE/promclient-$PROMCLIENT_VERSION/bin/python'
export DARAA_TEST_PROMETHEUS='$CACHE/monitoring/usr/bin/prometheus'
export DARAA_TEST_NODE_EXPORTER='$CACHE/monitoring/usr/bin/prometheus-node-exporter'
export DARAA_TEST_PROMTOOL='$CACHE/monitoring/usr/bin/promtool'
EOF
}

case ${1:-} in
  up)
    mkdir -p "$STATE" && chmod 700 "$STATE"
    # Three independent installs side by side (on a first run: FerretDB's Go build, apt, pip).
    install_ferretdb & ferret=$!
    { install_redis && install_age && install_monitoring; } & debian=$!
    { install_moto && install_promclient; } & python=$!
    failed=0
    for p in $ferret $debian $python; do wait "$p" || failed=1; done
    (( failed == 0 )) || die "an install failed (see above)"
    start_ferretdb ferretdb "$FERRET_PORT"
    start_ferretdb ferretdb-oplog "$OPLOG_PORT" fresh
    start_redis
    start_s3
    ;;
  down)
    stop s3
    stop redis
    stop ferretdb-oplog
    stop ferretdb
    ;;
  env) cmd_env ;;
  status)
    for s in ferretdb ferretdb-oplog redis s3; do
      if alive "$STATE/$s.pid"; then echo "$s: running (pid $(cat "$STATE/$s.pid"))"; else echo "$s: stopped"; fi
    done
    ;;
  *) echo "usage: $0 up|down|env|status" >&2; exit 2 ;;
esac
