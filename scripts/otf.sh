#!/usr/bin/env bash
# A real Terraform Cloud API server for the cloud workspace tests: OTF (otfd) on a
# PostgreSQL cluster of its own, both processes on this machine. otfd runs the engine
# itself: the locally built terraform, so workspaces pin terraform-version to it.
#   scripts/otf.sh up | down | status | env
# OTF_HOST (default 127.0.0.1) is the address otfd listens on and names itself by.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

DATA=$KTF_CACHE/otf
PGDATA=$DATA/postgres
PG_PORT=5433
OTF_HOST=${OTF_HOST:-127.0.0.1}
OTF_PORT=8833
# Test credentials of the local OTF and its database, nothing else.
OTF_SECRET=6b74662d6f74662d7465737431323334
OTF_SITE_TOKEN=ktf-otf-site-token-0123456789
DB_USER=otf
DB_PASSWORD=ktf-otf-db-password
ENGINE_VERSION=${TERRAFORM_VERSION#v}
log() { printf '[otf] %s\n' "$*" >&2; }

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && [ -x "$d/postgres" ] || return 1
  echo "$d"
}

# PostgreSQL refuses to run as root, and root's home (where $KTF_CACHE is) is closed to
# other users: as root, run it in a user namespace where root's files belong to the
# postgres user, so it needs no access to anything the invoking user does not own.
as_pg() {
  if [ "$(id -u)" -ne 0 ]; then "$@"; return; fi
  unshare --user --map-user="$(id -u postgres)" --map-group="$(id -g postgres)" -- "$@"
}

pg_running() { [ -f "$PGDATA/postmaster.pid" ] && as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }
otfd_running() { [ -f "$DATA/otfd.pid" ] && kill -0 "$(cat "$DATA/otfd.pid")" 2>/dev/null; }
healthy() { curl -fsS -o /dev/null "http://$OTF_HOST:$OTF_PORT/api/v2/ping" 2>/dev/null; }
psql_otf() {
  PGPASSWORD=$DB_PASSWORD "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$DB_USER" "$@"
}

start_postgres() {
  pg_bin >/dev/null || "$here/install-host-packages.sh" postgresql
  local bin; bin=$(pg_bin) || { log "no PostgreSQL server under /usr/lib/postgresql after installing postgresql"; exit 1; }
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    log "creating the PostgreSQL cluster in $PGDATA"
    rm -rf "$PGDATA" && mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
    printf '%s\n' "$DB_PASSWORD" >"$DATA/db-password"
    as_pg "$bin/initdb" -D "$PGDATA" -U "$DB_USER" --pwfile="$DATA/db-password" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$DATA/initdb.log" 2>&1 ||
      { log "initdb failed; see $DATA/initdb.log"; exit 1; }
  fi
  if ! pg_running; then
    mkdir -p "$DATA/run"
    as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$DATA/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $DATA/run" start >/dev/null ||
      { log "PostgreSQL did not start; see $DATA/postgres.log"; exit 1; }
  fi
  [ "$(psql_otf -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'otf'")" = 1 ] ||
    psql_otf -d postgres -c 'CREATE DATABASE otf'
}

# otfd looks for terraform <version> at $TMPDIR/otf-terraform-bins/<version>/terraform
# before it downloads one; its TMPDIR is ours.
place_engine() {
  local dir=$DATA/tmp/otf-terraform-bins/$ENGINE_VERSION
  mkdir -p "$dir"
  ln -sfn "$KTF_BIN_CACHE/terraform-$TERRAFORM_VERSION/terraform" "$dir/terraform"
}

start_otfd() {
  if otfd_running && [ "$(cat "$DATA/otfd.host" 2>/dev/null)" = "$OTF_HOST" ]; then return; fi
  stop_otfd
  place_engine
  mkdir -p "$DATA/home"
  # An empty CLI configuration: a missing one makes the engine warn on stdout, which breaks
  # OTF's parsing of `show -json`. Only what otfd needs of the environment, no OTF_* flags.
  : >"$DATA/empty.tfrc"
  nohup env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$DATA/home" TMPDIR="$DATA/tmp" \
    TF_CLI_CONFIG_FILE="$DATA/empty.tfrc" CHECKPOINT_DISABLE=1 \
    "$KTF_BIN_CACHE/otf-$OTF_VERSION/otfd" --address "$OTF_HOST:$OTF_PORT" --hostname "$OTF_HOST:$OTF_PORT" \
    --secret "$OTF_SECRET" --site-token "$OTF_SITE_TOKEN" \
    --database "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/otf?sslmode=disable" \
    >"$DATA/otfd.log" 2>&1 </dev/null &
  echo $! >"$DATA/otfd.pid"
  echo "$OTF_HOST" >"$DATA/otfd.host"
  for _ in $(seq 1 300); do healthy && return; otfd_running || break; sleep 0.1; done
  log "otfd did not come up on $OTF_HOST:$OTF_PORT; see $DATA/otfd.log"
  exit 1
}

stop_otfd() {
  if otfd_running; then
    local pid; pid=$(cat "$DATA/otfd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$DATA/otfd.pid" "$DATA/otfd.host"
}

up() {
  "$here/build-binaries.sh" otf terraform
  start_postgres
  start_otfd
  env_lines
}

down() {
  stop_otfd
  if pg_running; then as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null; fi
}

status() {
  local ok=0
  if pg_running; then echo "postgres: running on 127.0.0.1:$PG_PORT ($PGDATA)"; else echo "postgres: stopped"; ok=1; fi
  if otfd_running && healthy; then echo "otfd: running on $OTF_HOST:$OTF_PORT (pid $(cat "$DATA/otfd.pid"))"
  else echo "otfd: stopped"; ok=1; fi
  return $ok
}

env_lines() {
  printf 'OTF_URL=http://%s:%s\nOTF_HOSTNAME=%s:%s\nOTF_TOKEN=%s\nOTF_TERRAFORM_VERSION=%s\n' \
    "$OTF_HOST" "$OTF_PORT" "$OTF_HOST" "$OTF_PORT" "$OTF_SITE_TOKEN" "$ENGINE_VERSION"
}

mkdir -p "$DATA"
case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  env) env_lines ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
