#!/usr/bin/env bash
# sdk_abi_fixture_refused_at_run: a config that enables an instance of plugin "future", which only
# the ABI 2.0 fixture module (vespid-abi2.so) offers. The gateway must refuse to start: exit code 6
# within seconds, and its stderr names the module file and says "ABI 2.0".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GATEWAY="" FIXTURE_DIR=""
while (($#)); do
  case "$1" in
    --gateway) GATEWAY=$2 ;;
    --fixture-dir) FIXTURE_DIR=$2 ;;
    *) fail "unknown argument $1" ;;
  esac
  shift 2
done
[[ -n "$GATEWAY" && -n "$FIXTURE_DIR" ]] || fail "usage: $0 --gateway FILE --fixture-dir DIR"
[[ -f "$FIXTURE_DIR/vespid-abi2.so" ]] || fail "the fixture module is not built: $FIXTURE_DIR/vespid-abi2.so"
[[ -x "$GATEWAY" ]] || fail "the gateway is not built: $GATEWAY"

make_work_dir sdk-abi-refused
mkdir -p "$WORK/state"
cat >"$WORK/gateway.json" <<'JSON'
// An instance of a plugin that only a module built for ABI 2.0 offers.
{
  "plugins": {
    "instances": [
      {"name": "storage", "plugin": "sqlite"},
      {"name": "future", "plugin": "future"}
    ]
  }
}
JSON

step "run the gateway with an instance of plugin \"future\""
GATEWAY_LOG=$WORK/gateway.log
"$GATEWAY" run --state-dir "$WORK/state" --config "$WORK/gateway.json" --plugin-dir "$FIXTURE_DIR" \
  </dev/null >"$WORK/gateway.out" 2>"$GATEWAY_LOG" &
GATEWAY_PID=$!
wait_for_exit "$GATEWAY_PID" 20 || fail "the gateway still runs 20 s after being given a plugin it must refuse"
GATEWAY_PID=""
cat "$GATEWAY_LOG"

step "exit code 6, and stderr names the module and its ABI"
[[ $EXIT_CODE -eq 6 ]] || fail "the gateway exited with $EXIT_CODE, expected 6"
grep -q "$FIXTURE_DIR/vespid-abi2.so" "$GATEWAY_LOG" || grep -q "vespid-abi2.so" "$GATEWAY_LOG" ||
  fail "stderr does not name the module file vespid-abi2.so"
grep -q "ABI 2.0" "$GATEWAY_LOG" || fail "stderr does not say \"ABI 2.0\""
[[ ! -S "$WORK/state/gateway.sock" ]] || fail "the gateway created its operator socket although it refused to start"

step "PASS"
