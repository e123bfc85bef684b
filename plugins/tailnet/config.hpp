// The tailnet netbind plugin's configuration, read once at create().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cidr.hpp"  // libs/netaddr

namespace vespid::tailnet {

struct Config {
  std::vector<netaddr::Cidr> ranges = netaddr::default_tailnet_ranges();
  std::vector<std::string> interfaces;  // empty: every interface that is up
  bool magicdns = true;                 // ask `tailscale status --json` for the MagicDNS name
  std::string tailscale_command = "tailscale";
  std::uint32_t settle_ms = 200;  // netlink events this close together are one change
};

// Throws vsp::Error(VSP_E_INVALID) naming the offending key.
Config parse_config(std::string_view json);

}  // namespace vespid::tailnet
