#!/usr/bin/env bash
# sdk_example_out_of_tree: the SDK as a plugin author meets it.
#
#   1. install the SDK component of this build tree into a temporary prefix;
#   2. build sdk/examples/tcp-lines out of tree against that prefix only, with this build's
#      compilers, and check the package's version rule (1.0 found, 2.0 refused);
#   3. check the module exports vsp_module_query and nothing else;
#   4. `vespid-gateway plugins --json` lists it as loadable and the ABI fixtures as refused;
#   5. run the gateway with an instance of it and speak operator.v1 over it with bash /dev/tcp:
#      health -> ok, orgs.list -> UNAUTHORIZED, an over-long line -> an error, then EOF,
#      200 pipelined requests -> 200 responses in order; with socat: replies still arrive after
#      the client's EOF;
#   6. SIGTERM -> exit code 0.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SOURCE_DIR="" BUILD_DIR="" C_COMPILER="" CXX_COMPILER="" GATEWAY="" FIXTURE_DIR="" JSON_TOOL=""
while (($#)); do
  case "$1" in
    --source-dir) SOURCE_DIR=$2 ;;
    --build-dir) BUILD_DIR=$2 ;;
    --c-compiler) C_COMPILER=$2 ;;
    --cxx-compiler) CXX_COMPILER=$2 ;;
    --gateway) GATEWAY=$2 ;;
    --fixture-dir) FIXTURE_DIR=$2 ;;
    --json-tool) JSON_TOOL=$2 ;;
    *) fail "unknown argument $1" ;;
  esac
  shift 2
done
for v in SOURCE_DIR BUILD_DIR C_COMPILER CXX_COMPILER GATEWAY FIXTURE_DIR JSON_TOOL; do
  [[ -n "${!v}" ]] || fail "missing --$(tr '_A-Z' '-a-z' <<<"$v")"
done
need cmake nm
[[ -x "$JSON_TOOL" ]] || fail "the test helper is not built: $JSON_TOOL"
GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)

make_work_dir sdk-example
PREFIX=$WORK/sdk-prefix

# ---- 1. install the SDK -------------------------------------------------------------------------
step "install the sdk component into $PREFIX"
cmake --install "$BUILD_DIR" --component sdk --prefix "$PREFIX"
for h in abi.h host.h transport.h storage.h netbind.h discovery.h vespid.h plugin.hpp; do
  [[ -f "$PREFIX/include/vespid/$h" ]] || fail "the sdk component did not install include/vespid/$h"
done
CONFIG=$(find "$PREFIX" -path '*/cmake/VespidSDK/VespidSDKConfig.cmake' | head -n 1)
[[ -n "$CONFIG" ]] || fail "the sdk component installed no VespidSDKConfig.cmake"
[[ -f "$(dirname "$CONFIG")/VespidSDKConfigVersion.cmake" ]] || fail "no VespidSDKConfigVersion.cmake"
# Nothing but the SDK: headers and the package (no libraries, no programs, no plugins).
if find "$PREFIX" -type f ! -path "$PREFIX/include/vespid/*" ! -path '*/cmake/VespidSDK/*' | grep .; then
  fail "the sdk component installed files outside include/vespid and lib/cmake/VespidSDK (above)"
fi

# ---- 2. build the example out of tree -----------------------------------------------------------
step "configure sdk/examples/tcp-lines against the installed SDK"
EXAMPLE_BUILD=$WORK/tcp-lines-build
cmake -S "$SOURCE_DIR/sdk/examples/tcp-lines" -B "$EXAMPLE_BUILD" "${GENERATOR[@]}" \
  -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DCMAKE_C_COMPILER="$C_COMPILER" -DCMAKE_CXX_COMPILER="$CXX_COMPILER" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="-Werror" \
  -DCMAKE_INSTALL_PREFIX="$WORK/plugin-prefix" --no-warn-unused-cli
grep -q "^VespidSDK_DIR:PATH=$PREFIX/" "$EXAMPLE_BUILD/CMakeCache.txt" ||
  fail "find_package(VespidSDK) did not use the SDK installed in $PREFIX: $(grep VespidSDK_DIR "$EXAMPLE_BUILD/CMakeCache.txt")"

