// vespid-bonjour.so: DNS-SD publication on the LAN through avahi-daemon. The gateway does not
// browse (node hosts do, in vespid-agent), so the plugin leaves browse to the SDK's default
// answer, VSP_E_UNSUPPORTED.
#include <vespid/plugin.hpp>

#include "bonjour.hpp"

VSP_DECLARE_MODULE("vespid-bonjour", "0.1.0",
                   vsp::discovery_plugin<vespid::bonjour::BonjourDiscovery>(
                       "bonjour", "Bonjour/mDNS service publication through avahi-daemon"))
