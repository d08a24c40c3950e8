# Sourced by the README's commands: go to the repository, install what is missing
# (idempotent), and put the pinned tools first on PATH.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
export PATH="$HOME/.cargo/bin:/usr/local/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
