#!/usr/bin/env bash
# Real object stores for the backup tests, as processes on this machine: versitygw (S3; it
# checks SigV4 signatures, so a wrong key is refused) and fake-gcs-server (the GCS JSON
# API). They listen on the node's address, so the operator's pod reaches them as it would
# reach a store outside the cluster.
#   scripts/object-stores.sh up | down | status | env
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

DATA=$KTF_CACHE/object-stores
S3_PORT=7070
GCS_PORT=4443
BUCKET=ktf-backups
# Test credentials of the local S3 server, nothing else.
S3_ACCESS_KEY=ktf-e2e-access
S3_SECRET_KEY=ktf-e2e-secret-0123456789
log() { printf '[object-stores] %s\n' "$*" >&2; }
node_ip() { "$here/cluster.sh" env | sed -n 's/^NODE_IP=//p'; }

healthy() {
  local ip=$1
  curl -fsS -o /dev/null "http://$ip:$GCS_PORT/storage/v1/b" 2>/dev/null &&
    curl -sS -o /dev/null "http://$ip:$S3_PORT/" 2>/dev/null
}

start() {
  local name=$1; shift
  [ -f "$DATA/$name.pid" ] && kill -0 "$(cat "$DATA/$name.pid")" 2>/dev/null && return
  "$@" >"$DATA/$name.log" 2>&1 &
  echo $! >"$DATA/$name.pid"
}

up() {
  "$here/build-binaries.sh" versitygw fake-gcs-server
  local ip; ip=$(node_ip)
  mkdir -p "$DATA/s3/$BUCKET"
  start versitygw env ROOT_ACCESS_KEY="$S3_ACCESS_KEY" ROOT_SECRET_KEY="$S3_SECRET_KEY" \
    "$KTF_BIN_CACHE/versitygw-$VERSITYGW_VERSION/versitygw" --port "$ip:$S3_PORT" posix "$DATA/s3"
  start fake-gcs-server "$KTF_BIN_CACHE/fake-gcs-server-$FAKE_GCS_VERSION/fake-gcs-server" \
    -scheme http -host "$ip" -port "$GCS_PORT" -backend memory -external-url "http://$ip:$GCS_PORT" -log-level warn
  for _ in $(seq 1 100); do healthy "$ip" && break; sleep 0.1; done
  healthy "$ip" || { log "the object stores did not come up; see $DATA/*.log"; exit 1; }
  curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -d "{\"name\":\"$BUCKET\"}" \
    "http://$ip:$GCS_PORT/storage/v1/b?project=ktf" 2>/dev/null || true
  env_lines
}

down() {
  for name in versitygw fake-gcs-server; do
    [ -f "$DATA/$name.pid" ] && kill "$(cat "$DATA/$name.pid")" 2>/dev/null || true
    rm -f "$DATA/$name.pid"
  done
  rm -rf "$DATA/s3"
}

env_lines() {
  local ip; ip=$(node_ip)
  printf 'S3_ENDPOINT=http://%s:%s\nGCS_ENDPOINT=http://%s:%s\nBUCKET=%s\nS3_ACCESS_KEY=%s\nS3_SECRET_KEY=%s\n' \
    "$ip" "$S3_PORT" "$ip" "$GCS_PORT" "$BUCKET" "$S3_ACCESS_KEY" "$S3_SECRET_KEY"
}

mkdir -p "$DATA"
case ${1:-} in
  up) up ;;
  down) down ;;
  status) healthy "$(node_ip)" ;;
  env) env_lines ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
