// Runs one `execute` (agent.run, agent.execute, connector.action) to its result, streaming
// events through a callback. Blocking: call it off the I/O thread. Used by the gateway link and
// by `vespid-agent exec`.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "toolset_skills.hpp"

namespace vespid::agent {

struct ExecutorConfig {
  std::chrono::milliseconds echo_delay{20};            // between words of vespid.echo.v1
  std::chrono::milliseconds default_timeout{300'000};  // when the payload has no limits.timeoutMs
  SkillCaps skill_caps;
  const std::atomic<bool>* stopping = nullptr;   // set when the node host shuts down
  const std::atomic<bool>* cancelled = nullptr;  // set when the gateway cancels this execute
};

struct ExecResult {
  bool ok = false;
  nlohmann::json output;  // when ok
  std::string error;      // when not ok: `CODE: message`

  // The `execute_result` frame.
  nlohmann::json frame(const std::string& request_id) const;
};

// The engines this node host has (advertised in hello) and the built-in connectors.
const std::vector<std::string>& available_engines();
const std::vector<std::string>& available_connectors();
const std::vector<std::string>& supported_kinds();

// Each event is `{seq, ts, kind, level, message?, payload?}`, seq from 1 and gap-free.
using EventCallback = std::function<void(const nlohmann::json& event)>;

ExecResult run_execute(const std::string& kind, const nlohmann::json& payload,
                       const EventCallback& on_event, const ExecutorConfig& config);

}  // namespace vespid::agent
