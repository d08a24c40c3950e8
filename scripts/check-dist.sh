#!/usr/bin/env bash
# Checks a release build: the files a site needs, SRI hashes that match them, demo pages
# that load the widget with one script tag and nothing inline, and the size budget
# (brotli bytes; sizes are exact, so this is a test, not a benchmark).
set -euo pipefail
dist=${1:-dist}
fail() { echo "check-dist: $*" >&2; exit 1; }

# Budgets in brotli bytes; raise only with a reason in the commit message.
JS_BUDGET=9000
WASM_BUDGET=160000

for f in assent.js assent_bg.wasm integrity.json index.html; do
  [ -f "$dist/$f" ] || fail "missing $f"
done
sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | base64 -w0)"; }
for f in assent.js assent_bg.wasm; do
  grep -q "\"$f\": \"$(sri "$dist/$f")\"" "$dist/integrity.json" || fail "integrity.json is wrong for $f"
done
grep -q "$(sri "$dist/assent_bg.wasm")" "$dist/assent.js" || fail "assent.js does not pin the wasm's hash"

pages=("$dist"/sites/*.html)
[ "${#pages[@]}" -eq 6 ] || fail "expected 6 covered-site pages, found ${#pages[@]}"
for page in "${pages[@]}"; do
  [ "$(grep -c '<script' "$page")" -eq 1 ] || fail "$page: not exactly one script tag"
  grep -q "<script src=\"/assent.js\" integrity=\"$(sri "$dist/assent.js")\"" "$page" || fail "$page: script tag without the right SRI"
  grep -q 'data-site="' "$page" || fail "$page: no data-site"
  if grep -qE ' style=|<style|javascript:' "$page"; then fail "$page: inline style or script"; fi
done

js=$(brotli -c -q 11 "$dist/assent.js" | wc -c)
wasm=$(brotli -c -q 11 "$dist/assent_bg.wasm" | wc -c)
printf 'size: assent.js %d B brotli (budget %d), assent_bg.wasm %d B brotli (budget %d)\n' "$js" "$JS_BUDGET" "$wasm" "$WASM_BUDGET"
[ "$js" -le "$JS_BUDGET" ] || fail "assent.js is over its size budget"
[ "$wasm" -le "$WASM_BUDGET" ] || fail "assent_bg.wasm is over its size budget"
echo "check-dist: ok"
