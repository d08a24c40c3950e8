# Sourced by the README's commands: go to the repository, install what is missing
# (idempotent), and put the pinned tools first on PATH.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
export PATH="$root/scripts/tools/node_modules/.bin:$HOME/.cargo/bin:/usr/local/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
# The wasm names the source file of each place where it could panic; crates.io's by the
# directory cargo unpacked them into. Left out, the wasm (and its SRI) is the same whatever
# that directory is, and about 70 B smaller. Set, not appended: a flag twice would make
# cargo build everything again.
remap=()
for src in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  if [ -d "$src" ]; then remap+=("--remap-path-prefix=${src%/}="); fi
done
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${remap[*]}"
unset remap src
# The release build of the widget into dist/, one at a time: the demo and the tests (or two
# test runs) build the same dist/ and target/, and trunk replaces dist/'s files as it ends. With
# arguments, a command run on that dist/ under the same lock (scripts/check-dist.sh).
build_widget() {
  mkdir -p "$root/target"
  flock "$root/target/.widget-build.lock" bash -c 'trunk build --release && if [ "$#" -gt 0 ]; then "$@"; fi' build_widget "$@"
}
