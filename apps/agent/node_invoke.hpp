// The commands a bridge node answers (`invoke {id, command, paramsJSON}`): system.run and
// system.which, in the reference node host's shapes (clawdbot src/node-host/runner.ts), behind an
// explicit allowlist. Each invoke becomes one `invoke-res` and, for system.run, the reference's
// `exec.started` / `exec.finished` / `exec.denied` events. Runs on a worker thread: system.run
// blocks until the command ends.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "exec_allowlist.hpp"
#include "system_run_params.hpp"

namespace vespid::agent {

// What a node declares in hello and pair-request.
std::vector<std::string> node_commands();

struct NodeInvokeConfig {
  ExecAllowlist allow;
  RunLimits limits;
  std::map<std::string, std::string> own_env;  // own_safe_environment(), read once
  std::size_t max_line_bytes = 1'000'000;      // under the gateway's 1 MiB bridge line limit
  const std::atomic<bool>* stop = nullptr;
};

// Answers one invoke frame. `emit` receives the event frames ({"type":"event",...}) to send
// before the answer; the return value is the `invoke-res` frame as one line of JSON (no newline).
std::string handle_invoke(const nlohmann::json& invoke, const NodeInvokeConfig& cfg,
                          const std::function<void(nlohmann::json)>& emit);

// {"type":"invoke-res","id":id,"ok":false,"error":{"code":code,"message":message}}.
nlohmann::json invoke_error(const nlohmann::json& id, const std::string& code,
                            const std::string& message);

// Shrinks stdout/stderr of a system.run payload (keeping their starts, at UTF-8 boundaries) until
// the invoke-res frame carrying it is at most `max_line_bytes`, setting truncated: JSON escaping
// can make capped output several times longer on the wire. Returns the frame text.
std::string fit_run_response(const nlohmann::json& id, nlohmann::json& payload,
                             std::size_t max_line_bytes);

}  // namespace vespid::agent
