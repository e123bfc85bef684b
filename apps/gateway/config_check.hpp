// `vespid-gateway config check`: every problem `run` would stop at (and every warning it would
// log), reported at once, short of binding sockets and opening the database.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace vespid::app {

// `cfg` comes from config::load_reporting_all, its problems still in it. Prints each error and
// warning on stderr, then a summary; exit status 0 (no errors; warnings allowed unless
// `strict`) or 2.
int config_check(const config::GatewayConfig& cfg, const std::vector<std::string>& plugin_dirs,
                 bool strict);

}  // namespace vespid::app
