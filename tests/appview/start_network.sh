#!/usr/bin/env bash
# Start a whole local Bluesky network -- PLC directory, PDS and AppView (with Ozone, which
# the AppView expects) -- on 127.0.0.1, for the tests that need an AppView (timelines,
# notifications). Prints the URLs as shell assignments:
#
#   eval "$(bash tests/appview/start_network.sh)"   # starts; sets KOMPAS_TEST_APPVIEW_*
#   .venv/bin/python -m pytest tests/test_appview_network.py
#   bash tests/appview/start_network.sh stop         # stops the network, Redis, PostgreSQL
#
#   KOMPAS_TEST_APPVIEW_PDS_URL  the PDS (accounts, records; proxies app.bsky.* reads)
#   KOMPAS_TEST_APPVIEW_URL      the AppView itself (public, unauthenticated reads)
#   KOMPAS_TEST_APPVIEW_PLC_URL  the PLC directory
#
# The stack is @atproto/dev-env (the network Bluesky's own tests run), pinned with every
# transitive package by package-lock.json beside this script. It needs Node 22, which comes
# from npm's `node` package, so the machine's own Node (>= 20, for npm) is only the
# installer. Also needs PostgreSQL binaries (PGBIN, default version 15), redis-server, g++
# and make (better-sqlite3 compiles against Node 22's headers), and python3 for free
# ports. Everything lands in $WORK (default /tmp/kompas-appview); nothing listens beyond
# loopback (network.mjs binds every service to 127.0.0.1).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="${WORK:-/tmp/kompas-appview}"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
NODE="$WORK/node/node_modules/.bin/node"

as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }

stop() {
  if [ -f "$WORK/node.pid" ]; then
    pid=$(cat "$WORK/node.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$WORK/node.pid"
  fi
  if [ -f "$WORK/redis.pid" ]; then
    kill "$(cat "$WORK/redis.pid")" 2>/dev/null || true
    rm -f "$WORK/redis.pid"
  fi
  if [ -d "$WORK/pg/data" ]; then
    as_pg "'$PGBIN/pg_ctl' -D '$WORK/pg/data' -m fast stop >/dev/null 2>&1" || true
  fi
}

install() {
  # npm ci installs exactly the lock file, without running install scripts: the only ones
  # needed are the `node` package's (it fetches Node 22 from npm) and better-sqlite3's,
  # which must be compiled once, for Node 22, against the headers that come with it
  # (nothing is fetched from nodejs.org). The rest only print banners or check prebuilds.
  mkdir -p "$WORK/node"
  if ! cmp -s "$HERE/package-lock.json" "$WORK/node/package-lock.json" || [ ! -x "$NODE" ]; then
    cp "$HERE/package.json" "$HERE/package-lock.json" "$WORK/node/"
    (cd "$WORK/node" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2 \
      && npm rebuild node --loglevel=error >&2)
  fi
  local sqlite="$WORK/node/node_modules/better-sqlite3"
  if ! "$NODE" -e "new (require('$sqlite'))(':memory:')" 2>/dev/null; then
    local headers="" dir
    for dir in "$WORK"/node/node_modules/node/node_modules/node-*; do
      [ -f "$dir/include/node/common.gypi" ] && headers=$dir
    done
    [ -n "$headers" ] || { echo "no Node 22 headers under $WORK/node" >&2; exit 1; }
    (cd "$WORK/node" && PATH="$WORK/node/node_modules/.bin:$PATH" \
      npm rebuild better-sqlite3 --nodedir="$headers" --loglevel=error >&2)
    "$NODE" -e "new (require('$sqlite'))(':memory:')" >&2
  fi
}

case "${1:-start}" in
  stop) stop; exit 0 ;;
  install) install; exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|stop|install]" >&2; exit 2 ;;
esac

# Free ports below the kernel's ephemeral range (32768+), where the bare PDS that CI starts
# at the same time (tests/pds/start_pds.sh) takes its own: the two never pick the same one.
free_ports() {
  python3 -c 'import random, socket, sys
ports = []
while len(ports) < int(sys.argv[1]):
    port = random.randrange(20000, 32000)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    if port not in ports:
        ports.append(port)
print(*ports)' "$1"
}
mkdir -p "$WORK"
chmod 755 "$WORK"   # the postgres user must reach $WORK/pg when we run as root
stop
install
cp "$HERE/network.mjs" "$WORK/node/"

# --- scratch PostgreSQL and Redis, loopback only ---------------------------------------
rm -rf "$WORK/pg" "$WORK/redis" "$WORK/tmp"
mkdir -p "$WORK/pg" "$WORK/redis" "$WORK/tmp"
read -r PG_PORT REDIS_PORT PLC_PORT PDS_PORT APPVIEW_PORT < <(free_ports 5)
[ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
as_pg "'$PGBIN/initdb' -D '$WORK/pg/data' -U postgres --auth=trust -E UTF8 >'$WORK/pg/initdb.log'"
# The AppView, bsync and Ozone each keep a pool of connections: allow for them.
as_pg "'$PGBIN/pg_ctl' -D '$WORK/pg/data' -l '$WORK/pg/server.log' -w \
  -o \"-p $PG_PORT -c listen_addresses=127.0.0.1 -c max_connections=200 -k '$WORK/pg'\" \
  start >/dev/null"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
  --dir "$WORK/redis" --daemonize yes --pidfile "$WORK/redis.pid" \
  --logfile "$WORK/redis/redis.log" >/dev/null

# --- the network ------------------------------------------------------------------------
# TMPDIR: the PDS writes its data and blobs under os.tmpdir(); keep them in $WORK.
TMPDIR="$WORK/tmp" DB_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
  REDIS_HOST="127.0.0.1:$REDIS_PORT" PLC_PORT=$PLC_PORT PDS_PORT=$PDS_PORT \
  APPVIEW_PORT=$APPVIEW_PORT LOG_ENABLED=false NODE_OPTIONS=--dns-result-order=ipv4first \
  nohup "$NODE" "$WORK/node/network.mjs" >"$WORK/network.log" 2>&1 </dev/null &
echo $! >"$WORK/node.pid"
# A busy 2-core machine (CI also installs the Python environment meanwhile) can take minutes.
WAIT=${NETWORK_START_TIMEOUT:-360}
for _ in $(seq 1 "$WAIT"); do
  grep -q '^READY ' "$WORK/network.log" && break
  kill -0 "$(cat "$WORK/node.pid")" 2>/dev/null || { tail -n 40 "$WORK/network.log" >&2; stop; exit 1; }
  sleep 1
done
if ! grep -q '^READY ' "$WORK/network.log"; then
  echo "network did not start in $WAIT s; the end of $WORK/network.log:" >&2
  tail -n 40 "$WORK/network.log" >&2
  stop; exit 1
fi

python3 - "$WORK/network.log" <<'PY'
import json, sys, urllib.request
line = next(l for l in open(sys.argv[1]) if l.startswith("READY "))
urls = json.loads(line[len("READY "):])
for key in ("pds", "appview"):
    urllib.request.urlopen(urls[key] + "/xrpc/_health", timeout=10).read()
print(f"KOMPAS_TEST_APPVIEW_PDS_URL={urls['pds']}")
print(f"KOMPAS_TEST_APPVIEW_URL={urls['appview']}")
print(f"KOMPAS_TEST_APPVIEW_PLC_URL={urls['plc']}")
PY
