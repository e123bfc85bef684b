// What the reference node agent (vespid-ai/vespid b83a043, apps/node-agent) checks before it runs
// an `execute`, written here from reading its schemas: the frame (runtime.ts, the execute
// parse), the agent.run payload (agent-run/execute-agent-run.ts) and the workflow node in it
// (packages/workflow/src/index.ts, agentRunNodeSchema). A frame it refuses is either dropped
// without an answer (a bad frame) or fails INVALID_AGENT_RUN_PAYLOAD / INVALID_AGENT_RUN_NODE.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vespid::test {

bool is_uuid(const nlohmann::json& v);

// Empty when the reference agent would run this execute frame; else what it would refuse.
std::string reference_agent_refusal(const nlohmann::json& execute);

}  // namespace vespid::test
