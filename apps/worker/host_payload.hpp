// What the worker sends to a node host for an agent.run, agent.execute or connector.action node:
// the dispatch-async body and, inside it, the payload in the reference worker's shape for each
// kind (docs/worker.md shows them). Pure.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "run_walk.hpp"

namespace vespid::worker {

// The run around a node, as the claim gave it.
struct RunFacts {
  std::string run_id, workflow_id, organization_id, requested_by_user_id;
  int attempt_count = 1;
  nlohmann::json input;  // the run's input, any JSON
};

// The GitHub API base the reference puts in every payload's env (its connectors read it).
inline constexpr const char* kGithubApiBaseUrl = "https://api.github.com";

// agent.run, agent.execute and connector.action: the kinds a node host runs.
bool is_host_node_type(const std::string& type);

// The node's timeout: config.limits.timeoutMs, else config.timeoutMs, else (agent.execute)
// config.sandbox.timeoutMs, else 60000; then clamped to [1000, max_ms].
int64_t node_timeout_ms(const nlohmann::json& node_spec, int64_t max_ms);

// "<runId>:<nodeId>:<attemptCount>", as the gateway computes it.
std::string request_id_for(const std::string& run_id, const std::string& node_id, int attempt);

struct HostCall {
  bool ok = false;
  std::string error;    // when not ok: "CODE: message"; the spec itself is the problem
  nlohmann::json body;  // when ok: the dispatch-async body
  std::string request_id;
  int64_t timeout_ms = 0;
};

// The dispatch for `node` at `attempt` (the run's attempt, or the one a dead worker's blocked
// request id names). `steps` is completed_steps() of the walk so far (agent.run carries it).
// Fails with CLOUD_EXECUTION_UNAVAILABLE unless config.execution.mode is "node", and with
// INVALID_NODE_CONFIG when the node cannot be dispatched as written.
HostCall host_call_for(const PlanNode& node, const RunFacts& run, int attempt,
                       const nlohmann::json& steps, int64_t max_timeout_ms);

// The reference's limits for agent.run with its defaults filled in and each clamped to its range
// (maxTurns 8, maxToolCalls 20, timeoutMs 60000, maxOutputChars 50000, maxRuntimeChars 200000).
nlohmann::json normalized_agent_limits(const nlohmann::json& limits);

}  // namespace vespid::worker
