#!/usr/bin/env bash
# Benchmark of the public scheme page (issue 4): Saanjh rendering it per
# request versus nginx serving the same bytes as a static file, on the same
# machine, with wrk. Also the server time per request at concurrency 1 on
# the demo data (the p95 the issue asks to stay under 20 ms).
#
#   bench/pages/run.sh            # needs: cargo, wrk, nginx, curl, python3
#
# Environment: SAANJH_BIN (default: build and use the release binary),
# DURATION (default 15s), CONNECTIONS (default 32), THREADS (default 2).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-15s}; CONNECTIONS=${CONNECTIONS:-32}; THREADS=${THREADS:-2}
TARGET=${CARGO_TARGET_DIR:-target}
if [ -z "${SAANJH_BIN:-}" ]; then
    cargo build --release -q -p saanjh
    SAANJH_BIN="$TARGET/release/saanjh"
fi
WORK=$(mktemp -d /tmp/saanjh-pages-bench.XXXXXX)
chmod 755 "$WORK"   # nginx workers run as an unprivileged user
DB="sqlite://$WORK/demo.db"
SPORT=18480; NPORT=18481
cleanup() {
    [ -n "${SPID:-}" ] && kill "$SPID" 2>/dev/null || true
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT

"$SAANJH_BIN" demo --no-serve --database "$DB" > "$WORK/demo.log" 2>&1
"$SAANJH_BIN" serve --database "$DB" --listen "127.0.0.1:$SPORT" > "$WORK/serve.log" 2>&1 &
SPID=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$SPORT/initiatives" >/dev/null && break; sleep 0.2; done

# The demo scheme with the most on its page (the longest public page).
SCHEME=$(curl -fs "http://127.0.0.1:$SPORT/map.geojson" | python3 -c '
import json, sys, urllib.request
ids = [f["properties"]["id"] for f in json.load(sys.stdin)["features"]]
size = lambda i: len(urllib.request.urlopen(f"http://127.0.0.1:'"$SPORT"'/schemes/{i}").read())
print(max(ids, key=size))')
URL_S="http://127.0.0.1:$SPORT/schemes/$SCHEME"
mkdir -p "$WORK/www"
curl -fs "$URL_S" -o "$WORK/www/scheme.html"
BYTES=$(wc -c < "$WORK/www/scheme.html")
GZ=$(curl -fs -H 'Accept-Encoding: gzip' "$URL_S" | wc -c)

cat > "$WORK/nginx.conf" <<NGINX
daemon off;
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    types { text/html html; }
    gzip on; gzip_comp_level 6;
    server { listen 127.0.0.1:$NPORT; root $WORK/www; }
}
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK" &
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$NPORT/scheme.html" >/dev/null && break; sleep 0.2; done
cmp <(curl -fs "http://127.0.0.1:$NPORT/scheme.html") "$WORK/www/scheme.html"
URL_N="http://127.0.0.1:$NPORT/scheme.html"

# wrk reports p50/p90/p95/p99 through this script.
cat > "$WORK/pct.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.0f p50=%.2f p90=%.2f p95=%.2f p99=%.2f errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
run() { # name url extra-header...
    local name=$1 url=$2; shift 2
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/pct.lua" "$@" "$url" | grep RESULT | sed "s/^RESULT/$name/"
}
echo "scheme page: $BYTES bytes, $GZ bytes gzipped; wrk -t$THREADS -c$CONNECTIONS -d$DURATION; latencies in ms"
run "saanjh-identity" "$URL_S"
run "nginx-identity " "$URL_N"
run "saanjh-gzip    " "$URL_S" -H 'Accept-Encoding: gzip'
run "nginx-gzip     " "$URL_N" -H 'Accept-Encoding: gzip'
echo "server time, one connection at a time (wrk -t1 -c1 -d10s):"
THREADS=1 CONNECTIONS=1 DURATION=10s
run "saanjh-scheme-c1    " "$URL_S" -H 'Accept-Encoding: gzip'
run "saanjh-initiatives-c1" "http://127.0.0.1:$SPORT/initiatives" -H 'Accept-Encoding: gzip'
