// Address ranges in CIDR notation, and whether an address lies inside one.
#pragma once

#include <netinet/in.h>

#include <string>
#include <vector>

namespace vespid::netaddr {

struct Cidr {
  int family = AF_INET;  // AF_INET or AF_INET6
  unsigned char bytes[16] = {};
  unsigned prefix = 0;
  std::string text;
};

// "100.64.0.0/10", "fd7a:115c:a1e0::/48". Throws std::invalid_argument with a reason.
Cidr parse_cidr(const std::string& text);

// `addr` is an in_addr (AF_INET) or in6_addr (AF_INET6).
bool contains(const Cidr& range, int family, const void* addr);

// Tailscale's CGNAT range and its IPv6 ULA prefix: what counts as a tailnet address unless the
// tailnet instance's `ranges` say otherwise (Headscale deployments may use others).
inline std::vector<Cidr> default_tailnet_ranges() {
  return {parse_cidr("100.64.0.0/10"), parse_cidr("fd7a:115c:a1e0::/48")};
}

}  // namespace vespid::netaddr
