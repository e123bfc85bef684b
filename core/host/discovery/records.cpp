#include "host/discovery/records.hpp"

#include <unistd.h>

#include <boost/asio/ip/address.hpp>

namespace vespid::core::discovery {

namespace {

std::vector<std::string> string_list(const config::GatewayConfig& cfg, const std::string& path,
                                     std::vector<std::string> fallback) {
  const nlohmann::json* v = config::lookup_public(cfg, path);
  if (v == nullptr || !v->is_array()) return fallback;
  std::vector<std::string> out;
  for (const auto& e : *v) {
    if (e.is_string() && !e.get_ref<const std::string&>().empty()) out.push_back(e);
  }
  return out;
}

std::string host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "vespid";
  std::string h = host;
  if (auto dot = h.find('.'); dot != std::string::npos) h.resize(dot);
  return h;
}

const ListenerFacts* first_published(const std::vector<ListenerFacts>& ls,
                                     const std::string& service) {
  for (const auto& l : ls) {
    if (l.service == service && beyond_loopback(l)) return &l;
  }
  return nullptr;
}

// Node hosts pair over the REST API, so every record says where it is: the first published
// listener that serves /v1/, whether it is the /ws listener itself or one of its own.
const ListenerFacts* first_published_api(const std::vector<ListenerFacts>& ls) {
  for (const auto& l : ls) {
    if (l.serves_api() && beyond_loopback(l)) return &l;
  }
  return nullptr;
}

}  // namespace

Settings settings_from(const config::GatewayConfig& cfg, int bridge_protocol) {
  Settings s;
  s.bridge_protocol = bridge_protocol;
  s.bridge_types = string_list(cfg, "discovery.bridge_service_types", s.bridge_types);
  s.gateway_types = string_list(cfg, "discovery.gateway_service_types", s.gateway_types);
  s.minimal = cfg.boolean("discovery.minimal");
  const std::string host = host_name();
  s.display_name = cfg.string("discovery.display_name");
  if (s.display_name.empty()) s.display_name = "Vespid Gateway on " + host;
  s.lan_host = host + ".local";
  s.tailnet_dns = cfg.string("discovery.tailnet_dns");
  return s;
}

bool beyond_loopback(const ListenerFacts& l) {
  for (const auto& a : l.addresses) {
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(a, ec);
    if (ec || !addr.is_loopback()) return true;
  }
  return false;
}

std::vector<Record> compose(const Settings& s, const std::vector<ListenerFacts>& listeners) {
  const ListenerFacts* bridge = first_published(listeners, "bridge");
  const ListenerFacts* gateway = first_published(listeners, "gateway");
  const ListenerFacts* api = first_published_api(listeners);
  std::vector<Record> out;
  for (const auto& l : listeners) {
    if (!beyond_loopback(l)) continue;
    const bool is_bridge = l.service == "bridge";
    if (!is_bridge && l.service != "gateway") continue;  // "api" has no record of its own
    // The ports of the other service come from its first published listener; this listener's
    // own facts always describe itself.
    const ListenerFacts* b = is_bridge ? &l : bridge;
    const ListenerFacts* g = is_bridge ? gateway : &l;
    std::vector<std::string> txt{"role=gateway"};
    if (!s.minimal) {
      txt.push_back("displayName=" + s.display_name);
      txt.push_back("lanHost=" + s.lan_host);
    }
    if (b) txt.push_back("bridgePort=" + std::to_string(b->port));
    if (g) txt.push_back("gatewayPort=" + std::to_string(g->port));
    if (api) txt.push_back("apiPort=" + std::to_string(api->port));
    if (!s.minimal) {
      if (b && b->tls) {
        txt.push_back("bridgeTls=1");
        if (!b->tls_sha256.empty()) txt.push_back("bridgeTlsSha256=" + b->tls_sha256);
      }
      if (g && g->tls) {
        txt.push_back("gatewayTls=1");
        if (!g->tls_sha256.empty()) txt.push_back("gatewayTlsSha256=" + g->tls_sha256);
      }
      if (api && api->tls) {
        txt.push_back("apiTls=1");
        if (!api->tls_sha256.empty()) txt.push_back("apiTlsSha256=" + api->tls_sha256);
      }
      if (!s.tailnet_dns.empty()) txt.push_back("tailnetDns=" + s.tailnet_dns);
      if (s.bridge_protocol > 0) txt.push_back("protocol=" + std::to_string(s.bridge_protocol));
    }
    // Two listeners of one service (plain and TLS bridges) need distinct instance names.
    std::string name = s.display_name;
    if ((is_bridge && b != bridge) || (!is_bridge && g != gateway)) {
      name += " (" + l.instance + ")";
    }
    for (const auto& type : is_bridge ? s.bridge_types : s.gateway_types) {
      out.push_back(Record{l.instance + "/" + type, name, type, l.port, txt});
    }
  }
  return out;
}

}  // namespace vespid::core::discovery
