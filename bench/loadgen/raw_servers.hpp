// The raw loopback baselines, as small as they can be: a JSONL echo, and a relay that forwards
// whole lines to an upstream echo and back. No gateway semantics, no parsing beyond finding
// newlines, writes coalesced: the floor any relay pays on this machine.
#pragma once

#include <boost/asio/io_context.hpp>

namespace vespid::bench {

// Listens on 127.0.0.1:port (0: ephemeral) and echoes every complete line; returns the port.
int start_echo_listener(boost::asio::io_context& io, int port);

// Listens on 127.0.0.1:port; each accepted connection gets its own upstream connection to
// 127.0.0.1:upstream_port, and lines flow both ways. Returns the port.
int start_relay_listener(boost::asio::io_context& io, int port, int upstream_port);

// The `serve-raw` subcommand, run as a child process so the baselines' servers, like the
// gateway, are another process: an echo on echo_port (one thread) and a relay on relay_port to
// upstream_port (another thread). Runs until SIGTERM.
int serve_raw(int echo_port, int relay_port, int upstream_port);

}  // namespace vespid::bench
