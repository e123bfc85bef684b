// listen.api_port, listen.ws_port, listen.bridge_port, listen.web_port: one key (or
// VESPID_LISTEN_*_PORT) moves one listener, without writing out the instance list that holds it.
// Each names the instance of the default list it moves ("api", "ws", "bridge", "web"), in an
// explicit list too.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vespid::config {

struct GatewayConfig;

// Writes each set port key into its instance's config.port in `effective` (the whole
// configuration). A port key whose instance is not in the list is an error in `errors`.
void apply_listen_ports(nlohmann::json& effective, std::vector<std::string>& errors);

// What to change to move the instance named `instance` to another port, for "address in use":
// `listen.api_port (VESPID_LISTEN_API_PORT)`, or `plugins.instances[3].config.port`.
std::string port_setting_of(const GatewayConfig& cfg, const std::string& instance);

}  // namespace vespid::config
