#include "ranges.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace vespid::tailnet {

Cidr parse_cidr(const std::string& text) {
  Cidr c;
  c.text = text;
  const auto slash = text.find('/');
  if (slash == std::string::npos) throw std::invalid_argument("missing /prefix");
  const std::string addr = text.substr(0, slash);
  const std::string len = text.substr(slash + 1);
  if (inet_pton(AF_INET, addr.c_str(), c.bytes) == 1) {
    c.family = AF_INET;
  } else if (inet_pton(AF_INET6, addr.c_str(), c.bytes) == 1) {
    c.family = AF_INET6;
  } else {
    throw std::invalid_argument("\"" + addr + "\" is not an IPv4 or IPv6 address");
  }
  const unsigned max = c.family == AF_INET ? 32 : 128;
  if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(len) > max) {
    throw std::invalid_argument("prefix length must be 0 to " + std::to_string(max));
  }
  c.prefix = static_cast<unsigned>(std::stoul(len));
  return c;
}

bool contains(const Cidr& range, int family, const void* addr) {
  if (family != range.family) return false;
  const auto* a = static_cast<const unsigned char*>(addr);
  unsigned full = range.prefix / 8, rest = range.prefix % 8;
  if (std::memcmp(a, range.bytes, full) != 0) return false;
  if (rest == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (range.bytes[full] & mask);
}

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

}  // namespace vespid::tailnet
