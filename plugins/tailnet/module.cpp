// vespid-tailnet.so: the netbind plugin for tailnet (Tailscale, Headscale) binding.
#include <vespid/plugin.hpp>

#include "netbind.hpp"

VSP_DECLARE_MODULE("vespid-tailnet", "0.1.0",
                   vsp::netbind_plugin<vespid::tailnet::TailnetNetbind>(
                       "tailnet", "tailnet (Tailscale/Headscale) addresses for bind specs"))
