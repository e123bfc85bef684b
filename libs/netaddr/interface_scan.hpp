// This machine's addresses inside given ranges: the tailnet addresses, for the tailnet plugin's
// binds and for the gateway's DNS-SD zone.
#pragma once

#include <string>
#include <vector>

#include "cidr.hpp"

namespace vespid::netaddr {

struct Found {
  std::string address;    // "100.101.102.103"
  std::string interface;  // "tailscale0"
};

// Addresses of interfaces that are up, inside one of `ranges`, on one of `interfaces` (all when
// empty), sorted and without duplicates. IPv6 link-local addresses are never tailnet addresses.
std::vector<Found> scan_interfaces(const std::vector<Cidr>& ranges,
                                   const std::vector<std::string>& interfaces);

}  // namespace vespid::netaddr
