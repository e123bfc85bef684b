// The module's one exported symbol.
#include <vespid/plugin.hpp>

#include "transport.hpp"

VSP_DECLARE_MODULE("vespid-unix", "0.1.0",
                   vsp::transport_plugin<vespid::unix_transport::UnixTransport>(
                       "unix", "local admin socket: operator.v1 over a 0600 Unix socket"))
