#!/usr/bin/env bash
# Installs what building and testing Vespid needs on Debian 12, and nothing when it is all there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev sqlite3
  # the postgres storage plugin (libpq) and the throwaway server its tests start (initdb,
  # postgres; the package's own cluster is not started, see policy-rc.d below)
  libpq-dev postgresql
  # the nats bus plugin (libnats, the NATS C client) and the nats-server its tests start on a
  # free loopback port (the package's own service is not started, see policy-rc.d below)
  libnats-dev nats-server
  nlohmann-json3-dev libspdlog-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libavahi-client-dev
  # the dnssd discovery plugin: the dns_sd.h API over avahi-daemon (Avahi's Bonjour compatibility
  # library; on macOS the same plugin builds against mDNSResponder)
  libavahi-compat-libdnssd-dev
  socat procps openssl curl
  # sd_notify (readiness, watchdog) for the gateway's systemd unit; scripts/package-check.sh's
  # tools: dpkg-shlibdeps (the packages' Depends), systemd-analyze (unit checks), adduser, strace
  # (the system calls the installed gateway makes, against its unit's SystemCallFilter=)
  libsystemd-dev dpkg-dev systemd adduser strace
  # the man pages, generated from each program's --help at build time (cmake/VespidGeneratedDocs.cmake)
  help2man
  # IANA time zones: cron triggers' `timezone` (core/runtime/time_zone.cpp reads the TZif files)
  tzdata
  # scripts/fuzz.sh: the `fuzz` preset's compiler; libFuzzer and the ASan/UBSan runtimes come
  # with it (libclang-common-15-dev)
  clang-15
  # the local OpenAI-compatible model server of the session tests (stdlib only)
  python3
  # the netns discovery/tailnet tests: a real avahi-daemon on a private bus, avahi-browse,
  # ip netns and ss, unshare
  avahi-daemon avahi-utils dbus iproute2 util-linux
  # the web client's end-to-end tests (tests/web): headless Chromium, driven by playwright-core
  # on Node.js
  chromium
)
# Node.js and npm from Debian, unless a node is already on the PATH (some machines carry
# NodeSource's nodejs, which bundles npm and conflicts with Debian's npm package).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
# Packages with daemons must not start them: avahi-daemon on this machine's real interfaces
# would multicast out of it, and postgresql's own cluster and nats-server's service would sit on
# ports 5432 and 4222 for nothing. The tests run their own (avahi inside network namespaces,
# PostgreSQL and nats-server on free loopback ports).
# policy-rc.d answering 101 ("action forbidden") is Debian's switch for that.
policy=/usr/sbin/policy-rc.d
added_policy=""
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  added_policy=1
fi
trap '[[ -n $added_policy ]] && $sudo rm -f "$policy"' EXIT
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
