#!/usr/bin/env bash
# Diagnostics benchmarks (issue 8). Never run as a test.
#
#   bench/diagnosis/run.sh [initiatives] [events-per-initiative] [database-url...]
#
# 1. The pure fold in memory (core): all indicators for N initiatives, and
#    the update of one kept tracker after one more event.
# 2. From the database (web's `measure`, what the diagnosis endpoint does):
#    load N initiatives of synthetic lane events, then diagnose them all,
#    then append one event and diagnose again. Pass one or more database
#    URLs (sqlite://… and/or postgres://…).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000}
PER=${2:-500}
shift 2 || true
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo run --release -q -p saanjh-core --example diagnosis_bench -- "$N" "$PER"
for url in "$@"; do
  cargo run --release -q -p saanjh-web --example diagnosis_db_bench -- "$url" "$N" "$PER"
done