step "build it"
cmake --build "$EXAMPLE_BUILD"
cmake --install "$EXAMPLE_BUILD"
MODULE=$(find "$WORK/plugin-prefix" -name vespid-tcp-lines.so | head -n 1)
[[ -n "$MODULE" ]] || fail "installing the example produced no vespid-tcp-lines.so"
[[ "$MODULE" == */vespid/plugins/vespid-tcp-lines.so ]] || fail "installed to $MODULE, not .../vespid/plugins/"
MODULE_DIR=$(dirname "$MODULE")

step "the package version is the ABI's, with same-major compatibility"
probe() {  # probe <version-request>: configures a project that asks for VespidSDK <request>
  mkdir -p "$WORK/probe-$1"
  printf 'cmake_minimum_required(VERSION 3.16)\nproject(p LANGUAGES NONE)\nfind_package(VespidSDK %s REQUIRED)\nmessage(STATUS "VespidSDK_VERSION=${VespidSDK_VERSION}")\n' \
    "$1" >"$WORK/probe-$1/CMakeLists.txt"
  cmake -S "$WORK/probe-$1" -B "$WORK/probe-$1/build" -DCMAKE_PREFIX_PATH="$PREFIX" >"$WORK/probe-$1.log" 2>&1
}
probe 1.0 || fail "find_package(VespidSDK 1.0) failed: $(cat "$WORK/probe-1.0.log")"
ABI=$(sed -n 's/^#define VSP_ABI_MAJOR \([0-9]*\).*/\1/p' "$SOURCE_DIR/sdk/include/vespid/abi.h").$(sed -n 's/^#define VSP_ABI_MINOR \([0-9]*\).*/\1/p' "$SOURCE_DIR/sdk/include/vespid/abi.h")
grep -q "VespidSDK_VERSION=$ABI\$" "$WORK/probe-1.0.log" || fail "VespidSDK_VERSION is not the ABI version $ABI"
if probe 2.0; then fail "find_package(VespidSDK 2.0) accepted an SDK for ABI $ABI"; fi

# ---- 3. exports -----------------------------------------------------------------------------------
step "the module exports vsp_module_query and nothing else"
nm -D --defined-only "$MODULE" | grep -Eq '^[0-9a-f]+ T vsp_module_query$' ||
  fail "vsp_module_query is not an exported function: $(nm -D --defined-only "$MODULE")"
# Symbols a linker may define in any shared object by itself.
EXTRA=$(nm -D --defined-only "$MODULE" | awk '{print $NF}' |
  grep -Evx 'vsp_module_query|_init|_fini|_edata|_end|__bss_start|_ITM_.*|__gmon_start__' || true)
[[ -z "$EXTRA" ]] || fail "the module exports more than vsp_module_query:
$EXTRA"
if nm -D --undefined-only "$MODULE" | grep -E ' U (vsp_|_ZN6vespid)'; then
  fail "the module imports symbols from the gateway (above); it must use the vsp_host_api table"
fi

# ---- 4. vespid-gateway plugins ------------------------------------------------------------------
[[ -x "$GATEWAY" ]] || fail "the gateway is not built: $GATEWAY"

step "vespid-gateway plugins --json"
"$GATEWAY" plugins --plugin-dir "$MODULE_DIR" --plugin-dir "$FIXTURE_DIR" --json >"$WORK/plugins.json" ||
  fail "vespid-gateway plugins --json failed"
"$JSON_TOOL" modules "$WORK/plugins.json" >"$WORK/modules.tsv" ||
  fail "plugins --json does not have the documented shape: $(cat "$WORK/plugins.json")"
# module <file>: that module's line of the listing (file loadable name abi error plugins).
module() { awk -F'\t' -v f="$1" '$1 == f' "$WORK/modules.tsv"; }
field() { cut -f "$1" <<<"$2"; }  # field <n> <line>
show_listing() { cat "$WORK/plugins.json" >&2; }

