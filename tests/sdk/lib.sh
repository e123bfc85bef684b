# Helpers shared by the SDK test scripts. Sourced, not run.
#
# Conventions: every step prints "== <what>"; a failure prints "FAIL: <why>" and exits 1, after
# the EXIT trap has shown the gateway's log (if any) and removed the work directory (kept when
# VESPID_KEEP_TEST_DIR=1).

step() { printf '== %s\n' "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

# need <command>...: the test cannot run without these programs.
need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || fail "'$c' is required by this test but is not installed"
  done
}

# The gateway treats every VESPID_* environment variable as configuration (and refuses unknown
# ones), so a developer's environment must not leak into the gateways these tests start. Read the
# one variable meant for the tests, then drop them all.
KEEP_WORK=${VESPID_KEEP_TEST_DIR:-0}
while read -r v; do unset "$v"; done < <(compgen -e | grep '^VESPID_' || true)

# The work directory and cleanup. Set GATEWAY_PID / GATEWAY_LOG while a gateway runs.
WORK=""
GATEWAY_PID=""
GATEWAY_LOG=""
make_work_dir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/vespid-$1.XXXXXX")
  trap cleanup EXIT
}
cleanup() {
  local rc=$?
  if [[ -n "$GATEWAY_PID" ]] && kill -0 "$GATEWAY_PID" 2>/dev/null; then
    kill -KILL "$GATEWAY_PID" 2>/dev/null || true
    wait "$GATEWAY_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -n "$GATEWAY_LOG" && -f "$GATEWAY_LOG" ]]; then
    printf -- '---- gateway stderr (%s) ----\n' "$GATEWAY_LOG" >&2
    tail -n 200 "$GATEWAY_LOG" >&2
    printf -- '---- end of gateway stderr ----\n' >&2
  fi
  if [[ -n "$WORK" ]]; then
    if [[ "$KEEP_WORK" == 1 ]]; then
      printf 'work directory kept: %s\n' "$WORK" >&2
    else
      rm -rf "$WORK"
    fi
  fi
  exit $rc
}

# JSON_TOOL is the sdk_json_tool binary (json_tool.cpp), set from --json-tool.
JSON_TOOL=""

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() { "$JSON_TOOL" free-port; }

# jget <json-text> <dotted.path>: the value there (strings raw, anything else as JSON); fails if
# the text is not JSON or the path is absent.
jget() { "$JSON_TOOL" get "$1" "$2"; }

# jis <json-text> <dotted.path> <value>: whether the value at path is exactly <value>.
jis() {
  local v
  v=$("$JSON_TOOL" get "$1" "$2" 2>/dev/null) || return 1
  [[ "$v" == "$3" ]]
}

# wait_for_exit <pid> <seconds>: sets EXIT_CODE to the process's exit status; returns 1 if it
# is still running after <seconds>.
wait_for_exit() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
  EXIT_CODE=0
  wait "$pid" || EXIT_CODE=$?
  return 0
}
