#!/usr/bin/env bash
# Instructions per request in the gateway, under callgrind (docs/performance.md, "The invoke
# path without a DOM"). Pairs the scenario's nodes, starts the gateway under valgrind with
# instrumentation off, switches it on for one `vespid-bench SCENARIO --attach` run, and prints
# the total, the requests completed (calls of a function called once per request) and the top
# functions.
#
#   bench/profile/callgrind_scenario.sh invoke|dispatch BUILD_DIR OUT_DIR [BENCH]
#
# invoke: 100 bridge nodes, 4 callers x 16 in flight, counted by LocalNodeRouter::finish;
# dispatch: 16 node hosts, 4 callers x 4 in flight, counted by read_dispatch_request (before
# 2026-12-06, tenth session: parse_dispatch_request; the pattern matches either).
# BUILD_DIR: a `bench` preset build (its bin/vespid-gateway and lib/vespid/plugins are
# profiled); BENCH: the vespid-bench to drive it (default BUILD_DIR's), so that two gateways
# can be profiled under the same load. SIZE (environment, optional): payload bytes per request,
# as vespid-bench's --size. Needs valgrind. Takes about a minute.
set -euo pipefail
scenario=$1
build=$(realpath "$2")
out=$3
bench=${4:-$build/bin/vespid-bench}
case $scenario in
  invoke) nodes=(--nodes 100) load=(--callers 4 --in-flight 16) once=LocalNodeRouter::finish ;;
  dispatch) nodes=(--hosts 16) load=(--callers 4 --in-flight 4) once='_dispatch_request(' ;;
  *)
    echo "scenario must be invoke or dispatch, not \"$scenario\"" >&2
    exit 2
    ;;
esac
here=$(dirname "$(realpath "$0")")
state=$out/state
rm -rf "$out" && mkdir -p "$out"

plugins=$build/lib/vespid/plugins
"$bench" "$scenario" --gateway-bin "$build/bin/vespid-gateway" --plugin-dir "$plugins" \
  --state-dir "$state" "${nodes[@]}" --warmup 0 --duration 1 --no-baselines >"$out/pair.log" 2>&1

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
"$bench" "$scenario" --attach --state-dir "$state" "${nodes[@]}" "${load[@]}" \
  ${SIZE:+--size "$SIZE"} --warmup 1 --duration 8 --no-baselines >"$out/bench.log" 2>&1
callgrind_control -i off "$gateway" >/dev/null
kill -TERM "$gateway"
wait "$gateway" || true
trap - EXIT

python3 "$here/count_calls.py" "$out/callgrind.out" "$once"
callgrind_annotate --inclusive=no "$out/callgrind.out" | head -40
