// The tailnet netbind plugin's configuration, read once at create().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ranges.hpp"

namespace vespid::tailnet {

struct Config {
  // Tailscale's CGNAT range and its IPv6 ULA prefix; Headscale deployments may use others.
  std::vector<Cidr> ranges = {parse_cidr("100.64.0.0/10"), parse_cidr("fd7a:115c:a1e0::/48")};
  std::vector<std::string> interfaces;  // empty: every interface that is up
  bool magicdns = true;                 // ask `tailscale status --json` for the MagicDNS name
  std::string tailscale_command = "tailscale";
  std::uint32_t settle_ms = 200;  // netlink events this close together are one change
};

// Throws vsp::Error(VSP_E_INVALID) naming the offending key.
Config parse_config(std::string_view json);

}  // namespace vespid::tailnet
