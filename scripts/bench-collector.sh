#!/usr/bin/env bash
# The collector's load benchmark: builds the release collector and the benchmark, then
# runs `serve` on a temp SQLite file and on a PostgreSQL it starts itself (both syncing
# every commit), 32 loopback connections, 3 runs of 3 s per phase, and prints records/s
# and p50/p99 next to GET /healthz as a Markdown table. Flags go to the benchmark
# (`--help`: --databases, --connections, --seconds, --runs).
set -euo pipefail
source "$(dirname "$0")/prelude.sh"

cargo build --release -p assent-collector -p assent-collector-bench
exec target/release/assent-collector-bench --collector target/release/assent-collector "$@"
