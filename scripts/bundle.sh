#!/usr/bin/env bash
# Trunk post_build hook: turns Trunk's no-modules output into the one embeddable script
# and the two files it fetches when the wasm is needed.
#   assent.js        = IIFE( loader + the banner it paints ), with the glue's and the wasm's
#                      SRI, notice facts, languages, the English banner and its stylesheet
#                      (loader/banner.css, minified with csso) inlined; minified with terser.
#                      A returning visitor downloads this file alone
#   assent_bg.js     = the wasm-bindgen glue, trimmed, as an ES module (the loader imports
#                      it through a modulepreload link that checks its SRI)
#   assent_bg.wasm   = with short import/export names (scripts/minify-wasm-names.mjs), and
#                      in a release build its panics cut to a trap (scripts/snip-panics.mjs)
#   integrity.json   = sha256 SRI of assent.js, assent_bg.js and assent_bg.wasm
#   locales/         = the other languages' words and translated notices, and their SRI
#                      index (scripts/build-locales.mjs); the loader pins the index's hash
#   *.br             = brotli copies for precompressed serving (scripts/brotli.mjs)
# and writes assent.js's SRI into the demo pages' script tags.
set -euo pipefail
staging="${TRUNK_STAGING_DIR:?run by trunk}"
root=$(cd "$(dirname "$0")/.." && pwd)
glue="$staging/assent.js"  # Trunk's name for the glue; the loader takes it over below
wasm="$staging/assent_bg.wasm"
[ -f "$glue" ] && [ -f "$wasm" ] || { echo "bundle.sh: no assent.js/assent_bg.wasm in $staging" >&2; exit 1; }

# ES2020 output (terser adds nothing later; the loader's one ES2021 form, `||=`, is in
# every browser with constructed stylesheets, which the widget needs: Safari 16.4,
# Firefox 101). Function expressions that use neither `this` nor
# `arguments` become arrows (none of them is a constructor); two passes.
COMPRESS="passes=2,unsafe_arrows=true"
TERSER="--compress $COMPRESS --mangle --ecma 2020"

sri() { printf 'sha256-%s' "$(openssl dgst -sha256 -binary "$1" | base64 -w0)"; }

# Short import, export and module names in the wasm, and the glue rewritten to match; then
# -Oz once more, which takes 648 B (raw) more off after Trunk's `-Oz --converge`.
# --low-memory-unused (here and in www/index.html's wasm-opt params, 1,093 B brotli there) lets
# binaryen fold `ptr + C` (C < 1024) into a load or store offset, which differs only where
# the add would wrap past 4 GiB into the memory's first KiB. The wasm's stack comes first in
# memory (.cargo/config.toml), so only an overflowing stack could do that: it then traps
# instead of writing there. The target_features section (148 B) only tells tools which
# wasm features the build uses; browsers ignore it, and no tool reads this file after.
# Release builds: panics cut to a trap (scripts/snip-panics.mjs), while the wasm still has
# its names (the `-g` of www/index.html's wasm-opt params); the -Oz below drops the names
# and what only a panic reached. A debug build (`trunk build`) keeps Rust's panic messages.
if [ "${TRUNK_PROFILE:-}" = release ]; then
  node "$root/scripts/snip-panics.mjs" "$wasm"
fi
mapping=$(mktemp)
wasm-opt "$wasm" --low-memory-unused --minify-imports-and-exports-and-modules -Oz --strip-target-features -o "$wasm.min" > "$mapping"
node "$root/scripts/minify-wasm-names.mjs" "$wasm.min" "$mapping" "$glue"
mv "$wasm.min" "$wasm"
rm -f "$mapping"
# Glue the loader never uses, left out or made smaller (scripts/trim-glue.mjs says which).
node "$root/scripts/trim-glue.mjs" "$glue"

# The glue as an ES module whose default export is the init function with the wasm's exports.
module="$staging/assent_bg.js"
{ cat "$glue"; printf '\nexport default wasm_bindgen;\n'; } > "$module"
terser "$module" --module $TERSER --output "$module"
rm "$glue"

