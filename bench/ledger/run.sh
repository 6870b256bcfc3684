#!/usr/bin/env bash
# Ledger benchmarks (issue 3) on SQLite (a fresh file, WAL, synchronous=FULL)
# and, when PostgreSQL answers at $PGHOST (default 127.0.0.1, user postgres),
# on a fresh PostgreSQL database: single entries through the JSON API on an
# empty scheme and on schemes holding 10,000 and N prior entries, CSV imports,
# raw inserts into the same store, and the statement of the N-entry scheme.
# See crates/saanjh-web/examples/ledger_bench.rs for what each figure measures.
#   bash bench/ledger/run.sh [N=100000] [SINGLE=300] [IMPORT=1000]
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-100000}" SINGLE="${2:-300}" IMPORT="${3:-1000}"
cargo build --release -q -p saanjh-web --example ledger_bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/ledger_bench"
echo "== SQLite"
"$BIN" "$N" "$SINGLE" "$IMPORT"
PGHOST="${PGHOST:-127.0.0.1}"
if psql -h "$PGHOST" -U postgres -c 'SELECT 1' postgres >/dev/null 2>&1; then
  echo "== PostgreSQL"
  psql -h "$PGHOST" -U postgres -q -c 'DROP DATABASE IF EXISTS saanjh_ledger_bench' postgres
  psql -h "$PGHOST" -U postgres -q -c 'CREATE DATABASE saanjh_ledger_bench' postgres
  "$BIN" "$N" "$SINGLE" "$IMPORT" "postgres://postgres@$PGHOST:5432/saanjh_ledger_bench"
else
  echo "== PostgreSQL: not reachable at $PGHOST, skipped"
fi
