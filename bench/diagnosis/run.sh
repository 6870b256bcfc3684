#!/usr/bin/env bash
# Diagnostics benchmarks (issue 8). Never run as a test.
#
#   bench/diagnosis/run.sh [initiatives] [events-per-initiative] [database-url...]
#
# 1. The pure fold in memory (core): all indicators for N initiatives, and
#    the update of one kept tracker after one more event.
# 2. From each database URL given (sqlite://… and/or postgres://…): bulk-load
#    N initiatives of synthetic lane events as valid hash chains (multi-row
#    INSERTs in big transactions on SQLite, COPY on PostgreSQL) unless the
#    database already holds them, then time the full refold from the log,
#    all diagnoses from the persisted digests (and, digests emptied, from
#    the folds) in a fresh process, and the diagnosis after one more event
#    (with and without the snapshot refresh; vs re-reading the chain).
#
# Example (the figures in BENCHMARKS.md):
#   psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE saanjh_diag_5m' postgres
#   bench/diagnosis/run.sh 10000 500 sqlite:///var/tmp/diag-5m.db \
#       postgres://postgres@127.0.0.1:5432/saanjh_diag_5m
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000}
PER=${2:-500}
shift 2 || true
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p saanjh-core --example diagnosis_bench
cargo build --release -q -p saanjh-web --example diagnosis_db_bench
/usr/bin/time -f "peak memory %M KB" "$CARGO_TARGET_DIR/release/examples/diagnosis_bench" "$N" "$PER"
for url in "$@"; do
  /usr/bin/time -f "peak memory %M KB" "$CARGO_TARGET_DIR/release/examples/diagnosis_db_bench" "$url" "$N" "$PER"
done
