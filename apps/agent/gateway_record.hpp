// Gateways as DNS-SD describes them: the TXT keys a gateway publishes (docs/discovery.md) read
// into typed fields, the resolutions of one service instance (one per interface and protocol)
// merged into one gateway, and the URLs a node host dials. No I/O here: mdns_browse.hpp finds
// the services, this reads them, so the reading is unit-tested without a network.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vespid::agent {

// One service instance as resolved on one interface and protocol.
struct ResolvedService {
  std::string name;       // the service instance name ("Office gateway")
  std::string type;       // "_vespid-gw._tcp"
  std::string domain;     // "local"
  std::string host_name;  // "gw.local"
  std::string address;    // a literal; IPv6 link-local carries its zone ("fe80::1%eth0")
  std::uint16_t port = 0;
  std::vector<std::string> txt;  // "key=value" (or a bare "key")
};

struct DiscoveredGateway {
  std::string name, type, domain, host;
  std::vector<std::string> addresses;  // IPv4 first, then IPv6; no duplicates
  std::uint16_t port = 0;              // the SRV port of the record
  std::string display_name, lan_host, tailnet_dns;
  std::uint16_t gateway_port = 0, api_port = 0, bridge_port = 0;  // 0: not in TXT
  bool gateway_tls = false, api_tls = false, bridge_tls = false;
  std::string gateway_tls_sha256, api_tls_sha256, bridge_tls_sha256;  // normalized; "": none
  std::vector<std::string> problems;  // TXT values that were ignored, and why

  // "" when nothing is known; else "http(s)://<address>:<apiPort>".
  std::string api_url() const;
  // "" when nothing is known; else "ws(s)://<address>:<gatewayPort>/ws".
  std::string gateway_ws_url() const;
  nlohmann::json to_json() const;
};

// Only records with role=gateway, merged per (name, type, domain), in name order. TXT keys are
// compared without case and only a key's first occurrence counts (RFC 6763, 6.4 and 6.5).
std::vector<DiscoveredGateway> gateways_from(const std::vector<ResolvedService>& found);

// "[fe80::1]" for IPv6, the literal as is otherwise: the host part of a URL.
std::string url_host(const std::string& address);

}  // namespace vespid::agent
