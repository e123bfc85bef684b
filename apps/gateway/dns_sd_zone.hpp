// `vespid-gateway dns-sd zone`: DNS-SD records for a unicast DNS zone (wide-area Bonjour,
// RFC 6763 over ordinary DNS), since multicast DNS does not cross networks.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace vespid::app {

struct ZoneOptions {
  std::string domain;                  // "vespid.example.net"
  std::string host;                    // the SRV target's label; default: this host's name
  std::vector<std::string> addresses;  // A/AAAA; default: this machine's tailnet addresses
  int ttl = 120;
};

int dns_sd_zone(const config::GatewayConfig& cfg, const ZoneOptions& options);

}  // namespace vespid::app
