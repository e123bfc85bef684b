#!/usr/bin/env bash
# Fails when a test calls GTEST_SKIP directly: a test that cannot run must use
# VESPID_SKIP_UNLESS_CI (tests/support/skip_or_fail.hpp), which fails instead of skipping when CI
# is set, so a suite cannot quietly stop running in CI (docs/testing.md).
# Usage: no_direct_gtest_skip.sh <source dir>
set -euo pipefail
src="${1:?usage: no_direct_gtest_skip.sh <source dir>}"
hits=$(grep -rnE 'GTEST_SKIP' "$src" --exclude-dir=build --exclude-dir=.git \
  --include='*.cpp' --include='*.cc' --include='*.hpp' --include='*.h' |
  grep -vF "$src/tests/support/skip_or_fail.hpp:" || true)
if [[ -n "$hits" ]]; then
  echo "FAIL: GTEST_SKIP used directly; use VESPID_SKIP_UNLESS_CI (tests/support/skip_or_fail.hpp):"
  echo "$hits"
  exit 1
fi
echo "ok: no direct GTEST_SKIP outside tests/support/skip_or_fail.hpp"
