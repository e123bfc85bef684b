#include "interface_scan.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>

namespace vespid::netaddr {

std::vector<Found> scan_interfaces(const std::vector<Cidr>& ranges,
                                   const std::vector<std::string>& interfaces) {
  std::vector<Found> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0) continue;
    const int family = i->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    if (!interfaces.empty() &&
        std::find(interfaces.begin(), interfaces.end(), i->ifa_name) == interfaces.end()) {
      continue;
    }
    const void* raw = nullptr;
    if (family == AF_INET) {
      raw = &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr;
    } else {
      const auto* a6 = &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr;
      if (IN6_IS_ADDR_LINKLOCAL(a6)) continue;  // needs a scope id; never a tailnet address
      raw = a6;
    }
    bool inside = false;
    for (const auto& r : ranges) inside = inside || contains(r, family, raw);
    if (!inside) continue;
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, raw, text, sizeof text);
    out.push_back(Found{text, i->ifa_name});
  }
  freeifaddrs(list);
  std::sort(out.begin(), out.end(),
            [](const Found& a, const Found& b) { return a.address < b.address; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Found& a, const Found& b) { return a.address == b.address; }),
            out.end());
  return out;
}

}  // namespace vespid::netaddr
