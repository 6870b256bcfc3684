#!/usr/bin/env bash
# Ledger benchmarks (issue 3) on a fresh SQLite file (WAL, synchronous=FULL):
# single entries and a CSV import through the JSON API, raw inserts into the
# same store, and the time to produce a statement for a scheme with N
# entries. See crates/saanjh-web/examples/ledger_bench.rs for what each
# figure measures.
#   bash bench/ledger/run.sh [N=100000] [SINGLE=500] [IMPORT=1000]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run --release -q -p saanjh-web --example ledger_bench -- "${1:-100000}" "${2:-500}" "${3:-1000}"
