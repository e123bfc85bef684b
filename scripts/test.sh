#!/usr/bin/env bash
# Builds everything with warnings as errors and runs every test suite (unit, storage
# conformance, SDK, integration against the real binaries).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/vespid-ccache}"
# Paths relative to the checkout (and the build directory left out of the hash), so a fresh
# clone in another folder, CI's, hits the cache that an earlier build on this machine filled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
cmake --preset ci
cmake --build --preset ci
# The web tests' npm packages (playwright-core, pinned by tests/web/package-lock.json); npm keeps
# its download cache in ~/.npm, so a second run fetches nothing.
npm ci --prefix tests/web --no-audit --no-fund --loglevel=error
ctest --preset ci
# The Debian packages built from that tree: installed, run as the vespid user, upgraded, purged
# (docs/operations.md). It needs root for apt-get and a system user.
if [[ $(id -u) -eq 0 ]]; then bash scripts/package-check.sh; else sudo bash scripts/package-check.sh; fi
# The same core under clang's ASan+UBSan: the unit tests, every fuzz harness over its committed
# corpus, and a short fuzzing run of each (docs/fuzzing.md; FUZZ_SECONDS per harness).
FUZZ_SECONDS="${FUZZ_SECONDS:-5}" bash scripts/fuzz.sh
