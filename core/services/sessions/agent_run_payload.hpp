// The `execute` payload of one session turn (kind agent.run), in the reference's shape: the
// workflow node it would be (`node: {id:"agent", type:"agent.run", config:{llm, engine, prompt,
// tools, limits, ...}}`) plus the run around it (runId and workflowId are the session id,
// attemptCount the turn's, runInput the user's message, steps the conversation so far). The
// reference node agent checks this shape before it runs anything (docs/wire-facts.md), and
// vespid-agent reads the same shape, so either agent serves either gateway.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace vespid::sessions {

// The node id of a session turn; the request id is "<sessionId>:agent:<attemptCount>".
inline constexpr const char* kTurnNodeId = "agent";

struct TurnInput {
  const nlohmann::json& session;  // the stored session record
  int attempt_count;              // the turn's user_message seq + 1, as the reference counts
  const std::string& message;     // what the user said
  const nlohmann::json& history;  // [{role, content}], oldest first, without `message`
  const std::string& github_api_base_url;
};

nlohmann::json agent_run_payload(const TurnInput& in);

// The session's limits with the reference's defaults filled in and every number clamped to the
// range its node schema accepts (a stored value out of range would fail the whole turn there).
nlohmann::json normalized_limits(const nlohmann::json& stored);

}  // namespace vespid::sessions
