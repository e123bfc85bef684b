// mdns_browse.hpp for builds without libavahi-client: discovery says so instead of failing to
// link, and the rest of the node host works as before.
#include "mdns_browse.hpp"

namespace vespid::agent {

std::vector<ResolvedService> browse_services(const std::string&, std::chrono::milliseconds) {
  throw BrowseError(
      "this vespid-agent was built without Avahi (libavahi-client), so it cannot discover "
      "gateways; pass --api URL instead");
}

}  // namespace vespid::agent
