// Which ws listeners serve the internal routes (/internal/v1/ for workers, the operator.v1
// WebSocket /ws/operator) beyond loopback. Read from the instances' configuration, without
// starting them, so that `config check` says the same as the warning `run` logs at start.
//
// "Beyond loopback" is any address outside 127.0.0.0/8 and ::1: the unspecified addresses
// ("lan", 0.0.0.0, ::), LAN and tailnet addresses, and the bind specs resolved at run time
// (tailnet, auto), which are meant to reach other machines.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace vespid::core {

// One warning per instance that exposes internal routes, naming the instance, the routes, the
// address and what to change. Empty when every internal route stays on loopback.
std::vector<std::string> internal_route_exposures(const config::GatewayConfig& cfg);

}  // namespace vespid::core
