#!/usr/bin/env bash
# Installs every tool the build and the tests need, at pinned versions, skipping
# whatever is already there. Safe to run again; nothing here downloads a binary
# from outside the crate, npm and Debian registries.
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.21.14
WASM_PACK_VERSION=0.15.1
root=$(cd "$(dirname "$0")/.." && pwd)
# wasm-opt, terser and csso: npm packages of scripts/tools, pinned with everything they
# depend on by its package-lock.json (the size budgets are exact: a newer css-tree or
# acorn under a pinned csso or terser could move the bytes on a fresh machine).
export PATH="$root/scripts/tools/node_modules/.bin:$HOME/.cargo/bin:/usr/local/bin:$PATH"

say() { printf '[setup] %s\n' "$*"; }

has_version() { # command, expected substring of its --version output
  command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q -- "$2"
}

# Node.js 20.10 or later runs the build's tools (terser, csso, binaryen.js) and the e2e
# suite (whose node --test takes --test-concurrency since 20.10).
if ! node -e 'const [major, minor] = process.versions.node.split(".").map(Number);
              process.exit(major > 20 || (major === 20 && minor >= 10) ? 0 : 1)' 2>/dev/null ||
   ! command -v npm >/dev/null; then
  echo "[setup] Node.js 20.10 or later, with npm, is needed (found: $(node --version 2>/dev/null || echo none)); install it and run this again" >&2
  exit 1
fi
# apt-get below needs root; say so before a long run fails on dpkg's lock.
if [ "$(id -u)" -ne 0 ] && ! { command -v chromium && command -v chromedriver && command -v brotli &&
     command -v openssl && command -v curl && command -v python3 &&
     compgen -G "/usr/lib/postgresql/*/bin/initdb"; } >/dev/null 2>&1; then
  echo "[setup] Debian packages are missing and installing them needs root: run this as root (or install chromium chromium-driver postgresql brotli openssl curl python3 first)" >&2
  exit 1
fi

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

# wasm-opt from npm's binaryen (Debian's binaryen and the wasm-opt crate can't read current
# rustc output), terser for the one embeddable script and csso for the banner's stylesheet
# it carries: scripts/tools/package.json.
if ! node "$root/scripts/npm-ready.mjs" "$root/scripts/tools"; then
  say "installing wasm-opt, terser and csso from npm (scripts/tools)"
  (cd "$root/scripts/tools" && npm ci --no-audit --no-fund)
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
if [ -f "$root/e2e/package.json" ] && ! node "$root/scripts/npm-ready.mjs" "$root/e2e"; then
  say "installing e2e dependencies"
  (cd "$root/e2e" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

say "tools ready: $(wasm-bindgen --version), $(trunk --version), $(wasm-pack --version), $(wasm-opt --version), terser $(terser --version), csso $(csso --version)"
