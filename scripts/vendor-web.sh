#!/usr/bin/env bash
# Vendors the web client's libraries from the npm registry into apps/web/vendor/, at pinned
# versions, with their licences. Reproducible: `npm pack` fetches the exact tarballs, which are
# checked against the sha512 integrity pinned below, the same files are copied, and the one bare import
# ("preact" inside preact/hooks) is rewritten to a relative path so the pages need no import map
# (the gateway's CSP forbids inline scripts, and an import map is one).
#
#   scripts/vendor-web.sh          # rewrite apps/web/vendor/ and print the sha256 of each file
#
# Needs: npm, tar, sed, openssl, sha256sum. Bump a version: change it here, run, review, commit.
set -euo pipefail

PREACT_VERSION=10.29.8
HTM_VERSION=3.1.1
PREACT_INTEGRITY=sha512-ej2aVZ+vZ8WO7tvlQWRM9N63A0KzF9q4mWJfDUHgYaIofWY9hu74QdnQrjoPMmZi2/nZ5gN0bJCQF49xQqx09Q==
HTM_INTEGRITY=sha512-983Vyg8NwUE7JkZ6NmOqpCZ+sh1bKv2iYTlUkzlWmA5JD2acKoxd4KVxbMmxX/85mtfdnDmTFoNKcg5DGAvxNQ==

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/apps/web/vendor"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm pack --silent "preact@$PREACT_VERSION" "htm@$HTM_VERSION" >/dev/null
check() { # file expected-integrity
  local got="sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
  if [[ "$got" != "$2" ]]; then echo "vendor-web.sh: $1 is $got, expected $2" >&2; exit 1; fi
}
check "preact-$PREACT_VERSION.tgz" "$PREACT_INTEGRITY"
check "htm-$HTM_VERSION.tgz" "$HTM_INTEGRITY"
mkdir preact htm
tar -xzf "preact-$PREACT_VERSION.tgz" -C preact --strip-components=1
tar -xzf "htm-$HTM_VERSION.tgz" -C htm --strip-components=1

rm -rf "$out"
mkdir -p "$out"
# preact: the core and the hooks, as ES modules (the package's "module" builds).
cp preact/dist/preact.module.js "$out/preact.js"
cp preact/hooks/dist/hooks.module.js "$out/preact-hooks.js"
cp preact/LICENSE "$out/preact.LICENSE"
# htm: tagged templates instead of JSX, so there is no build step.
cp htm/dist/htm.module.js "$out/htm.js"
cp htm/LICENSE "$out/htm.LICENSE"

# The hooks import "preact"; point them at the file next to them.
sed -i -E 's#from ?"preact"#from"./preact.js"#g; s#from ?'"'"'preact'"'"'#from"./preact.js"#g' "$out/preact-hooks.js"
# Source map comments would make the browser ask for files we do not ship.
sed -i -E '/^\/\/# sourceMappingURL=/d' "$out"/*.js
if grep -nE 'from ?["'"'"'][^./]' "$out"/*.js; then
  echo "vendor-web.sh: a bare import is left (above)" >&2
  exit 1
fi

cat > "$out/VERSIONS" <<V
preact $PREACT_VERSION (MIT) https://www.npmjs.com/package/preact/v/$PREACT_VERSION
htm $HTM_VERSION (Apache-2.0) https://www.npmjs.com/package/htm/v/$HTM_VERSION
Written by scripts/vendor-web.sh; do not edit by hand.
V

cd "$out"
sha256sum -- *
