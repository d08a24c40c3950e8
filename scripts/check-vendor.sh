#!/usr/bin/env bash
# Shows how vendor/serde_core differs from the registry's copy of the same version (the
# registry copy is in ~/.cargo/registry once cargo has fetched it), and fails if anything
# but the two documented changes differs (vendor/README.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/vendor/serde_core/Cargo.toml" | head -n1)
# (`|| true`: with pipefail, ls finding nothing would end the script here, silently.)
upstream=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"serde_core-$version" 2>/dev/null | head -n1 || true)
if [ -z "$upstream" ]; then
  # The patch replaces the registry copy, so cargo may never have fetched it.
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"serde_core-$version.crate" 2>/dev/null | head -n1 || true)
  [ -n "$crate" ] || { echo "check-vendor: serde_core $version is not in the cargo registry cache" >&2; exit 1; }
  tar -xzf "$crate" -C "$tmp"
  upstream="$tmp/serde_core-$version"
fi
changed=$(diff -rq -x .cargo-ok -x .cargo_vcs_info.json -x Cargo.lock "$upstream" "$root/vendor/serde_core" | sort || true)
expected="Files $upstream/src/de/mod.rs and $root/vendor/serde_core/src/de/mod.rs differ
Files $upstream/src/lib.rs and $root/vendor/serde_core/src/lib.rs differ"
diff -r -x .cargo-ok -x .cargo_vcs_info.json -x Cargo.lock "$upstream" "$root/vendor/serde_core" || true
[ "$changed" = "$expected" ] || { echo "check-vendor: vendor/serde_core differs from serde_core $version in more than src/de/mod.rs and src/lib.rs" >&2; exit 1; }
echo "check-vendor: ok (serde_core $version, two files patched)"
