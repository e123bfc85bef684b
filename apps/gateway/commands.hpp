// The subcommands of vespid-gateway other than `run`.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace vespid::app {

// Lists every module in the plugin directories and whether it would load.
int list_plugins(const std::vector<std::string>& dirs, bool as_json);
// Validates the configuration; prints where it came from.
int config_check(const config::GatewayConfig& cfg);
// Prints the effective configuration, secrets masked.
int config_show(const config::GatewayConfig& cfg);

}  // namespace vespid::app
