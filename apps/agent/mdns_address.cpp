#include "mdns_address.hpp"

#include <net/if.h>

namespace vespid::agent {

std::string address_with_zone(const std::string& literal, std::int64_t interface_index) {
  std::string out = literal;
  if (interface_index <= 0 || out.rfind("fe80:", 0) != 0) return out;
  char name[IF_NAMESIZE] = {};
  if (::if_indextoname(static_cast<unsigned>(interface_index), name) != nullptr) {
    out += '%';
    out += name;
  }
  return out;
}

}  // namespace vespid::agent
