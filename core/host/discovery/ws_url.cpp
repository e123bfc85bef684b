#include "host/discovery/ws_url.hpp"

#include <cctype>

namespace vespid::core {

using nlohmann::json;

std::optional<NodeListener> node_listener_of(const json& cfg) {
  if (!cfg.is_object()) return std::nullopt;
  bool serves = true;  // the ws plugin's default routes include /ws
  if (auto routes = cfg.find("routes"); routes != cfg.end() && routes->is_array()) {
    serves = false;
    for (const auto& r : *routes) {
      if (r.is_object() && r.value("path", "") == "/ws" &&
          r.value("dialect", "") == "vespid.node.v1") {
        serves = true;
      }
    }
  }
  if (!serves) return std::nullopt;
  NodeListener l;
  l.port = cfg.value("port", 3001);
  l.tls = cfg.value("tls", false);
  return l;
}

std::string gateway_ws_url(const NodeListener& listener, const std::string& host_header) {
  std::string host = host_header;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    host = close == std::string::npos ? std::string() : host.substr(0, close + 1);
  } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  // Only host-name characters: the header is the peer's to choose.
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
          c == '[' || c == ']')) {
      host.clear();
      break;
    }
  }
  if (host.empty()) host = "127.0.0.1";
  return std::string(listener.tls ? "wss://" : "ws://") + host + ":" +
         std::to_string(listener.port) + "/ws";
}

}  // namespace vespid::core