m=$(module "$(realpath "$MODULE")")
[[ -n "$m" ]] || { show_listing; fail "plugins --json does not list $MODULE"; }
[[ $(field 2 "$m") == true && $(field 5 "$m") == - ]] || { show_listing; fail "tcp-lines is not loadable"; }
[[ $(field 3 "$m") == vespid-tcp-lines ]] || fail "the module's name is not vespid-tcp-lines: $m"
[[ $(field 4 "$m") == "$ABI" ]] || fail "the module's ABI is not $ABI: $m"
grep -Eq '(^|\|)tcp-lines/transport/.' <<<"$(field 6 "$m")" ||
  fail "the module does not offer a described transport plugin tcp-lines: $m"

fixture() {  # fixture <file> <needle>...: listed, not loadable, and the error says every needle
  local f=$1 line err n
  shift
  line=$(module "$(realpath "$FIXTURE_DIR/$f")")
  [[ -n "$line" ]] || { show_listing; fail "plugins --json does not list $FIXTURE_DIR/$f"; }
  [[ $(field 2 "$line") == false ]] || fail "$f is listed as loadable: $line"
  err=$(field 5 "$line")
  echo "  $f: $err"
  for n in "$@"; do
    [[ "$err" == *"$n"* ]] || fail "the error for $f does not say \"$n\": $err"
  done
}
fixture vespid-abi2.so "ABI 2.0" "rebuild"
fixture vespid-newminor.so "1.99" "upgrade"

# The build's own plugins are listed too (the run below needs sqlite and unix).
for id in sqlite unix; do
  awk -F'\t' '$2 == "true" {print $6}' "$WORK/modules.tsv" | tr '|' '\n' | grep -q "^$id/" ||
    { show_listing; fail "the build's plugin \"$id\" is not listed as loadable"; }
done

step "vespid-gateway plugins (text)"
"$GATEWAY" plugins --plugin-dir "$MODULE_DIR" --plugin-dir "$FIXTURE_DIR" >"$WORK/plugins.txt" ||
  fail "vespid-gateway plugins failed"
cat "$WORK/plugins.txt"
grep -q 'tcp-lines' "$WORK/plugins.txt" || fail "the text listing does not mention tcp-lines"
grep -q 'ABI 2.0' "$WORK/plugins.txt" || fail "the text listing does not give the ABI 2.0 refusal"

# ---- 5. run it ----------------------------------------------------------------------------------
PORT=$(free_port)
STATE=$WORK/state
mkdir -p "$STATE"
cat >"$WORK/gateway.json" <<EOF
// sdk_example_out_of_tree: storage, the local operator socket, and the example transport.
{
  "plugins": {
    "instances": [
      {"name": "storage", "plugin": "sqlite"},
      {"name": "local", "plugin": "unix"},
      {"name": "lines", "plugin": "tcp-lines", "config": {"port": $PORT}}
    ]
  },
  // The connection the steps below keep open stays anonymous; on a loaded machine the steps
  // can outlast the default 10 s, and the gateway would close it before the SIGTERM step.
  "limits": {"anonymous_timeout_ms": 600000}
}
EOF
step "run the gateway with a tcp-lines instance on 127.0.0.1:$PORT"
GATEWAY_LOG=$WORK/gateway.log
"$GATEWAY" run --state-dir "$STATE" --config "$WORK/gateway.json" --plugin-dir "$MODULE_DIR" \
  </dev/null >"$WORK/gateway.out" 2>"$GATEWAY_LOG" &
GATEWAY_PID=$!

