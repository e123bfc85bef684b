#include "cidr.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <stdexcept>

namespace vespid::netaddr {

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

}  // namespace vespid::netaddr
