#!/usr/bin/env bash
# A throwaway PostgreSQL for tests and the load benchmark. Idempotent:
#
#   DATABASE_URL=$(bash scripts/postgres.sh)        # install if missing, start, print the URL
#   bash scripts/postgres.sh stop                   # stop it (the data dir stays until reboot)
#   bash scripts/postgres.sh destroy                # stop it and delete the data dir
#
# - Installs Debian's `postgresql` with apt-get when no server binaries are found.
# - Runs a private cluster (not the distribution's `main` cluster) in $MOZMARKET_PG_DIR
#   (default /tmp/mozmarket-pg), listening on 127.0.0.1:$MOZMARKET_PG_PORT (default 55432)
#   only, with its socket inside the data dir. Loopback connections are trusted: this is a test
#   database, never a deployment.
# - Creates the role and database `mozmarket`.
# - Prints exactly one line on standard output: the URL. Everything else goes to standard error.
# - Works as root (the server then runs as the `postgres` system user) and as a normal user.
set -euo pipefail

PORT="${MOZMARKET_PG_PORT:-55432}"
DIR="${MOZMARKET_PG_DIR:-/tmp/mozmarket-pg}"
ROLE=mozmarket
DBNAME=mozmarket
URL="postgres://${ROLE}@127.0.0.1:${PORT}/${DBNAME}"
log() { echo "postgres.sh: $*" >&2; }

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
      echo "$d"
      return 0
    fi
  done
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return 0
  fi
  return 1
}

BIN="$(find_bin || true)"
if [ -z "$BIN" ]; then
  if [ "${1:-}" = stop ] || [ "${1:-}" = destroy ]; then
    log "PostgreSQL is not installed; nothing to stop"
    exit 0
  fi
  [ "$(id -u)" -eq 0 ] || { log "PostgreSQL is missing and installing it needs root (apt-get install postgresql)"; exit 1; }
  log "installing PostgreSQL (apt-get install postgresql)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  BIN="$(find_bin)"
fi

# As root, the server and its tools run as the `postgres` system user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() { as_pg "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; }

case "${1:-start}" in
  stop)
    if [ -d "$DIR" ] && running; then as_pg "$BIN/pg_ctl" -D "$DIR" -m fast -w stop >&2; fi
    exit 0
    ;;
  destroy)
    if [ -d "$DIR" ] && running; then as_pg "$BIN/pg_ctl" -D "$DIR" -m fast -w stop >&2; fi
    rm -rf "$DIR"
    exit 0
    ;;
  start) ;;
  *) log "usage: postgres.sh [start|stop|destroy]"; exit 2 ;;
esac

if [ ! -s "$DIR/PG_VERSION" ]; then
  log "creating a cluster in $DIR"
  rm -rf "$DIR"
  mkdir -p "$DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR"
  chmod 700 "$DIR"
  as_pg "$BIN/initdb" -D "$DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >&2 \
    || as_pg "$BIN/initdb" -D "$DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C >&2
  # Loopback TCP only; no other host may connect.
  cat > "$DIR/pg_hba.conf.new" <<HBA
local   all all                 trust
host    all all 127.0.0.1/32    trust
host    all all ::1/128         trust
HBA
  as_pg cp "$DIR/pg_hba.conf.new" "$DIR/pg_hba.conf"
  rm -f "$DIR/pg_hba.conf.new"
fi

if ! running; then
  log "starting PostgreSQL on 127.0.0.1:$PORT"
  as_pg "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=on -c max_connections=200" start >&2
fi

psql_pg() { as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_pg -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  psql_pg -c "CREATE ROLE $ROLE LOGIN" >&2
fi
if [ "$(psql_pg -c "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")" != 1 ]; then
  psql_pg -c "CREATE DATABASE $DBNAME OWNER $ROLE" >&2
fi
log "ready: $URL"
echo "$URL"
