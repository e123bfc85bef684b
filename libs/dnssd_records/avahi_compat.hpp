// Avahi's dns_sd.h compatibility library prints "*** WARNING *** The program '...' uses the Apple
// Bonjour compatibility layer of Avahi" to stderr on first use unless AVAHI_COMPAT_NOWARN is set.
// The warning is meant for programs ported from macOS that do not know they run on Avahi; the
// dnssd plugin and vespid-agent's dnssd browser use the layer on purpose, and the line would only
// read as a fault. An operator's own value is kept (no overwrite). Call it before the first
// dns_sd call: the library reads the variable then. mDNSResponder ignores it.
#pragma once

#include <cstdlib>
#include <mutex>

namespace vespid::dnssd {

inline void quiet_avahi_compat_warning() {
  static std::once_flag once;
  std::call_once(once, [] { ::setenv("AVAHI_COMPAT_NOWARN", "1", 0); });
}

}  // namespace vespid::dnssd
