#!/usr/bin/env bash
# Installs every tool the build and the tests need, at pinned versions, skipping
# whatever is already there. Safe to run again; nothing here downloads a binary
# from outside the crate, npm and Debian registries.
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.21.14
WASM_PACK_VERSION=0.15.1
BINARYEN_VERSION=132.0.0
TERSER_VERSION=5.51.4
CSSO_CLI_VERSION=4.0.2
export PATH="$HOME/.cargo/bin:/usr/local/bin:$PATH"

say() { printf '[setup] %s\n' "$*"; }

has_version() { # command, expected substring of its --version output
  command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q -- "$2"
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! has_version wasm-bindgen "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (several minutes)"
  # Not --locked: its lock pins a webpki-roots version the registry mirror lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! has_version trunk "$TRUNK_VERSION"; then
  say "installing trunk $TRUNK_VERSION (about ten minutes)"
  cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi

if ! has_version wasm-pack "$WASM_PACK_VERSION"; then
  say "installing wasm-pack $WASM_PACK_VERSION"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked --force
fi

# Debian's binaryen and the wasm-opt crate can't read current rustc output; npm's can.
if ! has_version wasm-opt "version 132"; then
  say "installing wasm-opt from npm binaryen@$BINARYEN_VERSION"
  npm install -g --prefix /usr/local "binaryen@$BINARYEN_VERSION"
fi

# The one embeddable script is minified with terser (npm), like any script a site serves.
if ! has_version terser "$TERSER_VERSION"; then
  say "installing terser $TERSER_VERSION from npm"
  npm install -g --prefix /usr/local "terser@$TERSER_VERSION"
fi

# The banner's stylesheet, which the loader carries, is minified with csso (npm).
# (`csso --version` says csso's own version, so the package's is read.)
if ! grep -qs "\"version\": \"$CSSO_CLI_VERSION\"" /usr/local/lib/node_modules/csso-cli/package.json; then
  say "installing csso-cli $CSSO_CLI_VERSION from npm"
  npm install -g --prefix /usr/local "csso-cli@$CSSO_CLI_VERSION"
fi

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || need_apt+=(postgresql)
command -v brotli >/dev/null 2>&1 || need_apt+=(brotli)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# The e2e suite unsubscribes with curl, as a mail provider would; the demo fills its sample
# subscriber page with python3.
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if [ "${#need_apt[@]}" -gt 0 ]; then
  say "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}"
fi

# Whole-system tests drive Chromium through playwright-core; never a browser download.
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$root/e2e/package.json" ] && ! node "$root/scripts/npm-ready.mjs" "$root/e2e"; then
  say "installing e2e dependencies"
  (cd "$root/e2e" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

say "tools ready: $(wasm-bindgen --version), $(trunk --version), $(wasm-pack --version), $(wasm-opt --version), terser $(terser --version), csso $(csso --version)"
