#!/usr/bin/env bash
# The main job: install dependencies, build, start the gateway on its defaults (SQLite in the
# state directory, the admin socket), bootstrap an org, a user and an access token with the CLI,
# and show the gateway's status. The gateway keeps running in the foreground until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/vespid-ccache}"
cmake --preset release >/dev/null
cmake --build --preset release --target vespid-gateway vespid sqlite unix bridge

bin=build/release/bin
state="${VESPID_DEMO_STATE_DIR:-$PWD/build/demo-state}"
mkdir -p "$state"
echo "== starting vespid-gateway (state dir $state)"
"$bin/vespid-gateway" run --state-dir "$state" &
gw=$!
trap 'kill -TERM $gw 2>/dev/null; wait $gw 2>/dev/null' EXIT INT TERM

for _ in $(seq 1 100); do
  "$bin/vespid" --state-dir "$state" status >/dev/null 2>&1 && break
  sleep 0.1
done

cli() { echo "\$ vespid $*"; "$bin/vespid" --state-dir "$state" "$@"; }
cli org create demo || true   # already there on a second run
cli user create demo-admin --org demo --role owner || true
cli token create --user demo-admin --org demo --name demo
cli org list
cli status
echo "== the gateway is running; press Ctrl-C to stop it"
wait $gw
