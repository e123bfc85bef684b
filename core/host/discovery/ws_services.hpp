// What a ws instance announces to discovery, read from its configuration without starting it
// (for `vespid-gateway dns-sd zone`). The running ws plugin decides the same from its parsed
// routes (plugins/ws/routes.hpp, served_by), so the zone and Bonjour carry the same TXT.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vespid::core::discovery {

struct WsServices {
  std::string service;  // "gateway" (serves /ws), "api" (only /v1/), or "" (neither)
  bool api = false;     // serves the REST API (/v1/), for ListenerFacts::api
};

// `ws_instance_config` is the instance's "config" object; without "routes" the plugin's default
// routes (every route) apply.
WsServices ws_services_of(const nlohmann::json& ws_instance_config);

}  // namespace vespid::core::discovery
