// The reference node agent's own zod schemas applied to the execute frames this gateway sent
// (JSON lines on stdin). run.sh puts this file in a scratch directory beside two files it takes
// from a checkout of vespid-ai/vespid at b83a043 (workflow.ts, execute-agent-run.ts), with zod
// installed there. A frame the reference agent would drop or refuse is printed with zod's issues
// and the exit code is 1. Nothing of the reference is kept in this repository.
import { z } from "zod";
import * as fs from "node:fs";
import * as path from "node:path";

const here = path.dirname(new URL(import.meta.url).pathname);
const { workflowNodeSchema } = await import(path.join(here, "workflow.ts"));
// agentRunRemotePayloadSchema is not exported: its definition is cut out of the file and
// evaluated with this zod.
const source = fs.readFileSync(path.join(here, "execute-agent-run.ts"), "utf8");
const match = source.match(/const agentRunRemotePayloadSchema = ([\s\S]*?\n\}\));/);
if (!match) throw new Error("agentRunRemotePayloadSchema not found in execute-agent-run.ts");
const agentRunRemotePayloadSchema = new Function("z", `return ${match[1]};`)(z);
// The execute frame as apps/node-agent/src/runtime.ts parses it (a frame failing it is dropped).
const executeSchema = z.object({
  type: z.literal("execute"),
  requestId: z.string().min(1),
  organizationId: z.string().uuid(),
  userId: z.string().uuid(),
  kind: z.enum(["connector.action", "agent.execute", "agent.run"]),
  payload: z.unknown(),
  secret: z.string().min(1).optional(),
});

let refused = 0;
for (const line of fs.readFileSync(0, "utf8").split("\n").filter(Boolean)) {
  const frame = JSON.parse(line);
  const e = executeSchema.safeParse(frame);
  if (!e.success) {
    refused++;
    console.log("DROPPED", frame.requestId, JSON.stringify(e.error.issues));
    continue;
  }
  if (frame.kind !== "agent.run") {
    console.log("ok", frame.requestId, frame.kind);
    continue;
  }
  const p = agentRunRemotePayloadSchema.safeParse(frame.payload);
  if (!p.success) {
    refused++;
    console.log("INVALID_AGENT_RUN_PAYLOAD", frame.requestId, JSON.stringify(p.error.issues));
    continue;
  }
  const n = workflowNodeSchema.safeParse(p.data.node);
  if (!n.success || n.data.type !== "agent.run") {
    refused++;
    console.log("INVALID_AGENT_RUN_NODE", frame.requestId, JSON.stringify(n.error?.issues));
    continue;
  }
  console.log("ok", frame.requestId, "agent.run", n.data.config.engine?.id, n.data.config.llm.model);
}
process.exit(refused ? 1 : 0);
