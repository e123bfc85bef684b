#!/usr/bin/env bash
# The main job: install dependencies, build, start the gateway on its defaults (SQLite in the
# state directory, the admin socket, the bridge, the HTTP API on 3001 and the WebSockets on
# 3002, the web control client on 3000), bootstrap an org, a user and an access token with the CLI, pair a demo node host
# (`vespid-agent`, echo engine, no API key needed), open a session pinned to it and stream an
# answer back, dispatch work to it as a worker would, and run a small workflow on it with
# `vespid-worker`, pair `vespid-agent node start` as a bridge node and run a command on it.
# The gateway and the node host keep running in the foreground until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/vespid-ccache}"
# As in test.sh: paths relative to the checkout, so another clone on this machine hits the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
cmake --preset release >/dev/null
cmake --build --preset release --target vespid-gateway vespid vespid-agent vespid-worker sqlite localbus \
  unix bridge ws

bin=build/release/bin
state="${VESPID_DEMO_STATE_DIR:-$PWD/build/demo-state}"
mkdir -p "$state"
# The service token workers use on /internal/v1 (kept across runs, private to this user).
if [ ! -s "$state/demo-internal-token" ]; then
  (umask 077 && openssl rand -hex 32 >"$state/demo-internal-token")
fi
export VESPID_INTERNAL_TOKEN="$(cat "$state/demo-internal-token")"

echo "== starting vespid-gateway (state dir $state, log $state/gateway.log)"
"$bin/vespid-gateway" run --state-dir "$state" >>"$state/gateway.log" 2>&1 &
gw=$!
agent=""
worker=""
bridge_node=""
cleanup() {
  [ -n "$bridge_node" ] && kill -TERM "$bridge_node" 2>/dev/null && wait "$bridge_node" 2>/dev/null
  [ -n "$worker" ] && kill -TERM "$worker" 2>/dev/null && wait "$worker" 2>/dev/null
  [ -n "$agent" ] && kill -TERM "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
  kill -TERM $gw 2>/dev/null
  wait $gw 2>/dev/null
}
trap cleanup EXIT INT TERM

for _ in $(seq 1 100); do
  "$bin/vespid" --state-dir "$state" status >/dev/null 2>&1 && break
  sleep 0.1
done

