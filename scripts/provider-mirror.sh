#!/usr/bin/env bash
# The test provider's mirror (scripts/build-provider.sh), served over HTTPS on the node's
# address as an enterprise's private mirror would be, for the demo. Its CA and a terraform
# CLI configuration naming it are kept under $KTF_CACHE/provider-mirror, for the Secret that
# run pods get (config.tfrc and ca.crt).
#   scripts/provider-mirror.sh up | down | status | env
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$here/versions.sh"

DATA=$KTF_CACHE/provider-mirror
PORT=7443
log() { printf '[provider-mirror] %s\n' "$*" >&2; }
node_ip() { "$here/cluster.sh" env | sed -n 's/^NODE_IP=//p'; }
url() { printf 'https://%s:%s/' "$(node_ip)" "$PORT"; }

healthy() {
  curl -fsS -o /dev/null --cacert "$DATA/tls/ca.pem" "$(url)registry.ktf.dev/ktf/ktftest/index.json" 2>/dev/null
}

up() {
  local dir; dir=$("$here/build-provider.sh")
  # A mirror of an older build is replaced: its hashes are not the new provider's.
  if [ -f "$DATA/pid" ] && kill -0 "$(cat "$DATA/pid")" 2>/dev/null; then
    [ "$(cat "$DATA/dir" 2>/dev/null)" = "$dir" ] && healthy && { env_lines; return; }
    down
  fi
  mkdir -p "$DATA/tls"
  (cd "$root" && exec node --import tsx test/harness/provider-mirror-main.ts --dir "$dir" --host "$(node_ip)" --port "$PORT" --cert-dir "$DATA/tls" --cli-config "$DATA/config.tfrc") >"$DATA/log" 2>&1 &
  echo $! >"$DATA/pid"
  echo "$dir" >"$DATA/dir"
  for _ in $(seq 1 100); do healthy && break; sleep 0.1; done
  healthy || { log "the mirror did not come up; see $DATA/log"; exit 1; }
  env_lines
}

down() {
  [ -f "$DATA/pid" ] && kill "$(cat "$DATA/pid")" 2>/dev/null || true
  rm -f "$DATA/pid"
}

env_lines() {
  printf 'MIRROR_URL=%s\nMIRROR_CA=%s\nMIRROR_CLI_CONFIG=%s\n' "$(url)" "$DATA/tls/ca.pem" "$DATA/config.tfrc"
}

mkdir -p "$DATA"
case ${1:-} in
  up) up ;;
  down) down ;;
  status) healthy ;;
  env) env_lines ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
