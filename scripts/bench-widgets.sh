#!/usr/bin/env bash
# The widget benchmark: the built widget (dist/) and four consent widgets pinned in
# bench/widgets/package.json, each on the same host page in headless Chromium (Debian's,
# never a download), desktop and phone profiles, N first visits each. Prints a Markdown
# report and writes it to bench/widgets/report.md. Flags go to the benchmark (`--help`:
# --runs N, --profiles desktop,phone, --widgets assent,vanilla-cookieconsent,klaro,tarteaucitron,osano,
# --out FILE). Exits 0 whoever wins; non-zero only if something failed to run.
set -euo pipefail
source "$(dirname "$0")/prelude.sh"

if [ ! -f dist/assent.js ]; then
  echo "bench-widgets: dist/assent.js is missing; build the widget first: trunk build --release" >&2
  exit 1
fi

if ! node scripts/npm-ready.mjs bench/widgets; then
  echo "[bench-widgets] installing the benchmark's dependencies (npm ci)" >&2
  # --ignore-scripts: none of these packages needs one (klaro drags in sass and its watcher).
  (cd bench/widgets && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts)
fi

exec node bench/widgets/bench.js "$@"
