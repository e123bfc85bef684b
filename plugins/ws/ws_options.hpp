// The WebSocket settings every server-side stream of an instance shares, whoever serves it (the
// host's dialects, the conformance echo): handshake and idle timeouts with keep-alive pings,
// permessage-deflate when configured, and whole messages written as one frame.
#pragma once

#include <boost/beast/websocket/stream.hpp>

#include "config.hpp"
#include "stream.hpp"

namespace vespid::ws {

void apply_server_options(beast::websocket::stream<Stream>& ws, const Config& cfg);

}  // namespace vespid::ws
