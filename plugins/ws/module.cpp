// The module's one exported symbol.
#include <vespid/plugin.hpp>

#include "transport.hpp"

VSP_DECLARE_MODULE("vespid-ws", "0.1.0",
                   vsp::transport_plugin<vespid::ws::WsTransport>(
                       "ws",
                       "HTTP/1.1 + WebSocket (+TLS) listener: rest.v1, vespid.node.v1, "
                       "vespid.client.v1, operator.v1"))
