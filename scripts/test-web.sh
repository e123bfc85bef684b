#!/usr/bin/env bash
# The web client's end-to-end tests (tests/web, docs/testing.md): headless Chromium (Debian's
# /usr/bin/chromium, or $CHROMIUM) driven by playwright-core from the npm registry at the
# version pinned in tests/web/package-lock.json, against real gateways started by the tests
# from $VESPID_BIN_DIR (default build/ci/bin). Screenshots go to $VESPID_WEB_SCREENSHOTS if set.
# scripts/test.sh runs the same files under ctest (one test each, web.<name>); this script is the
# quick way to run just them while working on the pages.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "test-web.sh: npm is missing (apt-get install npm, or NodeSource's nodejs)" >&2; exit 1; }
(cd tests/web && npm ci --no-audit --no-fund --silent)
node --test tests/web/
