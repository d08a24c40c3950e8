#!/usr/bin/env bash
# Runs every test: sets up the tools (idempotent), then the native tests (record crate,
# collector with SQLite and a PostgreSQL it starts itself), the browser tests in headless
# Chromium, the release build with its checks and size budget, and the whole-system tests.
set -euo pipefail
source "$(dirname "$0")/prelude.sh"

step() { printf '\n==> %s\n' "$*"; }

step "lint: rustfmt, clippy on the native crates and on the widget for wasm32 (warnings are errors), translations complete"
cargo fmt --all --check
python3 "$root/scripts/check-locales.py"
cargo clippy --workspace --exclude assent --all-targets -- -D warnings
cargo clippy -p assent --target wasm32-unknown-unknown --features synthetic-clicks --tests -- -D warnings

step "native tests: record schema and collector"
cargo test --workspace --exclude assent

step "browser tests: the widget in headless Chromium"
# Chromium's flags for this closed network: webdriver.json (the test runner reads it). Its
# profiles in a directory of this run's, removed after: chromedriver leaves each test
# file's (30 MB) in $TMPDIR when the runner stops it.
browser_tmp=$(mktemp -d)
trap 'rm -rf "$browser_tmp"' EXIT
TMPDIR=$browser_tmp wasm-pack test --headless --chrome --mode no-install -- --features synthetic-clicks

step "release build: one script, the wasm, SRI hashes and the demo pages"
build_widget "$root/scripts/check-dist.sh" dist

if [ -f "$root/e2e/package.json" ]; then
  step "whole-system tests: widget, collector and database in a real browser"
  (cd "$root/e2e" && npm test)
fi
