#!/usr/bin/env bash
# The dependency rule's check must fail on a forbidden include: plant three in a copy of the
# tree (a service reaching up into a dialect, one service part reaching a later one, a plugin
# reaching into the core) and expect each to be named, then expect the clean copy to pass.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/tree"
cp -r "$src/core" "$src/plugins" "$work/tree/"
[[ -d "$src/libs" ]] && cp -r "$src/libs" "$work/tree/"
mkdir -p "$work/tree/apps" && cp -r "$src/apps/cli" "$src/apps/agent" "$work/tree/apps/"

check() { python3 "$src/scripts/check_layers.py" --root "$work/tree"; }

if ! out="$(check 2>&1)"; then
  echo "FAIL: the unmodified copy should pass:"; echo "$out"; exit 1
fi

echo '#include "protocols/bridge/bridge_dialect.hpp"' >>"$work/tree/core/services/nodes/node_store.cpp"
echo '#include "services/sessions/session_service.hpp"' >>"$work/tree/core/services/nodes/node_router.cpp"
echo '#include "runtime/loop.hpp"' >>"$work/tree/plugins/bridge/config.cpp"

set +e
out="$(check 2>&1)"
rc=$?
set -e
echo "$out"
fail=0
[[ $rc -eq 1 ]] || { echo "FAIL: expected exit 1, got $rc"; fail=1; }
for want in \
  'core/services/nodes/node_store.cpp:.*services may not use protocols' \
  'core/services/nodes/node_router.cpp:.*services/nodes may not use services/sessions' \
  'plugins/bridge/config.cpp:.*plugins may not use the core'; do
  grep -q "$want" <<<"$out" || { echo "FAIL: no line matching: $want"; fail=1; }
done
if ((fail)); then exit 1; fi
echo "1 passed, 0 failed"
