// The module's one exported symbol.
#include <vespid/plugin.hpp>

#include "transport.hpp"

VSP_DECLARE_MODULE("vespid-bridge", "0.1.0",
                   vsp::transport_plugin<vespid::bridge::BridgeTransport>(
                       "bridge", "bridge.v1 for nodes: TCP (optionally TLS), one JSON per line"))
