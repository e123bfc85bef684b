#include "gateway_record.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <tuple>

#include "tls_pin.hpp"

namespace vespid::agent {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Lower-cased key -> value, first occurrence only.
std::map<std::string, std::string> txt_map(const std::vector<std::string>& txt) {
  std::map<std::string, std::string> out;
  for (const auto& kv : txt) {
    const auto eq = kv.find('=');
    std::string key = lower(kv.substr(0, eq));
    if (key.empty()) continue;
    out.emplace(std::move(key), eq == std::string::npos ? std::string() : kv.substr(eq + 1));
  }
  return out;
}

std::uint16_t port_of(const std::map<std::string, std::string>& txt, const std::string& key,
                      std::vector<std::string>& problems) {
  const auto it = txt.find(lower(key));
  if (it == txt.end()) return 0;
  const std::string& v = it->second;
  long n = 0;
  bool digits = !v.empty() && v.size() <= 5;
  for (char c : v) {
    if (!std::isdigit(static_cast<unsigned char>(c))) digits = false;
  }
  if (digits) n = std::stol(v);
  if (!digits || n < 1 || n > 65535) {
    problems.push_back(key + "=" + v + " is not a port; ignored");
    return 0;
  }
  return static_cast<std::uint16_t>(n);
}

bool flag_of(const std::map<std::string, std::string>& txt, const std::string& key) {
  const auto it = txt.find(lower(key));
  return it != txt.end() && (it->second == "1" || lower(it->second) == "true");
}

std::string pin_of(const std::map<std::string, std::string>& txt, const std::string& key,
                   std::vector<std::string>& problems) {
  const auto it = txt.find(lower(key));
  if (it == txt.end()) return {};
  if (auto pin = normalize_sha256(it->second)) return *pin;
  problems.push_back(key + " is not a SHA-256 fingerprint; ignored");
  return {};
}

std::string text_of(const std::map<std::string, std::string>& txt, const std::string& key) {
  const auto it = txt.find(lower(key));
  return it == txt.end() ? std::string() : it->second;
}

DiscoveredGateway read(const ResolvedService& s, const std::map<std::string, std::string>& txt) {
  DiscoveredGateway g;
  g.name = s.name;
  g.type = s.type;
  g.domain = s.domain;
  g.host = s.host_name;
  g.port = s.port;
  g.display_name = text_of(txt, "displayName");
  g.lan_host = text_of(txt, "lanHost");
  g.tailnet_dns = text_of(txt, "tailnetDns");
  g.gateway_port = port_of(txt, "gatewayPort", g.problems);
  g.api_port = port_of(txt, "apiPort", g.problems);
  g.bridge_port = port_of(txt, "bridgePort", g.problems);
  g.gateway_tls = flag_of(txt, "gatewayTls");
  g.api_tls = flag_of(txt, "apiTls");
  g.bridge_tls = flag_of(txt, "bridgeTls");
  // A fingerprint is only a pin for a listener that says it speaks TLS.
  if (g.gateway_tls) g.gateway_tls_sha256 = pin_of(txt, "gatewayTlsSha256", g.problems);
  if (g.api_tls) g.api_tls_sha256 = pin_of(txt, "apiTlsSha256", g.problems);
  if (g.bridge_tls) g.bridge_tls_sha256 = pin_of(txt, "bridgeTlsSha256", g.problems);
  return g;
}

bool is_ipv6(const std::string& a) {
  return a.find(':') != std::string::npos;
}

std::string first_address(const DiscoveredGateway& g) {
  return g.addresses.empty() ? std::string() : g.addresses.front();
}

}  // namespace

std::string url_host(const std::string& address) {
  return is_ipv6(address) ? "[" + address + "]" : address;
}

std::string DiscoveredGateway::api_url() const {
  const std::string a = first_address(*this);
  if (a.empty() || api_port == 0) return {};
  return std::string(api_tls ? "https://" : "http://") + url_host(a) + ":" +
         std::to_string(api_port);
}

std::string DiscoveredGateway::gateway_ws_url() const {
  const std::string a = first_address(*this);
  if (a.empty() || gateway_port == 0) return {};
  return std::string(gateway_tls ? "wss://" : "ws://") + url_host(a) + ":" +
         std::to_string(gateway_port) + "/ws";
}

nlohmann::json DiscoveredGateway::to_json() const {
  auto port_or_null = [](std::uint16_t p) { return p ? nlohmann::json(p) : nlohmann::json(); };
  auto text_or_null = [](const std::string& s) {
    return s.empty() ? nlohmann::json() : nlohmann::json(s);
  };
  nlohmann::json j = {{"name", name},
                      {"type", type},
                      {"domain", domain},
                      {"host", host},
                      {"address", first_address(*this)},
                      {"addresses", addresses},
                      {"port", port},
                      {"gatewayPort", port_or_null(gateway_port)},
                      {"apiPort", port_or_null(api_port)},
                      {"bridgePort", port_or_null(bridge_port)},
                      {"gatewayTls", gateway_tls},
                      {"apiTls", api_tls},
                      {"gatewayTlsSha256", text_or_null(gateway_tls_sha256)},
                      {"apiTlsSha256", text_or_null(api_tls_sha256)},
                      {"bridgeTls", bridge_tls},
                      {"bridgeTlsSha256", text_or_null(bridge_tls_sha256)},
                      {"apiUrl", text_or_null(api_url())},
                      {"gatewayWsUrl", text_or_null(gateway_ws_url())},
                      {"displayName", text_or_null(display_name)},
                      {"tailnetDns", text_or_null(tailnet_dns)}};
  if (!problems.empty()) j["problems"] = problems;
  return j;
}

std::vector<DiscoveredGateway> gateways_from(const std::vector<ResolvedService>& found) {
  std::map<std::tuple<std::string, std::string, std::string>, DiscoveredGateway> by_instance;
  for (const auto& s : found) {
    const auto txt = txt_map(s.txt);
    if (text_of(txt, "role") != "gateway") continue;
    auto key = std::make_tuple(s.name, s.type, s.domain);
    auto it = by_instance.find(key);
    if (it == by_instance.end()) it = by_instance.emplace(key, read(s, txt)).first;
    auto& addrs = it->second.addresses;
    if (!s.address.empty() && std::find(addrs.begin(), addrs.end(), s.address) == addrs.end()) {
      addrs.push_back(s.address);
    }
  }
  std::vector<DiscoveredGateway> out;
  for (auto& [key, g] : by_instance) {
    // IPv4 first: a link-local IPv6 address needs its zone, which not every URL parser keeps.
    std::stable_partition(g.addresses.begin(), g.addresses.end(),
                          [](const std::string& a) { return !is_ipv6(a); });
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace vespid::agent
