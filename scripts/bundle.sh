#!/usr/bin/env bash
# Trunk post_build hook: turns Trunk's no-modules output into the one embeddable script.
#   assent.js        = IIFE( wasm-bindgen glue, trimmed + loader ), wasm SRI, notice facts and
#                      languages inlined,
#                      minified with terser
#   assent_bg.wasm   = with short import/export names (scripts/minify-wasm-names.mjs)
#   integrity.json   = sha384 SRI of assent.js and assent_bg.wasm
#   locales/         = the other languages' words and translated notices, and their SRI
#                      index (scripts/build-locales.mjs); the loader pins the index's hash
#   *.br             = brotli copies for precompressed serving
# and writes assent.js's SRI into the demo pages' script tags.
set -euo pipefail
staging="${TRUNK_STAGING_DIR:?run by trunk}"
root=$(cd "$(dirname "$0")/.." && pwd)
glue="$staging/assent.js"
wasm="$staging/assent_bg.wasm"
[ -f "$glue" ] && [ -f "$wasm" ] || { echo "bundle.sh: no assent.js/assent_bg.wasm in $staging" >&2; exit 1; }

sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | base64 -w0)"; }

# Short import, export and module names in the wasm, and the glue rewritten to match.
mapping=$(mktemp)
wasm-opt "$wasm" --minify-imports-and-exports-and-modules -o "$wasm.min" > "$mapping"
node "$root/scripts/minify-wasm-names.mjs" "$wasm.min" "$mapping" "$glue"
mv "$wasm.min" "$wasm"
rm -f "$mapping"
# Glue the loader never uses, left out or made smaller (scripts/trim-glue.mjs says which).
node "$root/scripts/trim-glue.mjs" "$glue"

wasm_sri=$(sri "$wasm")
notice() { (cd "$root" && cargo run --quiet -p assent-record --bin assent-notice -- "$1" "${2:-notices/qualys-privacy-highlights.en.json}"); }
notice_hash=$(notice hash)
optional_purposes=$(notice optional)
# The translated notices' hashes, "de:<hex> fr:<hex>", so the loader can tell a returning
# visitor's choice under one of them without the wasm too.
translated_hashes=$(for file in "$root"/notices/qualys-privacy-highlights.*.json; do
  tag=${file%.json}; tag=${tag##*.}
  [ "$tag" = en ] || printf '%s:%s ' "$tag" "$(notice hash "$file" | sed 's/^sha256://')"
done)
languages=$(cd "$root/locales" && ls *.json | sed 's/\.json$//' | tr '\n' ' ')
locales_sri=$(node "$root/scripts/build-locales.mjs" "$root" "$staging/locales")

bundle=$(mktemp)
{
  printf '/*! Assent %s: privacy highlights and notification preferences. */\n(function () {\n"use strict";\n' \
    "$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
  cat "$glue"
  sed -e "s|__ASSENT_WASM_INTEGRITY__|$wasm_sri|" -e "s|__ASSENT_NOTICE_HASH__|$notice_hash|" \
    -e "s|__ASSENT_OPTIONAL_PURPOSES__|$optional_purposes|" -e "s|__ASSENT_LANGUAGES__|${languages% }|" \
    -e "s|__ASSENT_NOTICE_HASHES__|${translated_hashes% }|" -e "s|__ASSENT_LOCALES_INTEGRITY__|$locales_sri|" \
    "$root/loader/loader.js"
  printf '})();\n'
} > "$bundle"
# Minified: every visitor downloads this file. Only the banner comment (/*!) is kept.
terser "$bundle" --compress --mangle --ecma 2017 --output "$glue"
rm -f "$bundle"
chmod 644 "$glue"

js_sri=$(sri "$glue")
printf '{\n  "assent.js": "%s",\n  "assent_bg.wasm": "%s"\n}\n' "$js_sri" "$wasm_sri" > "$staging/integrity.json"
find "$staging" -name '*.html' -exec sed -i "s|__ASSENT_JS_INTEGRITY__|$js_sri|g" {} +

if command -v brotli >/dev/null 2>&1; then
  brotli -f -q 11 -k "$glue" "$wasm" "$staging"/locales/*.json
fi
