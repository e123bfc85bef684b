#!/usr/bin/env bash
# Builds the Debian packages from the ci build tree, checks every systemd unit with
# systemd-analyze verify, installs the packages, runs the gateway from the installed files as the
# vespid user, checks `vespid status`, /healthz and the web client, upgrades to a rebuilt
# revision, removes and purges, and checks what is left. docs/operations.md describes the
# packages; this script is what CI runs to show they work.
#
#   cmake --build --preset ci && sudo bash scripts/package-check.sh [BUILD_DIR]
#
# BUILD_DIR defaults to build/ci. Root is required (apt-get, a system user). It leaves the
# machine as it found it, pass or fail: it refuses to start when vespid packages, the vespid
# user's state or /etc/vespid are already there, and its exit trap purges what it installed,
# removes the user it created and the policy-rc.d it added. systemd need not be PID 1: without
# it the gateway is started by hand, as the unit would (same command line, same user).
# Exit 0 when every check passed; 1 at the first failure, with what failed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build/ci}
[[ $build = /* ]] || build=$repo/$build
started=$(date +%s)

say() { printf 'package-check: %s\n' "$*"; }
fail() {
  printf 'package-check: FAILED: %s\n' "$*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || fail "run as root (it installs packages and creates a system user)"
[[ -f $build/CPackConfig.cmake ]] || fail "$build/CPackConfig.cmake missing: cmake --preset ci"
[[ -x $build/bin/vespid-gateway ]] || fail "$build/bin/vespid-gateway missing: cmake --build --preset ci"
for tool in cpack cmake ninja c++ apt-get dpkg-shlibdeps systemd-analyze setpriv curl python3; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps.sh)"
done

packages=(vespid-gateway vespid-agent vespid-worker vespid-sdk-dev)
installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^[ic]i'; }
known() { dpkg-query -W "$1" >/dev/null 2>&1 && [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1") != "un "* ]]; }
for p in "${packages[@]}"; do
  known "$p" && fail "$p is already on this machine; this check would remove it (apt-get purge $p first)"
done
[[ -e /var/lib/vespid ]] && fail "/var/lib/vespid exists; this check would delete it"
[[ -e /etc/vespid ]] && fail "/etc/vespid exists; this check would delete it"

# ---- what to undo, whatever happens ----
work=$(mktemp -d /tmp/vespid-package-check.XXXXXX)
user_existed=""
getent passwd vespid >/dev/null && user_existed=1
group_existed=""
getent group vespid >/dev/null && group_existed=1
added_policy=""
gateway_pid=""
signal_pid=""

cleanup() {
  local rc=$?
  set +e
  if [[ -n $gateway_pid ]] && kill -0 "$gateway_pid" 2>/dev/null; then
    [[ -n $signal_pid ]] && kill -TERM "$signal_pid"
    kill -TERM "$gateway_pid"
    for _ in $(seq 100); do kill -0 "$gateway_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$gateway_pid" 2>/dev/null
  fi
  # A tracer killed above may leave its tracee running; the gateway is ours when we made its
  # user, and userdel below refuses while it lives.
  if [[ -z $user_existed ]] && getent passwd vespid >/dev/null; then
    pkill -KILL -u vespid -x vespid-gateway 2>/dev/null
    for _ in $(seq 50); do pgrep -u vespid >/dev/null || break; sleep 0.1; done
  fi
  local left=()
  for p in "${packages[@]}"; do known "$p" && left+=("$p"); done
  if ((${#left[@]} > 0)); then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${left[@]}" >"$work/cleanup-purge.log" 2>&1 ||
      dpkg --purge --force-all "${left[@]}" >>"$work/cleanup-purge.log" 2>&1
  fi
  rm -rf /var/lib/vespid
  rmdir /etc/vespid 2>/dev/null
  [[ -z $user_existed ]] && getent passwd vespid >/dev/null && userdel vespid
  [[ -z $group_existed ]] && getent group vespid >/dev/null && groupdel vespid
  [[ -n $added_policy ]] && rm -f /usr/sbin/policy-rc.d
  if ((rc != 0)) && [[ -f $work/gateway.log ]]; then
    echo "---- the installed gateway's log ----" >&2
    tail -n 40 "$work/gateway.log" >&2
  fi
  rm -rf "$work"
  say "took $(($(date +%s) - started)) s"
  exit $rc
}
trap cleanup EXIT
# A command that fails outside the checks (set -e) still says which one.
trap 'printf "package-check: FAILED: line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR
trap 'exit 130' INT TERM

# With systemd as PID 1 the postinst would start the packaged gateway on the default ports,
# beside tests that may be using them. policy-rc.d answering 101 is Debian's "do not start".
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  added_policy=1
fi
if [[ $(ps -o comm= -p 1) == systemd ]]; then
  say "systemd is PID 1; the packaged unit is not started (policy-rc.d), the gateway runs by hand"
else
  say "systemd is not PID 1 ($(ps -o comm= -p 1)); the gateway runs by hand as the unit would"
fi

# ---- 1. packages, from the build tree as it is (nothing is compiled here) ----
say "cpack: revision 1 and revision 2 (for the upgrade)"
VESPID_DEB_RELEASE=1 cpack --config "$build/CPackConfig.cmake" -B "$work/r1" >"$work/cpack1.log" 2>&1 ||
  { cat "$work/cpack1.log" >&2; fail "cpack (revision 1)"; }
VESPID_DEB_RELEASE=2 cpack --config "$build/CPackConfig.cmake" -B "$work/r2" >"$work/cpack2.log" 2>&1 ||
  { cat "$work/cpack2.log" >&2; fail "cpack (revision 2)"; }
version=$(dpkg-deb -f "$work"/r1/vespid-gateway_*.deb Version)
for p in "${packages[@]}"; do
  deb=$(ls "$work"/r1/"${p}"_*.deb 2>/dev/null) || fail "cpack made no $p package"
  say "  $(basename "$deb"): $(du -k "$deb" | cut -f1) KiB"
done
dpkg-deb -f "$work"/r1/vespid-gateway_*.deb Depends | grep -q 'libsqlite3-0' ||
  fail "vespid-gateway's Depends lack the shared libraries (dpkg-shlibdeps did not run?)"
# Built without libsystemd the gateway never sends READY=1, and its Type=notify unit times out.
dpkg-deb -f "$work"/r1/vespid-gateway_*.deb Depends | grep -q 'libsystemd0' ||
  fail "vespid-gateway does not link libsystemd (build with libsystemd-dev): its Type=notify unit would time out"

# ---- 2. install ----
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get install $*"; }
}
say "apt-get install ./vespid-*_${version}_*.deb"
apt_install "$work"/r1/*.deb
for p in "${packages[@]}"; do installed "$p" || fail "$p is not installed"; done

getent passwd vespid >/dev/null || fail "postinst did not create the vespid user"
[[ $(stat -c '%U %a' /var/lib/vespid) == "vespid 700" ]] ||
  fail "/var/lib/vespid is $(stat -c '%U %a' /var/lib/vespid), expected vespid 700"
dpkg-query -W -f='${Conffiles}\n' vespid-gateway | grep -q ' /etc/vespid/vespid.json ' ||
  fail "/etc/vespid/vespid.json is not a conffile of vespid-gateway"
dpkg-query -W -f='${Conffiles}\n' vespid-worker | grep -q ' /etc/vespid/worker.env ' ||
  fail "/etc/vespid/worker.env is not a conffile of vespid-worker"
[[ $(stat -c '%U %a' /etc/vespid/worker.env) == "root 600" ]] ||
  fail "/etc/vespid/worker.env is $(stat -c '%U %a' /etc/vespid/worker.env), expected root 600"
[[ -L /etc/systemd/system/multi-user.target.wants/vespid-gateway.service ]] ||
  fail "postinst did not enable vespid-gateway.service"
[[ -e /etc/systemd/system/multi-user.target.wants/vespid-worker.service ]] &&
  fail "vespid-worker.service was enabled, but it cannot work before its token is set"
for f in /usr/include/vespid/abi.h /usr/lib/cmake/VespidSDK/VespidSDKConfig.cmake \
  /usr/share/doc/vespid-sdk-dev/examples/tcp-lines/CMakeLists.txt \
  /usr/share/doc/vespid-gateway/examples/avahi/vespid-gateway.service; do
  [[ -f $f ]] || fail "$f is missing"
done
[[ -e /etc/avahi/services/vespid-gateway.service ]] &&
  fail "the Avahi service file was installed where it announces the gateway"

# The SDK as a plugin author gets it: the packaged example, built against /usr only, and loaded
# by the installed gateway.
cp -r /usr/share/doc/vespid-sdk-dev/examples/tcp-lines "$work/tcp-lines"
(cmake -S "$work/tcp-lines" -B "$work/tcp-lines/build" -G Ninja -DCMAKE_BUILD_TYPE=Release &&
  cmake --build "$work/tcp-lines/build") >"$work/sdk.log" 2>&1 ||
  { cat "$work/sdk.log" >&2; fail "the SDK example does not build against vespid-sdk-dev"; }
/usr/bin/vespid-gateway plugins --json --plugin-dir "$work/tcp-lines/build" >"$work/plugins-sdk.json" ||
  fail "vespid-gateway plugins --plugin-dir (the SDK example)"
python3 - "$work/plugins-sdk.json" <<'EOF' || fail "the installed gateway does not load the SDK example"
import json, sys
mods = json.load(open(sys.argv[1]))["modules"]
sys.exit(0 if any(m["file"].endswith("/vespid-tcp-lines.so") and m["loadable"] for m in mods) else 1)
EOF
say "  the SDK example builds against vespid-sdk-dev and loads into the installed gateway: ok"

# ---- 3. the units ----
# verify exits 0 on unknown keys and bad values (it only prints them): anything printed fails.
verify_unit() {
  local out
  out=$("$@" 2>&1) || fail "systemd-analyze ${*:2}: $out"
  [[ -z $out ]] || fail "systemd-analyze ${*:2}: $out"
}
say "systemd-analyze verify: vespid-gateway.service vespid-worker.service (system), vespid-agent.service (user)"
verify_unit systemd-analyze verify --man=no /lib/systemd/system/vespid-gateway.service
verify_unit systemd-analyze verify --man=no /lib/systemd/system/vespid-worker.service
mkdir -m 0700 "$work/xdg"
verify_unit env XDG_RUNTIME_DIR="$work/xdg" systemd-analyze --user verify --man=no \
  /usr/lib/systemd/user/vespid-agent.service
# The hardening, scored offline (0 best, 10 worst): fail if a change loosens it noticeably.
for unit in vespid-gateway vespid-worker; do
  out=$(systemd-analyze security --offline=true --threshold=20 "/lib/systemd/system/$unit.service" 2>&1) ||
    fail "$unit.service's exposure is above 2.0 (systemd-analyze security):$(tail -n 1 <<<"$out")"
  say "  $(tail -n 1 <<<"$out" | sed "s/^→ //")"
done
# What the unit runs, so the gateway started below is the one the unit would start.
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/vespid-gateway.service)
[[ $exec_start == "/usr/bin/vespid-gateway run --config /etc/vespid/vespid.json --state-dir /var/lib/vespid" ]] ||
  fail "the unit's ExecStart changed ($exec_start); update this script"

# ---- 4. the installed gateway ----
/usr/bin/vespid-gateway plugins --json >"$work/plugins.json" || fail "vespid-gateway plugins"
python3 - "$work/plugins.json" <<'EOF' || fail "the installed gateway does not load its plugins from /usr/lib/vespid/plugins"
import json, sys
mods = json.load(open(sys.argv[1]))["modules"]
files = [m.get("file", "") for m in mods]
bad = [m for m in mods if not m.get("loadable", False)]
ok = files and all(f.startswith("/usr/lib/vespid/plugins/") for f in files) and not bad
if not ok:
    print(json.dumps(mods, indent=1), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
/usr/bin/vespid-gateway config check --config /etc/vespid/vespid.json >"$work/check.log" 2>&1 ||
  { cat "$work/check.log" >&2; fail "vespid-gateway config check --config /etc/vespid/vespid.json"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api_port=$(free_port) ws_port=$(free_port) bridge_port=$(free_port) web_port=$(free_port)

# As the unit runs it, as far as that goes without systemd: the vespid user, umask 077, no new
# privileges, no capabilities (NoNewPrivileges=, CapabilityBoundingSet=), the packaged command
# line; the system call filter and namespaces need systemd. Only the ports move, so this never
# collides with a gateway on the defaults. setpriv execs, so $! is the gateway; with a tracer
# (start_gateway strace ...) $! is the tracer and the gateway is its child.
start_gateway() {
  (umask 077 && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/vespid \
    VESPID_LISTEN_API_PORT="$api_port" VESPID_LISTEN_WS_PORT="$ws_port" \
    VESPID_LISTEN_BRIDGE_PORT="$bridge_port" VESPID_LISTEN_WEB_PORT="$web_port" \
    "$@" setpriv --reuid=vespid --regid=vespid --clear-groups --no-new-privs --inh-caps=-all \
    --bounding-set=-all -- $exec_start) >>"$work/gateway.log" 2>&1 &
  gateway_pid=$!
  signal_pid=$gateway_pid
  for _ in $(seq 200); do
    kill -0 "$gateway_pid" 2>/dev/null || { wait "$gateway_pid" || true; fail "the installed gateway exited at start"; }
    if vespid --state-dir /var/lib/vespid status >/dev/null 2>&1; then
      # Under a tracer the gateway is a descendant, not $!: once it answers, it is the one
      # vespid-gateway process of the vespid user (the tracer's own short-lived children are
      # gone by then, so this cannot pick one of them).
      if (($# > 0)); then
        signal_pid=$(pgrep -u vespid -x vespid-gateway -n || true)
        [[ -n $signal_pid ]] || fail "the traced gateway answers, but no vespid-gateway process of vespid is found"
      fi
      return 0
    fi
    sleep 0.1
  done
  fail "the installed gateway did not answer on /var/lib/vespid/gateway.sock within 20 s"
}
stop_gateway() {
  kill -TERM "$signal_pid"
  local rc=0
  wait "$gateway_pid" || rc=$?
  gateway_pid="" signal_pid=""
  ((rc == 0)) || fail "the installed gateway exited with $rc on SIGTERM"
}

# What a monitoring system would scrape: /metrics on the api listener (loopback, no token by
# default), in the Prometheus text format, with the installed build's version and every
# default plugin instance up.
check_metrics() {
  local text version
  text=$(curl -fsS "http://127.0.0.1:$api_port/metrics") || fail "/metrics on the api listener"
  version=$(vespid-gateway --version | awk '{print $2}')
  grep -q "^vespid_build_info{.*version=\"$version\".*} 1$" <<<"$text" ||
    fail "/metrics has no vespid_build_info for version $version"
  grep -q '^vespid_plugin_up{instance="web",.*} 1$' <<<"$text" ||
    fail "/metrics does not show the web listener up"
  if grep -q '^vespid_plugin_up{.*} 0$' <<<"$text"; then
    fail "/metrics shows a plugin instance down: $(grep '^vespid_plugin_up{.*} 0$' <<<"$text")"
  fi
  curl -fsS -o /dev/null "http://127.0.0.1:$web_port/metrics" 2>/dev/null &&
    fail "/metrics is served on the web listener; it belongs to the api listener only"
  say "  /metrics: ok (build info, every plugin instance up, not on the web listener)"
}

check_running_gateway() {
  local status
  status=$(vespid --state-dir /var/lib/vespid status) || fail "vespid --state-dir /var/lib/vespid status"
  grep -q "$(vespid-gateway --version | awk '{print $2}')" <<<"$status" ||
    fail "vespid status does not show the installed version: $status"
  say "  vespid status: ok"
  curl -fsS "http://127.0.0.1:$api_port/healthz" | grep -q '"ok":true' || fail "/healthz on the api listener"
  say "  /healthz: ok"
  curl -fsS "http://127.0.0.1:$web_port/" -o "$work/index.html" || fail "the web client's / on the web listener"
  cmp -s "$work/index.html" /usr/share/vespid/web/index.html ||
    fail "the web listener does not serve /usr/share/vespid/web/index.html"
  curl -fsS "http://127.0.0.1:$web_port/app.js" | cmp -s - /usr/share/vespid/web/app.js ||
    fail "the web listener does not serve /usr/share/vespid/web/app.js"
  say "  web client from /usr/share/vespid/web: ok"
  check_metrics
}

say "running the installed gateway as vespid (ports $api_port $ws_port $bridge_port $web_port)"
start_gateway
[[ $(stat -c %U /var/lib/vespid/gateway.sock) == vespid ]] || fail "the admin socket is not the vespid user's"
[[ $(stat -c %U /var/lib/vespid/vespid.db) == vespid ]] || fail "the database is not the vespid user's"
check_running_gateway
# An admin who forgets --state-dir is told where the system service's socket is.
mkdir -p "$work/home"
rc=0
env -u XDG_STATE_HOME HOME="$work/home" vespid status >/dev/null 2>"$work/hint.txt" || rc=$?
((rc == 3)) && grep -q -- "--state-dir /var/lib/vespid" "$work/hint.txt" ||
  fail "vespid status without --state-dir: exit $rc, and no pointer to /var/lib/vespid: $(cat "$work/hint.txt")"
say "  vespid status without --state-dir points at /var/lib/vespid: ok"
vespid --state-dir /var/lib/vespid org create package-check >/dev/null || fail "vespid org create"
stop_gateway

# The unit's system call filter, checked without systemd: every system call the installed gateway
# makes as the vespid user (start, the checks above, SIGHUP, stop) must be in what
# SystemCallFilter= leaves it; anything else would fail with EPERM under the unit. Plugins that
# the default config does not run (bonjour, dnssd, tailnet, postgres, nats) are not exercised.
syscall_set() {  # the system calls of a systemd set, nested sets expanded
  systemd-analyze syscall-filter "$1" | sed -n '2,$p' | sed 's/^[[:space:]]*//' | grep -v '^#' |
    while read -r name; do
      [[ -z $name ]] && continue
      if [[ $name == @* ]]; then syscall_set "$name"; else echo "$name"; fi
    done
}
if command -v strace >/dev/null; then
  # One SystemCallFilter= line is an allow list, or with a leading ~ a deny list of all its sets.
  allowed=() denied=()
  while read -r line; do
    if [[ $line == "~"* ]]; then
      for f in ${line#\~}; do denied+=("$f"); done
    else
      for f in $line; do allowed+=("$f"); done
    fi
  done < <(sed -n 's/^SystemCallFilter=//p' /lib/systemd/system/vespid-gateway.service)
  for set in "${allowed[@]}"; do syscall_set "$set"; done | sort -u >"$work/allowed"
  for set in "${denied[@]}"; do syscall_set "$set"; done | sort -u >"$work/denied"
  comm -23 "$work/allowed" "$work/denied" >"$work/permitted"
  start_gateway strace -f -qq -o "$work/syscalls.trace"
  check_running_gateway >/dev/null
  kill -HUP "$signal_pid"
  sleep 0.5
  stop_gateway
  # From the gateway's execve on: what setpriv does before it (setresuid, capset) is systemd's
  # part under the unit, done before the filter applies.
  awk '/execve\("\/usr\/bin\/vespid-gateway"/ { on = 1 } on' "$work/syscalls.trace" |
    sed -E 's/^[0-9]+ +//; s/\(.*//' | grep -E '^[a-z_0-9]+$' | sort -u >"$work/used"
  [[ -s $work/used ]] || fail "strace saw no system call of the gateway"
  outside=$(comm -23 "$work/used" "$work/permitted" | tr '\n' ' ')
  [[ -z $outside ]] || fail "the gateway makes system calls its unit's SystemCallFilter= refuses: $outside"
  say "  system calls: all $(wc -l <"$work/used") the gateway made are within SystemCallFilter= ($(wc -l <"$work/permitted") permitted)"
  # MemoryDenyWriteExecute= refuses mappings both writable and executable, and making memory
  # executable after the fact (mprotect with PROT_EXEC): plugins loaded with dlopen must not.
  wx=$(awk '/execve\("\/usr\/bin\/vespid-gateway"/ { on = 1 } on' "$work/syscalls.trace" |
    grep -E 'mmap\(.*PROT_WRITE\|PROT_EXEC|mmap\(.*PROT_EXEC\|PROT_WRITE|mprotect\(.*PROT_EXEC' | head -n 3 || true)
  [[ -z $wx ]] || fail "the gateway maps writable and executable memory, which MemoryDenyWriteExecute= refuses: $wx"
  say "  no writable+executable memory (MemoryDenyWriteExecute=): ok"
elif [[ ${CI:-} != "" && ${CI:-} != 0 && ${CI:-} != false ]]; then
  fail "strace is not installed, so the system call filter cannot be checked (scripts/install-deps.sh)"
else
  say "  system calls: not checked (no strace)"
fi

# ---- 5. upgrade: a rebuilt revision over the running install ----
# An admin's edit of the conffile must survive it.
printf '// edited by package-check\n' | cat - /etc/vespid/vespid.json >"$work/edited.json"
cp "$work/edited.json" /etc/vespid/vespid.json
version2=$(dpkg-deb -f "$work"/r2/vespid-gateway_*.deb Version)
say "upgrade: $version -> $version2"
apt_install "$work"/r2/*.deb
[[ $(dpkg-query -W -f='${Version}' vespid-gateway) == "$version2" ]] || fail "vespid-gateway is not at $version2"
cmp -s "$work/edited.json" /etc/vespid/vespid.json || fail "the upgrade replaced the edited /etc/vespid/vespid.json"
start_gateway
check_running_gateway
vespid --state-dir /var/lib/vespid org list | grep -q package-check || fail "the state did not survive the upgrade"
say "  state kept across the upgrade: ok"
stop_gateway

# ---- 6. remove keeps the state, purge takes it ----
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "${packages[@]}" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get remove"; }
[[ -f /var/lib/vespid/vespid.db ]] || fail "apt-get remove deleted the state; only purge may"
[[ -f /etc/vespid/vespid.json ]] || fail "apt-get remove deleted the conffile; only purge may"
[[ -e /usr/bin/vespid-gateway ]] && fail "apt-get remove left /usr/bin/vespid-gateway"
say "remove: binaries gone, state and config kept"
# Only what dpkg still knows: a package without conffiles (vespid-sdk-dev) is gone after remove.
to_purge=()
for p in "${packages[@]}"; do known "$p" && to_purge+=("$p"); done
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${to_purge[@]}" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get purge"; }
for p in "${packages[@]}"; do known "$p" && fail "$p is still known to dpkg after purge"; done
for path in /var/lib/vespid /etc/vespid /usr/lib/vespid /usr/share/vespid /usr/include/vespid \
  /usr/lib/cmake/VespidSDK /lib/systemd/system/vespid-gateway.service \
  /lib/systemd/system/vespid-worker.service /usr/lib/systemd/user/vespid-agent.service \
  /etc/systemd/system/multi-user.target.wants/vespid-gateway.service \
  /etc/systemd/system/vespid-gateway.service /var/lib/systemd/deb-systemd-helper-enabled/vespid-gateway.service \
  /var/lib/systemd/deb-systemd-helper-masked/vespid-gateway.service /usr/bin/vespid; do
  [[ -e $path || -L $path ]] && fail "$path is still there after purge"
done
getent passwd vespid >/dev/null || fail "purge removed the vespid user; Debian keeps system users"
say "purge: state, config, units and files gone (the vespid user stays, as Debian does; removed here)"
say "PASSED"