# Ready: the operator socket exists and the tcp-lines instance's port takes connections.
deadline=$((SECONDS + 60))
until [[ -S "$STATE/gateway.sock" ]] && (exec 9<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
  kill -0 "$GATEWAY_PID" 2>/dev/null || fail "the gateway exited before it was ready"
  ((SECONDS < deadline)) || fail "the gateway was not ready after 60 s (socket $STATE/gateway.sock, port $PORT)"
  sleep 0.2
done

exec 3<>"/dev/tcp/127.0.0.1/$PORT"

# response <id>: the next line on fd 3 that is a response to <id>; events in between are skipped.
response() {
  local line
  while IFS= read -r -t 10 line <&3; do
    if jis "$line" type res && jis "$line" id "$1"; then
      RESPONSE=$line
      return 0
    fi
    jis "$line" type event || fail "expected the response to request $1 (or an event), got: $line"
  done
  fail "no response to request $1 within 10 s"
}

step "operator.v1 health over tcp-lines"
printf '%s\n' '{"type":"req","id":"1","method":"health","params":{}}' >&3
response 1
echo "  <- $RESPONSE"
jis "$RESPONSE" ok true && [[ $(jget "$RESPONSE" payload) == "{"* ]] ||
  fail "health did not answer ok:true with a payload: $RESPONSE"

step "orgs.list from a connection that is not local-admin"
printf '%s\n' '{"type":"req","id":"2","method":"orgs.list","params":{}}' >&3
response 2
echo "  <- $RESPONSE"
jis "$RESPONSE" ok false && jis "$RESPONSE" error.code UNAUTHORIZED ||
  fail "orgs.list over TCP was not refused with UNAUTHORIZED: $RESPONSE"

step "a line over max_line_bytes (65536) -> an error, then the connection closes"
# Exactly 65537 bytes and no newline: the transport reads all of it, so closing the socket
# afterwards sends FIN rather than RST (which could destroy the error line in flight).
head -c 65537 /dev/zero | tr '\0' 'x' >&3
IFS= read -r -t 10 line <&3 || fail "no answer to an over-long line within 10 s"
echo "  <- $line"
jget "$line" error >/dev/null || fail "the answer to an over-long line is not an error: $line"
rc=0
IFS= read -r -t 10 extra <&3 || rc=$?
((rc > 128)) && fail "the connection was not closed within 10 s of the over-long line"
[[ $rc -ne 0 ]] || fail "expected EOF after the error, got another line: $extra"
exec 3<&-

step "a fresh connection, 200 pipelined requests in one write -> 200 responses in order"
# The limit closed one connection, not the listener.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
batch=""
for i in $(seq 100 299); do
  batch+='{"type":"req","id":"'$i'","method":"health","params":{}}'$'\n'
done
printf '%s' "$batch" >&3
for i in $(seq 100 299); do
  response "$i"
  jis "$RESPONSE" ok true || fail "pipelined health $i failed: $RESPONSE"
done

step "requests, then EOF from the client (socat half-closes) -> the replies still arrive"
# auth goes through storage, so its reply comes after the transport has seen the client's EOF.
need socat
replies=$(printf '%s\n' '{"type":"req","id":"a1","method":"auth","params":{"token":"nobody.nothing"}}' \
  '{"type":"req","id":"a2","method":"health","params":{}}' | socat -t 5 - "TCP:127.0.0.1:$PORT") ||
  fail "socat failed"
printf '  <- %s\n' "$replies"
[[ $(wc -l <<<"$replies") -eq 2 ]] || fail "expected 2 replies after a half-close, got: $replies"
a1=$(head -n 1 <<<"$replies")
a2=$(tail -n 1 <<<"$replies")
jis "$a1" id a1 && jis "$a1" ok false && jis "$a1" error.code UNAUTHORIZED ||
  fail "auth with an unknown token did not answer UNAUTHORIZED: $a1"
jis "$a2" id a2 && jis "$a2" ok true || fail "health after auth failed: $a2"

# ---- 6. stop --------------------------------------------------------------------------------------
step "SIGTERM with that connection open -> the connection ends, exit code 0"
kill -TERM "$GATEWAY_PID"
rc=0
IFS= read -r -t 20 extra <&3 || rc=$?
((rc > 128)) && fail "the open connection was not closed within 20 s of SIGTERM"
[[ $rc -ne 0 ]] || fail "expected EOF on the open connection at shutdown, got: $extra"
exec 3<&-
wait_for_exit "$GATEWAY_PID" 30 || fail "the gateway did not exit within 30 s of SIGTERM"
GATEWAY_PID=""
[[ $EXIT_CODE -eq 0 ]] || fail "the gateway exited with $EXIT_CODE after SIGTERM, expected 0"

step "PASS"
