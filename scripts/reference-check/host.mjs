// A node host played for scripts/reference-check/run.sh: pairs with a pairing token, says hello,
// appends every execute frame it gets to a file and answers it at once.
import WebSocket from "ws";
const [api, pairingToken, out] = process.argv.slice(2);
const fs = await import("node:fs");
const r = await fetch(`${api}/v1/agents/pair`, { method: "POST", headers: { "content-type": "application/json" },
  body: JSON.stringify({ pairingToken, name: "zod-host", agentVersion: "0.0.1", capabilities: { kinds: ["agent.run"] } }) });
const paired = await r.json();
if (!r.ok) { console.error("pair failed", paired); process.exit(1); }
const ws = new WebSocket(paired.gatewayWsUrl, { headers: { authorization: `Bearer ${paired.agentToken}` } });
ws.on("open", () => { ws.send(JSON.stringify({ type: "hello", agentVersion: "0.0.1", name: "zod-host" })); console.error("connected", paired.agentId); });
ws.on("message", (d) => {
  const m = JSON.parse(d.toString());
  if (m.type !== "execute") return;
  fs.appendFileSync(out, JSON.stringify(m) + "\n");
  ws.send(JSON.stringify({ type: "execute_received", requestId: m.requestId }));
  ws.send(JSON.stringify({ type: "execute_result", requestId: m.requestId, status: "succeeded", output: { text: "ok" } }));
});
ws.on("close", () => process.exit(0));
