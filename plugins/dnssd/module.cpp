// vespid-dnssd.so: DNS-SD publication through the dns_sd.h API: mDNSResponder on macOS, Avahi's
// compatibility library over avahi-daemon on Linux. Same records as the bonjour plugin; pick one
// of the two per gateway (README.md).
#include <vespid/plugin.hpp>

#include "dnssd.hpp"

VSP_DECLARE_MODULE("vespid-dnssd", "0.1.0",
                   vsp::discovery_plugin<vespid::dnssd::DnssdDiscovery>(
                       "dnssd",
                       "DNS-SD publication through dns_sd.h (mDNSResponder, or Avahi's "
                       "compatibility library)"))
