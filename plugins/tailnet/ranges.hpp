// Address ranges (CIDR) and the interface scan that finds this machine's tailnet addresses.
#pragma once

#include <netinet/in.h>

#include <optional>
#include <string>
#include <vector>

namespace vespid::tailnet {

struct Cidr {
  int family = AF_INET;  // AF_INET or AF_INET6
  unsigned char bytes[16] = {};
  unsigned prefix = 0;
  std::string text;
};

// "100.64.0.0/10", "fd7a:115c:a1e0::/48". Throws std::invalid_argument with a reason.
Cidr parse_cidr(const std::string& text);

bool contains(const Cidr& range, int family, const void* addr);

struct Found {
  std::string address;    // "100.101.102.103"
  std::string interface;  // "tailscale0"
};

// Addresses of interfaces that are up, inside one of `ranges`, on one of `interfaces` (all when
// empty), sorted and without duplicates. IPv6 link-local addresses are never tailnet addresses.
std::vector<Found> scan_interfaces(const std::vector<Cidr>& ranges,
                                   const std::vector<std::string>& interfaces);

}  // namespace vespid::tailnet