wasm_sri=$(sri "$wasm")
glue_sri=$(sri "$module")
notice() { (cd "$root" && cargo run --quiet -p assent-record --bin assent-notice -- "$1" "${2:-notices/qualys-privacy-highlights.en.json}"); }
optional_purposes=$(notice optional)
# The notice's and its translations' hashes, {"de":"<hex>","en":"<hex>",…}, each cut to its
# first 32 bits, so the loader can tell a returning visitor's choice under one of them (two
# versions of a notice share them once in 4 billion; the wasm compares whole hashes).
notice_hashes=$(for file in "$root"/notices/qualys-privacy-highlights.*.json; do
  tag=${file%.json}; tag=${tag##*.}
  # An assignment, so that a failing `notice hash` stops the build.
  hash=$(notice hash "$file")
  [[ $hash =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "bundle.sh: no hash for $file" >&2; exit 1; }
  printf '"%s":"%s",' "$tag" "${hash:7:8}"
done)
notice_hashes="{${notice_hashes%,}}"
languages=$(cd "$root/locales" && ls *.json | sed 's/\.json$//' | tr '\n' ' ')
locales=$(node "$root/scripts/build-locales.mjs" "$root" "$staging/locales")
locales_sri=$(sri "$staging/locales/index.json")
css=$(csso "$root/loader/banner.css")
# The three SRI hashes go in after minifying, in place of fixed stand-ins of the same form
# (the SHA-256 of each file's name): terser names variables by how often each character
# occurs in the file, hashes included, so with the real ones a change to the wasm alone
# renamed the loader's variables. So minified, the loader is the same for any wasm, and
# scripts/check-dist.sh measures it exactly by putting the stand-ins back.
stand_in() { printf 'sha256-%s' "$(printf '%s' "$1" | openssl dgst -sha256 -binary | base64 -w0)"; }

bundle=$(mktemp)
{
  # Not in strict mode (13 B brotli): nothing in it behaves otherwise, and a variable it
  # forgot to declare, which a strict one would have refused, shows as a global
  # (e2e/tests/loader.test.js).
  printf '(function () {\n'
  # BUILD_<key>: the locales' facts (build-locales.mjs) and the banner's stylesheet, as JSON,
  # a variable each: terser inlines those used once and mangles the names (about 20 B brotli less).
  node -e 'const [locales, css, localesStandIn] = process.argv.slice(1);
    const facts = { ...JSON.parse(locales), localesIntegrity: localesStandIn, css };
    for (const [key, value] of Object.entries(facts))
      console.log("var BUILD_" + key + " = " + JSON.stringify(value) + ";");' \
    "$locales" "$css" "$(stand_in locales/index.json)"
  sed -e "s|__ASSENT_WASM_INTEGRITY__|$(stand_in assent_bg.wasm)|" \
    -e "s|__ASSENT_GLUE_INTEGRITY__|$(stand_in assent_bg.js)|" \
    -e "s|__ASSENT_OPTIONAL_PURPOSES__|$optional_purposes|" -e "s|__ASSENT_LANGUAGES__|${languages% }|" \
    -e "s|__ASSENT_NOTICE_HASHES__|$notice_hashes|" \
    "$root/loader/loader.js" "$root/loader/banner.js"
  printf '})();\n'
} > "$bundle"
# Minified: every visitor downloads this file. It carries no comment, not even a version
# banner (10 B brotli): every record names the widget's version (widget_version). Its
# `true` and `false` may be 1 and 0 (11 B brotli less): it compares no value with a boolean,
# and every flag it hands on (to the DOM, to the wasm's boot) is read as a boolean there.
# ASCII only: its one other character (the stylesheet's "…") as \u2026, 5 B brotli less
# than its three UTF-8 bytes.
terser "$bundle" --compress "$COMPRESS,booleans_as_integers=true" --mangle --ecma 2020 --format ascii_only=true --output "$glue"
rm -f "$bundle"
for entry in "assent_bg.wasm:$wasm_sri" "assent_bg.js:$glue_sri" "locales/index.json:$locales_sri"; do
  name=${entry%%:*} real=${entry#*:}
  grep -qF "$(stand_in "$name")" "$glue" || { echo "bundle.sh: $name's hash is not in assent.js" >&2; exit 1; }
  sed -i "s|$(stand_in "$name")|$real|g" "$glue"
  if grep -qF "$(stand_in "$name")" "$glue"; then echo "bundle.sh: $name's stand-in is left in assent.js" >&2; exit 1; fi
done
chmod 644 "$glue"

js_sri=$(sri "$glue")
printf '{\n  "assent.js": "%s",\n  "assent_bg.js": "%s",\n  "assent_bg.wasm": "%s"\n}\n' "$js_sri" "$glue_sri" "$wasm_sri" > "$staging/integrity.json"
# Trunk's own <link data-trunk rel="rust" href="../Cargo.toml"> stays in the page it built
# from (inject_scripts = false); the demo page a visitor gets has no use for it.
find "$staging" -name '*.html' -exec sed -i -e "s|__ASSENT_JS_INTEGRITY__|$js_sri|g" -e '/<link data-trunk /d' {} +

node "$root/scripts/brotli.mjs" "$glue" "$module" "$wasm" "$staging"/locales/*.json
