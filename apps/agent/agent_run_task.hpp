// Reads an execute payload into the task an engine runs. Two shapes:
// - the reference's agent.run (what both this gateway and the reference gateway send for session
//   turns and workflow agent nodes): `{nodeId, node: {type: "agent.run", config: {engine: {id},
//   llm: {model}, prompt: {system?, instructions}, limits?}}, runInput, steps, toolset?, ...}`;
// - the flat shape of hand-written dispatches: `{engine, model, instructions, message | prompt,
//   history?, limits?, toolset?}`.
// An agent.run payload with a `node` member is read as the first.
#pragma once

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engines/engine.hpp"

namespace vespid::agent {

struct AgentRun {
  AgentTask task;                    // everything but the deadline, which the executor sets
  nlohmann::json toolset;            // null when the payload has none
  std::size_t max_output_chars = 0;  // 0: no cap
  std::optional<std::chrono::milliseconds> timeout;
};

// Fills `out` and returns an empty string, or returns the failure (`CODE: message`):
// INVALID_AGENT_RUN_PAYLOAD / INVALID_AGENT_RUN_NODE (the reference agent's codes) for the
// reference shape, INVALID_PAYLOAD for the flat one.
std::string read_agent_run(const std::string& kind, const nlohmann::json& payload, AgentRun& out);

}  // namespace vespid::agent
