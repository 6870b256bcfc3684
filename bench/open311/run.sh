#!/usr/bin/env bash
# Open311 benchmarks (issue 5): POST and GET requests per second with wrk
# against `saanjh serve` on a fresh SQLite file (WAL, synchronous=FULL), the
# demonstration initiatives loaded and their reports seeded.
#   bash bench/open311/run.sh [DURATION=20s] [CONNECTIONS=8]   (PORT=18311 by default)
# Needs wrk and python3. Builds the release binary (honours CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR="${1:-20s}"; CONNS="${2:-8}"; PORT="${PORT:-18311}"
# BIN=path/to/saanjh skips the build (e.g. to measure a debug binary).
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p saanjh
  BIN="${CARGO_TARGET_DIR:-target}/release/saanjh"
fi
T=$(mktemp -d); DB="sqlite://$T/bench.db"
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$T"' EXIT
"$BIN" --database "$DB" demo --no-serve >/dev/null 2>&1
"$BIN" --database "$DB" open311 seed-demo
# A key that the per-key rate limit does not hold back.
KEY=$("$BIN" --database "$DB" open311 key --name "wrk benchmark" --rate-per-minute 1000000000 2>/dev/null)
"$BIN" --database "$DB" serve --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/open311/v2/discovery.json" >/dev/null && break; sleep 0.2; done
BASE="http://127.0.0.1:$PORT/open311/v2"
# A component-sharing initiative and one of its reports.
JUR=$(curl -sf "http://127.0.0.1:$PORT/api/v1/initiatives?per_page=100" | python3 -c 'import json,sys; print(next(i["id"] for i in json.load(sys.stdin)["items"] if i["arrangement_id"]=="component-sharing"))')
ONE=$(curl -sf "$BASE/requests.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["service_request_id"])')
# The initiative's first scheme with a lane sewer: named in address_id, a report is routed at once.
SCHEME=$(curl -sf "http://127.0.0.1:$PORT/api/v1/initiatives/$JUR/schemes?per_page=100" | python3 -c 'import json,sys; print(next(s["id"] for s in json.load(sys.stdin)["items"]))')
cat > "$T/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "api_key=$KEY&jurisdiction_id=$JUR&service_code=blocked_lane_sewer&lat=29.53&long=71.63&address_string=Street+7&address_id=$SCHEME&description=Manhole+overflowing+outside+house+12&attribute%5Bmanhole_overflowing%5D=yes&email=resident%40example.org"
LUA
# A report that names no scheme, where two schemes have the component (the water
# initiative's phases both have house fittings): held for triage under a token.
WATER=$(curl -sf "http://127.0.0.1:$PORT/api/v1/initiatives?per_page=100" | python3 -c 'import json,sys; print(next(i["id"] for i in json.load(sys.stdin)["items"] if i["arrangement_id"]=="community-managed-water"))')
cat > "$T/held.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "api_key=$KEY&jurisdiction_id=$WATER&service_code=leaking_connection&address_string=Badar+Colony+street+15&description=The+service+line+leaks+into+the+street&phone=03001234567"
LUA
echo "== POST requests.json, routed at once (address_id names the scheme: route, obligation, contact in one transaction)"
wrk -t2 -c"$CONNS" -d"$DUR" -s "$T/post.lua" "$BASE/requests.json" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
echo "== POST requests.json, held for triage (no scheme named: a token, contact in the same transaction)"
wrk -t2 -c"$CONNS" -d"$DUR" -s "$T/held.lua" "$BASE/requests.json" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
curl -sf -X POST -H 'content-type: application/x-www-form-urlencoded' --data "$(sed -n 's/^wrk.body = "\(.*\)"$/\1/p' "$T/held.lua")" "$BASE/requests.json" | python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; assert "token" in r and "service_request_id" not in r, r; print("(held POST answers with a token only)")'
N=$(curl -sf "$BASE/requests.json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo "== GET requests/{id}.json (one report)"
wrk -t2 -c"$CONNS" -d"$DUR" "$BASE/requests/$ONE.json" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
echo "== GET requests.xml?status=closed (the seeded closed reports)"
wrk -t2 -c"$CONNS" -d"$DUR" "$BASE/requests.xml?status=closed" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
echo "== GET requests.json (default window: the newest $N of them, at most 1000)"
wrk -t2 -c"$CONNS" -d"$DUR" "$BASE/requests.json" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
"$BIN" --database "$DB" verify | tail -1
