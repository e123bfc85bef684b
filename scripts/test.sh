#!/usr/bin/env bash
# Builds everything with warnings as errors and runs every test suite (unit, storage
# conformance, SDK, integration against the real binaries).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/vespid-ccache}"
cmake --preset ci
cmake --build --preset ci
ctest --preset ci
