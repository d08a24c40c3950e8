#!/usr/bin/env bash
# Checks a release build: the files a site needs, SRI hashes that match them, demo pages
# that load the widget with one script tag and nothing inline, and the size budget
# (brotli bytes; sizes are exact, so this is a test, not a benchmark).
set -euo pipefail
dist=${1:-dist}
fail() { echo "check-dist: $*" >&2; exit 1; }

# Budgets in brotli bytes, set just above the last measured size:
# lowered as the widget shrinks, never raised.
# assent.js is what every visitor downloads (a returning one nothing else); the glue and
# the wasm come only when the widget runs. assent.js holds the glue's and the wasm's SRI
# hashes: a change to either alone moves its brotli size by up to about 20 B (the build of
# d86f8f0, its three hashes swapped for 80 random ones: 3,598 to 3,634 B, median 3,607,
# where its own give 3,608: about one change to the wasm in two now fits). The wasm's
# brotli size moves by up to about 200 B with the order binaryen leaves its functions in
# alone (the same raw bytes measured 121,639 to 121,839 B across pass orders): when a
# change seems to cost much, compare the raw column too.
JS_BUDGET=3553
GLUE_BUDGET=3312
WASM_BUDGET=113095

for f in assent.js assent_bg.js assent_bg.wasm integrity.json index.html; do
  [ -f "$dist/$f" ] || fail "missing $f"
done
sri() { printf 'sha256-%s' "$(openssl dgst -sha256 -binary "$1" | base64 -w0)"; }
for f in assent.js assent_bg.js assent_bg.wasm; do
  grep -q "\"$f\": \"$(sri "$dist/$f")\"" "$dist/integrity.json" || fail "integrity.json is wrong for $f"
done
grep -q "$(sri "$dist/assent_bg.wasm")" "$dist/assent.js" || fail "assent.js does not pin the wasm's hash"
grep -q "$(sri "$dist/assent_bg.js")" "$dist/assent.js" || fail "assent.js does not pin the glue's hash"

# The other languages: one file each next to assent.js, each pinned by the SRI index,
# which assent.js pins (English is compiled into the wasm).
[ -f "$dist/locales/index.json" ] || fail "missing locales/index.json"
grep -q "$(sri "$dist/locales/index.json")" "$dist/assent.js" || fail "assent.js does not pin locales/index.json's hash"
languages=0
for f in "$dist"/locales/*.json; do
  tag=$(basename "$f" .json)
  [ "$tag" = index ] && continue
  grep -q "\"$tag\":\"$(sri "$f")\"" "$dist/locales/index.json" || fail "locales/index.json is wrong for $tag"
  languages=$((languages + 1))
done
[ "$languages" -eq 25 ] || fail "expected 25 language files besides English, found $languages"

if grep -q 'data-trunk' "$dist/index.html"; then fail "index.html still holds Trunk's build tags"; fi

pages=("$dist"/sites/*.html)
[ "${#pages[@]}" -eq 6 ] || fail "expected 6 covered-site pages, found ${#pages[@]}"
for page in "${pages[@]}"; do
  [ "$(grep -c '<script' "$page")" -eq 1 ] || fail "$page: not exactly one script tag"
  grep -q "<script src=\"/assent.js\" integrity=\"$(sri "$dist/assent.js")\"" "$page" || fail "$page: script tag without the right SRI"
  grep -q 'data-site="' "$page" || fail "$page: no data-site"
  if grep -qE ' style=|<style|javascript:' "$page"; then fail "$page: inline style or script"; fi
done

# One line per file: bytes on disk, brotli bytes (what a visitor downloads), the budget
# and what is left of it.
over=()
printf 'size: %-15s %9s %9s %9s %9s\n' file raw brotli budget left
for entry in "assent.js:$JS_BUDGET" "assent_bg.js:$GLUE_BUDGET" "assent_bg.wasm:$WASM_BUDGET"; do
  f=${entry%%:*} budget=${entry#*:}
  raw=$(wc -c < "$dist/$f")
  br=$(brotli -c -q 11 "$dist/$f" | wc -c)
  printf 'size: %-15s %9d %9d %9d %9d\n' "$f" "$raw" "$br" "$budget" $((budget - br))
  [ "$br" -le "$budget" ] || over+=("$f")
done
largest=$(for f in "$dist"/locales/*.json; do printf '%d %s\n' "$(brotli -c -q 11 "$f" | wc -c)" "$(basename "$f")"; done | sort -n | tail -n1)
printf 'size: largest language file, fetched only in that language: %s (%d B brotli)\n' "${largest#* }" "${largest%% *}"
[ "${#over[@]}" -eq 0 ] || fail "over its size budget: ${over[*]}"
echo "check-dist: ok"
