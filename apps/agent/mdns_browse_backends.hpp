// The browse backends mdns_browse.cpp chooses from; each is compiled only where its library is
// there (apps/agent/CMakeLists.txt defines VESPID_AGENT_BROWSE_AVAHI / _DNSSD for those built).
#pragma once

#include "mdns_browse.hpp"

namespace vespid::agent {

std::vector<ResolvedService> browse_avahi(const std::string& type,
                                          std::chrono::milliseconds timeout);
std::vector<ResolvedService> browse_dnssd(const std::string& type,
                                          std::chrono::milliseconds timeout);

}  // namespace vespid::agent
