// The conformance echo (config key echo_path): a WebSocket the transport answers itself, sending
// every text and binary message back unchanged with the same opcode. No host connection, no
// dialect, no credentials; the instance's limits and WebSocket settings hold as on every other
// route. It exists so external suites (the Autobahn testsuite) can exercise the real framing
// stack: handshake, fragmentation, control frames, UTF-8, close codes, message size.
#pragma once

#include <memory>

#include "http_io.hpp"
#include "session.hpp"
#include "shared.hpp"
#include "stream.hpp"

namespace vespid::ws {

// I/O thread of `replaces` (the HTTP session that read the upgrade request, whose place in the
// registry this session takes, so max_connections and stop() count it).
void start_echo_session(const std::shared_ptr<Shared>& shared, Stream stream, Request req,
                        Executor ex, Session* replaces);

}  // namespace vespid::ws
