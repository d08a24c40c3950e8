#!/usr/bin/env bash
# The collector's load benchmark: builds the collector and the benchmark with the `server`
# profile (optimised for speed; the release profile is size-optimised for the widget),
# then runs `serve` on a temp SQLite file and on a PostgreSQL it starts itself (both
# syncing every commit), 32 loopback connections, 3 runs of 3 s per phase, and prints
# records/s and p50/p99 next to GET /healthz as a Markdown table. Flags go to the benchmark
# (`--help`: --databases, --connections, --seconds, --runs, --collector).
set -euo pipefail
source "$(dirname "$0")/prelude.sh"

cargo build --profile server -p assent-collector -p assent-collector-bench
bin="${CARGO_TARGET_DIR:-target}/server"
exec "$bin/assent-collector-bench" --collector "$bin/assent-collector" "$@"
