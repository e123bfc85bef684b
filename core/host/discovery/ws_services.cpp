#include "host/discovery/ws_services.hpp"

#include "host/discovery/ws_url.hpp"

namespace vespid::core::discovery {

namespace {

// Whether a configured route would answer the pairing request, POST /v1/agents/pair.
bool routes_pairing(const nlohmann::json& r) {
  if (!r.is_object() || r.value("dialect", "") != "rest.v1" || r.value("websocket", false)) {
    return false;
  }
  constexpr std::string_view kPair = "/v1/agents/pair";
  if (auto p = r.find("prefix"); p != r.end() && p->is_string()) {
    return kPair.substr(0, p->get_ref<const std::string&>().size()) == *p;
  }
  return r.value("path", "") == kPair;
}

}  // namespace

WsServices ws_services_of(const nlohmann::json& cfg) {
  bool api = true;  // the default routes include /v1/
  if (cfg.is_object()) {
    if (auto routes = cfg.find("routes"); routes != cfg.end() && routes->is_array()) {
      api = false;
      for (const auto& r : *routes) api = api || routes_pairing(r);
    }
  }
  const bool node_ws =
      node_listener_of(cfg.is_object() ? cfg : nlohmann::json::object()).has_value();
  WsServices out;
  out.service = node_ws ? "gateway" : (api ? "api" : "");
  out.api = api;
  return out;
}

}  // namespace vespid::core::discovery
