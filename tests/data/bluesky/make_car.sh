#!/usr/bin/env bash
# Regenerate repo.car / repo-bob.car (+ *.expected.json) from a REAL local
# Bluesky PDS, so kompas is tested against what a PDS actually exports.
#
#   bash tests/data/bluesky/make_car.sh        # scratch dir: $WORK or /tmp/pds-work
#
# Needs: node >= 20 + npm, python3 (venv), PostgreSQL 15 binaries (the PLC
# server stores DID operations in Postgres), network to npm and PyPI only.
# Everything but the outputs lands in $WORK; nothing listens beyond 127.0.0.1.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="${WORK:-/tmp/pds-work}"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
# Pinned so a re-run builds the same stack as the committed fixture.
PDS_VERSION=0.4.217
PLC_VERSION=0.0.1
ATPROTO_PY_VERSION=0.0.73
mkdir -p "$WORK"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- 1. npm packages (scratch dir, never in the repo) -------------------------
mkdir -p "$WORK/node"
cd "$WORK/node"
if [ ! -d node_modules/@atproto/pds ]; then
  # better-sqlite3 13 needs Node 22 (segfaults on Node 20): pin 12.
  cat > package.json <<EOF
{ "name": "pds-work", "private": true, "type": "module",
  "dependencies": { "@atproto/pds": "$PDS_VERSION", "@did-plc/server": "$PLC_VERSION" },
  "overrides": { "better-sqlite3": "^12" } }
EOF
  npm install --no-audit --no-fund
  # npm leaves install scripts unapproved, so the native module is unbuilt.
  npm rebuild better-sqlite3 --foreground-scripts
fi
cp "$HERE/make_car.mjs" "$WORK/node/"   # ESM resolves packages next to the file

# --- 2. Python SDK in its own venv --------------------------------------------
if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q "atproto==$ATPROTO_PY_VERSION"
fi

# --- 3. Fresh servers: PostgreSQL -> PLC + PDS ---------------------------------
rm -rf "$WORK/pg" "$WORK/pds-data"
mkdir -p "$WORK/pg" "$WORK/pds-data"
PG_PORT=$(free_port); PLC_PORT=$(free_port); PDS_PORT=$(free_port)
# initdb refuses to run as root: use the postgres user when we are root.
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
as_pg "'$PGBIN/initdb' -D '$WORK/pg/data' -U postgres --auth=trust -E UTF8 >'$WORK/pg/initdb.log'"
as_pg "'$PGBIN/pg_ctl' -D '$WORK/pg/data' -l '$WORK/pg/server.log' -w \
  -o \"-p $PG_PORT -c listen_addresses=127.0.0.1 -k '$WORK/pg'\" start >/dev/null"

NODE_PID=""
cleanup() {
  [ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null || true
  as_pg "'$PGBIN/pg_ctl' -D '$WORK/pg/data' -m fast stop >/dev/null" || true
}
trap cleanup EXIT

WORK="$WORK" PLC_PORT=$PLC_PORT PDS_PORT=$PDS_PORT \
  DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
  LOG_ENABLED=false node "$WORK/node/make_car.mjs" >"$WORK/servers.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 1 60); do
  grep -q READY "$WORK/servers.log" && break
  kill -0 "$NODE_PID" 2>/dev/null || { cat "$WORK/servers.log"; exit 1; }
  sleep 1
done
curl -fsS "http://127.0.0.1:$PDS_PORT/xrpc/_health"; echo

# --- 4. Create the content and export the repos --------------------------------
"$WORK/venv/bin/python" "$HERE/make_car.py" "http://127.0.0.1:$PDS_PORT" "$HERE"

# --- 5. Independent check of the exports against what was created ---------------
"$WORK/venv/bin/python" "$HERE/check_car.py" repo repo-bob