# Echoes each command (secrets shown as $TOKEN) before running it.
cli() {
  echo "\$ vespid $*" | sed 's/vat_[A-Za-z0-9_-]*/$TOKEN/g' >&2
  "$bin/vespid" --state-dir "$state" "$@"
}
cli org create demo || true   # already there on a second run
cli user create demo-admin --org demo --role owner || true
token="$(cli token create --user demo-admin --org demo --name demo 2>/dev/null)"
# The worker's body below names the org by id; everything else takes the name.
org_id="$(cli --json org list | grep -B1 '"name": *"demo"' | grep -o '"id": *"[^"]*"' | cut -d'"' -f4)"

echo "== pairing a demo node host (vespid-agent, echo engine)"
export VESPID_AGENT_CONFIG="$state/demo-agent.json"
if [ ! -s "$VESPID_AGENT_CONFIG" ]; then
  pairing="$(cli agents pairing-token --org demo)"
  "$bin/vespid-agent" connect --pairing-token "$pairing" --api http://127.0.0.1:3001 \
    --name demo-host --tags demo
fi
"$bin/vespid-agent" start --log-level warn 2>>"$state/agent.log" &
agent=$!
for _ in $(seq 1 100); do
  cli --json nodes list 2>/dev/null | grep -q '"status": *"online"' && break
  sleep 0.1
done

echo "== a control client: a session pinned to the node host, the answer streamed back"
sid="$(cli session create --api http://127.0.0.1:3001 --org demo --token "$token" \
  --engine vespid.echo.v1 --title demo --tag demo)"
cli session send --gateway ws://127.0.0.1:3002/ws/client --org demo --token "$token" \
  --session "$sid" --message "hello node host, this answer streams back word by word"
cli session events "$sid" --api http://127.0.0.1:3001 --org demo --token "$token"

echo "== dispatching work to it through the gateway"
cli dispatch send --org demo --user demo-admin --tag demo --wait \
  --payload '{"engine":"vespid.echo.v1","message":"hello from the gateway, through a node host"}'
echo "== and over HTTP, as a worker would (POST /internal/v1/dispatch-async)"
# The ids are uuids, as the reference requires; the user is the org's only member.
user_id="$(cli --json user list --org demo | grep -o '"id": *"[^"]*"' | head -1 | cut -d'"' -f4)"
run="$(cat /proc/sys/kernel/random/uuid)"
workflow="$(cat /proc/sys/kernel/random/uuid)"
# Shown as run (the token left out), so the answers below do not read as the lookup's.
echo "\$ curl -X POST http://127.0.0.1:3001/internal/v1/dispatch-async -H 'x-gateway-token: ...' -d '{... \"runId\":\"$run\", \"nodeId\":\"n1\", \"kind\":\"connector.action\" ...}'"
curl -s -X POST http://127.0.0.1:3001/internal/v1/dispatch-async \
  -H "x-gateway-token: $VESPID_INTERNAL_TOKEN" -H 'content-type: application/json' \
  -d "{\"organizationId\":\"$org_id\",
       \"requestedByUserId\":\"$user_id\",\"runId\":\"$run\",\"workflowId\":\"$workflow\",\"nodeId\":\"n1\",
       \"nodeType\":\"agent.execute\",\"attemptCount\":1,\"kind\":\"connector.action\",
       \"payload\":{\"connectorId\":\"echo\",\"actionId\":\"say\",\"input\":{\"hello\":\"world\"}}}"
echo
sleep 0.5
echo "\$ curl http://127.0.0.1:3001/internal/v1/results/$run:n1:1 -H 'x-gateway-token: ...'"
curl -s "http://127.0.0.1:3001/internal/v1/results/$run:n1:1" -H "x-gateway-token: $VESPID_INTERNAL_TOKEN"
echo

echo "== a workflow: vespid-worker runs it, its agent.run node on the demo node host"
"$bin/vespid-worker" --gateway http://127.0.0.1:3001 --id demo-worker --log-level warn \
  2>>"$state/worker.log" &
worker=$!
export VESPID_API=http://127.0.0.1:3001 VESPID_ORG=demo VESPID_TOKEN="$token"
# One demo workflow, made on the first run and reused after.
wf="$(cli --json workflow list | python3 -c 'import json, sys
print(next((w["id"] for w in json.load(sys.stdin)["workflows"]
            if w["name"] == "demo greeting" and w["status"] == "published"), ""))')"
if [ -z "$wf" ]; then
  wf="$(cli workflow create --name "demo greeting" --spec etc/examples/demo-workflow.json)"
  cli workflow publish "$wf" >/dev/null
fi
cli workflow run "$wf" --input '{"greet": true, "message": "hello from a workflow run"}' --wait
unset VESPID_API VESPID_ORG VESPID_TOKEN

echo "== a bridge node: vespid-agent in node mode (bridge.v1), allowed to run uname and nothing else"
export VESPID_AGENT_NODE_STATE="$state/demo-bridge-node.json"
"$bin/vespid-agent" node start --host 127.0.0.1 --port 18790 --name demo-bridge-node \
  --allow uname --log-level warn 2>>"$state/bridge-node.log" &
bridge_node=$!
# First run: it asks to pair and waits for an operator; later runs come back with their token.
node_id=""
for _ in $(seq 1 100); do
  node_id="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("nodeId", ""))' \
    "$VESPID_AGENT_NODE_STATE" 2>/dev/null || true)"
  [ -n "$node_id" ] && break
  sleep 0.1
done
for _ in $(seq 1 100); do
  cli --json nodes list 2>/dev/null | grep -q '"displayName": *"demo-bridge-node"' && break
  request="$(cli --json nodes pending 2>/dev/null | python3 -c 'import json, sys
print(next((p["requestId"] for p in json.load(sys.stdin)["pending"]
            if p["nodeId"] == sys.argv[1]), ""))' "$node_id" || true)"
  if [ -n "$request" ]; then
    cli nodes approve "$request" --org demo
    break
  fi
  sleep 0.1
done
for _ in $(seq 1 100); do
  cli --json nodes describe demo-bridge-node 2>/dev/null | grep -q '"status": *"online"' && break
  sleep 0.1
done
cli nodes invoke demo-bridge-node system.run --params '{"command": ["uname", "-sr"]}'
cli nodes list
echo "== the web control client: open this one-time sign-in link in a browser on this machine"
cli web login --user demo-admin --org demo
echo "== the gateway, the node host and the worker are running; press Ctrl-C to stop them"
wait $gw
