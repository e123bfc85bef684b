#!/usr/bin/env bash
# Instructions per invoke in the gateway, under callgrind (docs/performance.md, "The invoke path
# without a DOM"). Pairs 100 bridge nodes, starts the gateway under valgrind with
# instrumentation off, switches it on for one `vespid-bench invoke --attach` run, and prints the
# total, the invokes completed (calls of LocalNodeRouter::finish) and the top functions.
#
#   bench/profile/callgrind_invoke.sh BUILD_DIR OUT_DIR [BENCH]
#
# BUILD_DIR: a `bench` preset build (its bin/vespid-gateway and lib/vespid/plugins are
# profiled); BENCH: the vespid-bench to drive it (default BUILD_DIR's), so that two gateways
# can be profiled under the same load. Needs valgrind. Takes about a minute.
set -euo pipefail
build=$(realpath "$1")
out=$2
bench=${3:-$build/bin/vespid-bench}
here=$(dirname "$(realpath "$0")")
state=$out/state
rm -rf "$out" && mkdir -p "$out"

plugins=$build/lib/vespid/plugins
"$bench" invoke --gateway-bin "$build/bin/vespid-gateway" --plugin-dir "$plugins" \
  --state-dir "$state" --nodes 100 --warmup 0 --duration 1 --no-baselines >"$out/pair.log" 2>&1

valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.out" \
  "$build/bin/vespid-gateway" run --state-dir "$state" --plugin-dir "$plugins" \
  --config "$state/bench-config.json" >"$out/gateway.log" 2>&1 &
gateway=$!
trap 'kill -TERM $gateway 2>/dev/null || true' EXIT
# The bench config logs at warn, so readiness is the admin socket appearing, plus a second for
# the listeners started after it.
for _ in $(seq 1 120); do
  [[ -S $state/gateway.sock ]] && break
  kill -0 "$gateway" 2>/dev/null || break
  sleep 0.5
done
[[ -S $state/gateway.sock ]] || {
  echo "the gateway did not start under valgrind; see $out/gateway.log" >&2
  exit 1
}
sleep 1

callgrind_control -i on "$gateway" >/dev/null
"$bench" invoke --attach --state-dir "$state" --nodes 100 --callers 4 --in-flight 16 \
  --warmup 1 --duration 8 --no-baselines >"$out/bench.log" 2>&1
callgrind_control -i off "$gateway" >/dev/null
kill -TERM "$gateway"
wait "$gateway" || true
trap - EXIT

python3 "$here/count_calls.py" "$out/callgrind.out" LocalNodeRouter::finish
callgrind_annotate --inclusive=no "$out/callgrind.out" | head -40
