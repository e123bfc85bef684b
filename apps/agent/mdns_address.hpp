// An address an mDNS answer resolved to, as the text a URL can carry: the same for every browse
// backend, so `discover` prints the same thing whichever one found the gateway.
#pragma once

#include <cstdint>
#include <string>

namespace vespid::agent {

// `literal` ("192.168.1.2", "fe80::1") as is, except that an IPv6 link-local address gets the
// zone of the interface it was seen on ("fe80::1%eth0"): without it the address means nothing.
// `interface_index` <= 0, or one that no longer exists, adds nothing.
std::string address_with_zone(const std::string& literal, std::int64_t interface_index);

}  // namespace vespid::agent
