#!/usr/bin/env bash
# Events appended per second through the JSON API on SQLite, beside raw
# inserts into the same SQLite file with the same durability settings; and
# hash-chain verification in events per second.
#   bash bench/core/append.sh [SECONDS]
# Needs wrk (apt-get install wrk) and a release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS="${1:-20}"
[ -x "${CARGO_TARGET_DIR:-$PWD/target}/release/saanjh" ] || cargo build --release -q -p saanjh
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/saanjh"
WORK="$(mktemp -d)"; trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
DB="sqlite://$WORK/bench.db"
"$BIN" demo --no-serve --database "$DB" >/dev/null 2>&1
"$BIN" serve --database "$DB" --listen 127.0.0.1:18089 >/dev/null 2>&1 & SERVER=$!
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18089/api/v1/initiatives >/dev/null && break; sleep 0.2; done
API=http://127.0.0.1:18089/api/v1
export TOKEN=$(curl -sf -X POST $API/tokens -H 'Content-Type: application/json' -d '{"username":"treasurer","password":"saanjh-demo"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
INIT=$(curl -sf "$API/initiatives?per_page=500" | python3 -c 'import sys,json; print([i["id"] for i in json.load(sys.stdin)["items"] if "Street 7" in i["name"]][0])')
export SCHEME=$(curl -sf "$API/initiatives/$INIT/schemes" | python3 -c 'import sys,json; print(json.load(sys.stdin)["items"][0]["id"])')
before=$(python3 -c "import sqlite3;print(sqlite3.connect('$WORK/bench.db').execute('SELECT COUNT(*) FROM events').fetchone()[0])")
wrk -t2 -c4 -d"${SECS}s" -s bench/core/pledge.lua http://127.0.0.1:18089 > "$WORK/wrk.txt"
after=$(python3 -c "import sqlite3;print(sqlite3.connect('$WORK/bench.db').execute('SELECT COUNT(*) FROM events').fetchone()[0])")
non2xx=$(grep -o 'Non-2xx or 3xx responses: [0-9]*' "$WORK/wrk.txt" | grep -o '[0-9]*$' || echo 0)
api_rate=$(python3 -c "print(round(($after-$before)/$SECS))")
kill $SERVER; wait $SERVER 2>/dev/null || true
raw_rate=$(python3 bench/core/raw_inserts.py "$WORK/bench.db" "$SECS")
echo "API: $((after-before)) events in ${SECS}s = $api_rate events/s (non-2xx: $non2xx)"
echo "raw: $raw_rate inserts/s (WAL, synchronous=FULL, one transaction each)"
python3 -c "print(f'ratio API/raw = {$api_rate/$raw_rate:.2f}')"
"$BIN" verify --database "$DB"
