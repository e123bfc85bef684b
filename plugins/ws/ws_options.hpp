// The WebSocket settings every server-side stream of an instance shares, whoever serves it (the
// host's dialects, the conformance echo): handshake and idle timeouts with keep-alive pings,
// permessage-deflate when configured, and whole messages written as one frame.
#pragma once

#include <boost/beast/websocket/stream.hpp>

#include "config.hpp"
#include "frame_stream.hpp"
#include "stream.hpp"

namespace vespid::ws {

// Handshake timeout (the 101 and the close), and the keep-alive: a ping after ping_interval_ms
// without input, the end after twice that.
beast::websocket::stream_base::timeout server_timeouts(const Config& cfg);

void apply_server_options(beast::websocket::stream<Stream>& ws, const Config& cfg);
// FrameStream negotiates no extension: only the timeouts apply.
void apply_server_options(FrameStream& ws, const Config& cfg);

}  // namespace vespid::ws
