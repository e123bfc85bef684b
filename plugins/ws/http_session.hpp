// An accepted connection before (or instead of) a WebSocket: TLS handshake, HTTP/1.1 requests
// with keep-alive, each routed to the host (rest.v1), to a static file, to a WebSocket upgrade,
// or answered here (404, 413, 426, ...). Pipelined requests are handled together (up to
// max_pipelined_requests, each on a rest.v1 connection of its own) and answered in order.
#pragma once

#include <memory>

#include "session.hpp"
#include "shared.hpp"
#include "stream.hpp"

namespace vespid::ws {

// Listener thread. Registers a session for `socket` (whose executor is `ex`) and starts it on
// its own thread, or closes the socket when max_connections is reached or the instance stops.
// Returns false when it refused the connection.
bool start_http_session(const std::shared_ptr<Shared>& shared, Socket socket, Executor ex);

}  // namespace vespid::ws
