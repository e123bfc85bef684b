#!/usr/bin/env bash
# Checks the execute frames of session turns against the reference node agent's own schemas
# (vespid-ai/vespid at b83a043), run by node with the zod version the reference locks. Not part
# of CI (it needs the network for npm and the reference checkout); run it after changing what a
# session turn sends:
#   bash scripts/reference-check/run.sh [path to a vespid-ai/vespid checkout]
# Without a path it clones the reference into ~/.cache/vespid-reference. Needs node >= 20 and a
# built tree (build/ci, or BIN=... for another build's bin directory).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${BIN:-$repo/build/ci/bin}"
ref="${1:-$HOME/.cache/vespid-reference}"
if [ ! -d "$ref/.git" ] && [ ! -f "$ref/HEAD" ]; then
  git clone -q https://github.com/vespid-ai/vespid "$ref"
fi
work="$(mktemp -d)"
gw_pid=""
host_pid=""
cleanup() {
  [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null
  [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
git -C "$ref" show b83a043:packages/workflow/src/index.ts >"$work/workflow.ts"
git -C "$ref" show b83a043:apps/node-agent/src/agent-run/execute-agent-run.ts >"$work/execute-agent-run.ts"
cp "$here/check.ts" "$here/host.mjs" "$work/"
(cd "$work" && npm init -y >/dev/null && npm pkg set type=module && npm install --silent zod@4.3.6 tsx@4 ws@8 >/dev/null)

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api_port=$(port); ws_port=$(port); bridge_port=$(port)
cat >"$work/gateway.json" <<JSON
{"state_dir": "$work/state",
 "agents": {"gateway_ws_url": "ws://127.0.0.1:$ws_port/ws"},
 "plugins": {"instances": [
  {"name": "storage", "plugin": "sqlite", "config": {}},
  {"name": "bus", "plugin": "local", "config": {}},
  {"name": "local", "plugin": "unix", "config": {}},
  {"name": "bridge", "plugin": "bridge", "config": {"port": $bridge_port}},
  {"name": "api", "plugin": "ws", "config": {"port": $api_port, "routes": [{"prefix": "/v1/", "dialect": "rest.v1"}]}},
  {"name": "ws", "plugin": "ws", "config": {"port": $ws_port, "routes": [{"path": "/ws", "dialect": "vespid.node.v1", "websocket": true}]}}]}}
JSON
"$bin/vespid-gateway" run -c "$work/gateway.json" >"$work/gateway.log" 2>&1 &
gw_pid=$!
cli() { "$bin/vespid" --state-dir "$work/state" "$@"; }
for _ in $(seq 1 100); do cli status >/dev/null 2>&1 && break; sleep 0.1; done
cli org create acme >/dev/null
cli user create alice --org acme --role owner >/dev/null
token="$(cli token create --user alice --org acme --name reference-check 2>/dev/null)"
org="$(cli --json org list | grep -o '"id": *"[^"]*"' | head -1 | cut -d'"' -f4)"
api="http://127.0.0.1:$api_port"
node "$work/host.mjs" "$api" "$(cli agents pairing-token --org acme 2>/dev/null)" "$work/frames.jsonl" \
  >"$work/host.log" 2>&1 &
host_pid=$!
for _ in $(seq 1 100); do cli --json nodes list 2>/dev/null | grep -q '"online"' && break; sleep 0.1; done

post() { curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$2" "$api$1"; }
session() { post "/v1/orgs/$org/sessions" "$1" | grep -o '"id": *"[^"]*"' | head -1 | cut -d'"' -f4; }
# A session made with the reference's body and one with this gateway's own, two turns each.
reference="$(session '{"engineId":"vespid.loop.v1","llm":{"provider":"openai","model":"gpt-4.1-mini"},"prompt":{"system":"be brief","instructions":"answer"},"tools":{"allow":["shell.run"]},"limits":{"maxTurns":3,"timeoutMs":99999999}}')"
own="$(session '{"engine":"vespid.loop.v1","model":"m1"}')"
for sid in "$reference" "$own" "$reference" "$own"; do
  post "/v1/orgs/$org/sessions/$sid/messages" '{"message":"hello there"}' >/dev/null
  sleep 0.2
done
for _ in $(seq 1 50); do [ "$(wc -l <"$work/frames.jsonl" 2>/dev/null || echo 0)" -ge 4 ] && break; sleep 0.1; done
(cd "$work" && npx tsx check.ts <frames.jsonl)
