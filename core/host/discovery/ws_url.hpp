// Where a node host should connect after pairing (gatewayWsUrl), when agents.gateway_ws_url does
// not say: the first ws listener that serves /ws, at the host name the pairing request used.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace vespid::core {

struct NodeListener {
  int port = 0;
  bool tls = false;
};

// The /ws listener described by a ws plugin instance's config, if it serves /ws.
std::optional<NodeListener> node_listener_of(const nlohmann::json& ws_instance_config);

// "ws://<host>:<port>/ws" (wss with TLS). `host_header` is the request's Host ("a.b:3001",
// "[::1]:3001"); its port is dropped. An empty header means 127.0.0.1.
std::string gateway_ws_url(const NodeListener& listener, const std::string& host_header);

}  // namespace vespid::core
