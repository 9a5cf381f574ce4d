#!/usr/bin/env bash
# Writes the quickstart's config for the local test services (scripts/services.sh): the one
# scripts/quickstart.sh uses and docs/operations.md's "First night" runs with (its test,
# tests/it/walkthrough.rs, writes it with this script too). Passwords stay in the services'
# 0600 files; the app user's password file is made here once.
#
#   scripts/quickstart-config.sh OUT [DATABASE [BACKUP_DIR [S3_PREFIX]]]
#   defaults: daraa, $DARAA_TEST_SERVICES_DIR/backups, quickstart/
# Needs the variables of `scripts/services.sh env`.
set -euo pipefail
out=${1:?usage: quickstart-config.sh OUT [DATABASE [BACKUP_DIR [S3_PREFIX]]]}
state=${DARAA_TEST_SERVICES_DIR:?run: eval "$(scripts/services.sh env)"}
db=${2:-daraa}
backups=${3:-$state/backups}
prefix=${4:-quickstart/}
app_pw="$state/daraa_app.password"
if [[ ! -s $app_pw ]]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$app_pw")
fi
cat > "$out" <<YAML
mongodb:
  uri: "mongodb://127.0.0.1:${DARAA_TEST_MONGODB_URI##*@127.0.0.1:}"
  username: admin
  password_file: $state/ferretdb-admin.password
  database: $db
  # The account \`users provision\` works with (an administrator).
  admin: {username: admin, password_file: $state/ferretdb-admin.password}
redis:
  url: "redis://127.0.0.1:${DARAA_TEST_REDIS_URL##*@127.0.0.1:}"
  password_file: $state/redis.password
s3:
  bucket: $DARAA_TEST_S3_BUCKET
  prefix: $prefix
  endpoint: $DARAA_TEST_S3_ENDPOINT
  force_path_style: true
backup:
  dir: $backups
# The application's user. No roles: FerretDB has none (on MongoDB: readWrite on $db).
users:
  - {name: ${db}_app, db: admin, roles: [], password_file: $app_pw}
YAML
chmod 600 "$out"
