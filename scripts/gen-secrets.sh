#!/usr/bin/env bash
# Creates the secrets files the example config and docker-compose.yml read (../secrets/ from
# config/, i.e. ./secrets/ at the repository root): one random password per file, mode 0600.
# Existing files are kept, so running it twice changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p secrets && chmod 700 secrets
for name in mongo_root_password daraa_app_password daraa_backup_password daraa_readonly_password redis_password \
  daraa_restore_password daraa_drill_password daraa_cleanup_password daraa_stats_password daraa_indexes_password \
  masking_key; do
  f="secrets/$name.txt"
  if [[ ! -s $f ]]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$f")
    echo "created $f"
  fi
  chmod 600 "$f"
done
