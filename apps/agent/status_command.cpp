// `vespid-agent status`: what is saved (the token's secret hidden) and whether a `start` runs
// for these credentials and is connected, as `tailscale status` answers "is it up?" and not only
// "is it configured?". The running agent's side is run_state.hpp.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "credentials.hpp"
#include "run_state.hpp"

namespace vespid::agent {

namespace {

// {"running": bool, "stale": bool, ...the state file's fields when there is one}.
nlohmann::json process_json(const std::optional<RunState>& run) {
  if (!run) return {{"running", false}, {"stale", false}};
  nlohmann::json j = run->to_json();
  j["running"] = run->alive;
  j["stale"] = !run->alive;
  if (!run->alive) {
    // What a dead process wrote about its connection is not true any more.
    j["connected"] = false;
    j.erase("gatewayUrl");
    j.erase("connectedSince");
  }
  return j;
}

std::string start_command(const CommonOptions& common, const std::string& path) {
  return "vespid-agent start" + (common.config.empty() ? std::string() : " --config " + path);
}

std::string process_text(const std::optional<RunState>& run, const std::string& start) {
  if (!run) return "not running (start it: " + start + ")";
  const std::string pid = std::to_string(run->pid);
  if (!run->alive) {
    return "not running: pid " + pid + " wrote " + run_state_path(run->credentials_file) +
           " but is gone (killed, or the machine restarted); start it: " + start;
  }
  std::string out = "running (pid " + pid + ", since " + run->started_at + "), ";
  if (run->connected)
    return out + "connected to " + run->gateway_url + " since " + run->connected_since;
  return out + "not connected to the gateway (retrying; its log says why)";
}

}  // namespace

int cmd_status(const CommonOptions& common, const StatusOptions& opts) {
  const std::string path = resolve_credentials_path(common.config);
  const Credentials c = load_credentials(path);
  const std::optional<RunState> run = read_run_state(path);
  if (opts.json) {
    const nlohmann::json j = {{"credentialsFile", path},
                              {"agentId", c.agent_id},
                              {"agentToken", redact_token(c.agent_token)},
                              {"organizationId", c.organization_id},
                              {"gatewayWsUrl", c.gateway_ws_url},
                              {"moreGatewayWsUrls", c.more_gateway_ws_urls},
                              {"apiUrl", c.api_url},
                              {"name", c.name},
                              {"tags", c.tags},
                              {"gatewayTlsSha256", c.gateway_tls_sha256},
                              {"apiTlsSha256", c.api_tls_sha256},
                              {"agentVersion", agent_version()},
                              {"process", process_json(run)}};
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::string gateways = c.gateway_ws_url;
  for (const auto& u : c.more_gateway_ws_urls) gateways += ", " + u;
  std::string tags;
  for (const auto& t : c.tags) tags += (tags.empty() ? "" : ", ") + t;
  std::cout << "node host:    " << c.agent_id << " (\"" << c.name << "\") in organization "
            << c.organization_id << "\n"
            << "agent:        " << process_text(run, start_command(common, path)) << "\n"
            << "gateway:      " << gateways << "\n"
            << "api:          " << c.api_url << "\n"
            << "tags:         " << (tags.empty() ? "-" : tags) << "\n";
  if (!c.gateway_tls_sha256.empty()) {
    std::cout << "tls pin:      sha256 " << c.gateway_tls_sha256 << "\n";
  }
  std::cout << "credentials:  " << path << " (token " << redact_token(c.agent_token) << ")\n"
            << "version:      " << agent_version() << "\n";
  return kExitOk;
}

}  // namespace vespid::agent
