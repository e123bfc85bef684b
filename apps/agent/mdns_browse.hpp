// Finds DNS-SD services on the LAN: browses one service type in the default domains, resolves
// each instance on every interface it appears on, and returns what resolved within the time
// given. Blocking, on the calling thread: the agent's commands are one-shot.
//
// Two backends, chosen at build time and, where both are built in, at run time (`--browser`):
// - avahi: avahi-daemon through libavahi-client on the system D-Bus (mdns_browse_avahi.cpp);
// - dnssd: the dns_sd.h API (mdns_browse_dnssd.cpp): mDNSResponder on macOS, Avahi's
//   compatibility library (which talks to the same avahi-daemon) on Linux.
// Both return the same ResolvedService records, read by gateway_record.hpp.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "gateway_record.hpp"

namespace vespid::agent {

// The mDNS daemon cannot be reached (not running, no system bus), refused the browse, or the
// backend asked for is not built in; what() says which and what to do.
class BrowseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Browser { avahi, dnssd };

// "avahi" or "dnssd"; nullopt for anything else.
std::optional<Browser> browser_named(std::string_view name);
const char* browser_name(Browser b);
// avahi where it is built in (Linux), else dnssd (macOS).
Browser default_browser();
// Whether this build has `b`.
bool browser_built_in(Browser b);

// Throws BrowseError.
std::vector<ResolvedService> browse_services(Browser browser, const std::string& type,
                                             std::chrono::milliseconds timeout);

}  // namespace vespid::agent
