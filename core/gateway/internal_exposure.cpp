#include "gateway/internal_exposure.hpp"

#include <boost/asio/ip/address.hpp>

namespace vespid::core {

namespace {

using nlohmann::json;

constexpr std::string_view kInternalPrefix = "/internal/v1/";

bool is_loopback_address(const std::string& text) {
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(text, ec);
  if (ec) return false;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6()).is_loopback();
  }
  return addr.is_loopback();  // 127.0.0.0/8, ::1
}

// Where a ws instance listens, as the operator wrote it, or "" when that is loopback only.
std::string address_beyond_loopback(const json& cfg) {
  // The ws plugin's keys: "bind" (a bind spec) or "host" (an address, "loopback", "lan");
  // neither means 127.0.0.1.
  std::string spec = "127.0.0.1";
  if (auto b = cfg.find("bind"); b != cfg.end() && b->is_string()) {
    spec = b->get<std::string>();
  } else if (auto h = cfg.find("host"); h != cfg.end() && h->is_string()) {
    spec = h->get<std::string>();
  }
  if (spec == "loopback" || is_loopback_address(spec)) return "";
  return spec == "lan" ? "lan (0.0.0.0)" : spec;
}

// Whether one route of the ws config answers some path under /internal/v1/.
bool serves_internal_api(const json& route) {
  if (!route.is_object() || route.value("websocket", false) || route.value("static", false)) {
    return false;
  }
  if (auto p = route.find("prefix"); p != route.end() && p->is_string()) {
    const std::string& prefix = p->get_ref<const std::string&>();
    // "/" and "/internal/" reach it as surely as "/internal/v1/" and its sub-prefixes do.
    return kInternalPrefix.substr(0, prefix.size()) == prefix ||
           prefix.rfind(kInternalPrefix, 0) == 0;
  }
  if (auto p = route.find("path"); p != route.end() && p->is_string()) {
    return p->get_ref<const std::string&>().rfind(kInternalPrefix, 0) == 0;
  }
  return false;
}

// The internal routes an instance's routes serve, e.g. "/internal/v1/ and /ws/operator".
std::string internal_routes_of(const json& cfg) {
  auto routes = cfg.find("routes");
  if (routes == cfg.end() || !routes->is_array()) {
    return std::string(kInternalPrefix) + " and /ws/operator";  // the plugin's built-in routes
  }
  std::vector<std::string> found;
  bool api = false;
  for (const auto& r : *routes) {
    if (!api && serves_internal_api(r)) {
      api = true;
      found.emplace_back(kInternalPrefix);
    }
    if (r.is_object() && r.value("websocket", false) && r.value("dialect", "") == "operator.v1" &&
        r.contains("path") && r["path"].is_string()) {
      found.push_back(r["path"].get<std::string>() + " (operator.v1)");
    }
  }
  std::string out;
  for (size_t i = 0; i < found.size(); ++i) {
    out += (i == 0 ? "" : (i + 1 == found.size() ? " and " : ", ")) + found[i];
  }
  return out;
}

bool is_ws_plugin(const std::string& ref) {
  return ref == "ws" || (ref.size() > 3 && ref.compare(ref.size() - 3, 3, "/ws") == 0);
}

}  // namespace

std::vector<std::string> internal_route_exposures(const config::GatewayConfig& cfg) {
  std::vector<std::string> out;
  for (size_t i = 0; i < cfg.instances.size(); ++i) {
    const auto& inst = cfg.instances[i];
    if (!is_ws_plugin(inst.plugin) || !inst.config.is_object()) continue;
    const std::string address = address_beyond_loopback(inst.config);
    if (address.empty()) continue;
    const std::string routes = internal_routes_of(inst.config);
    if (routes.empty()) continue;
    const bool built_in = !inst.config.contains("routes");
    out.push_back("plugins.instances[" + std::to_string(inst.position) + "] (\"" + inst.name +
                  "\") serves the internal routes " + routes + " beyond loopback, on " + address +
                  (built_in ? " (it has no \"routes\", so it serves every route)" : "") +
                  "; give it \"routes\" without them and serve them from an instance on "
                  "127.0.0.1");
  }
  return out;
}

}  // namespace vespid::core
