#!/usr/bin/env bash
# Start a real local Bluesky PDS (+ its PLC directory, backed by a scratch PostgreSQL)
# on 127.0.0.1 for the `kompas sync bluesky` integration test, and print its URL.
#
#   url=$(bash tests/pds/start_pds.sh)          # starts, prints http://127.0.0.1:PORT
#   KOMPAS_TEST_PDS_URL=$url .venv/bin/python -m pytest tests/test_sync_pds.py
#   bash tests/pds/start_pds.sh stop            # stops PDS, PLC and PostgreSQL
#
# Reuses the pinned stack of tests/data/bluesky/make_car.sh (same versions, same
# make_car.mjs server script). Needs node >= 20 + npm, g++ and make (better-sqlite3 is
# compiled on install), python3, and PostgreSQL binaries (PGBIN, default version 15);
# everything lands in $WORK (default /tmp/kompas-pds); nothing listens beyond loopback.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="$HERE/../data/bluesky"
WORK="${WORK:-/tmp/kompas-pds}"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
PDS_VERSION=0.4.217
PLC_VERSION=0.0.1

as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }

stop() {
  if [ -f "$WORK/node.pid" ]; then
    kill "$(cat "$WORK/node.pid")" 2>/dev/null || true
    rm -f "$WORK/node.pid"
  fi
  if [ -d "$WORK/pg/data" ]; then
    as_pg "'$PGBIN/pg_ctl' -D '$WORK/pg/data' -m fast stop >/dev/null 2>&1" || true
  fi
}

if [ "${1:-}" = "stop" ]; then stop; exit 0; fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mkdir -p "$WORK/node"
chmod 755 "$WORK"   # the postgres user must reach $WORK/pg when we run as root
stop

# --- npm packages, pinned (installed once per $WORK) -------------------------------
if [ ! -d "$WORK/node/node_modules/@atproto/pds" ]; then
  cat > "$WORK/node/package.json" <<JSON
{ "name": "kompas-pds", "private": true, "type": "module",
  "dependencies": { "@atproto/pds": "$PDS_VERSION", "@did-plc/server": "$PLC_VERSION" },
  "overrides": { "better-sqlite3": "^12" } }
JSON
  (cd "$WORK/node" && npm install --no-audit --no-fund >&2 && npm rebuild better-sqlite3 --foreground-scripts >&2)
fi
cp "$DATA/make_car.mjs" "$WORK/node/"

# --- fresh PostgreSQL for the PLC directory, then PLC + PDS --------------------------
rm -rf "$WORK/pg" "$WORK/pds-data"
mkdir -p "$WORK/pg" "$WORK/pds-data"
PG_PORT=$(free_port); PLC_PORT=$(free_port); PDS_PORT=$(free_port)
[ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
as_pg "'$PGBIN/initdb' -D '$WORK/pg/data' -U postgres --auth=trust -E UTF8 >'$WORK/pg/initdb.log'"
as_pg "'$PGBIN/pg_ctl' -D '$WORK/pg/data' -l '$WORK/pg/server.log' -w \
  -o \"-p $PG_PORT -c listen_addresses=127.0.0.1 -k '$WORK/pg'\" start >/dev/null"

WORK="$WORK" PLC_PORT=$PLC_PORT PDS_PORT=$PDS_PORT \
  DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres" LOG_ENABLED=false \
  nohup node "$WORK/node/make_car.mjs" >"$WORK/servers.log" 2>&1 </dev/null &
echo $! >"$WORK/node.pid"
for _ in $(seq 1 90); do
  grep -q READY "$WORK/servers.log" && break
  kill -0 "$(cat "$WORK/node.pid")" 2>/dev/null || { cat "$WORK/servers.log" >&2; stop; exit 1; }
  sleep 1
done
grep -q READY "$WORK/servers.log" || { echo "PDS did not start in 90 s" >&2; stop; exit 1; }
python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PDS_PORT/xrpc/_health', timeout=10)"
echo "http://127.0.0.1:$PDS_PORT"
