// The subcommands of vespid-gateway other than `run`.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace vespid::app {

// Lists every module in the plugin directories and whether it would load.
int list_plugins(const std::vector<std::string>& dirs, bool as_json);
// Prints the effective configuration, secrets masked.
int config_show(const config::GatewayConfig& cfg);
// Prints the SHA-256 fingerprint of the gateway's TLS certificate (generating it first if the
// gateway would), for nodes to pin.
int tls_fingerprint(const config::GatewayConfig& cfg, bool as_json);

}  // namespace vespid::app
