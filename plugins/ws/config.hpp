// The ws instance's configuration: one listener, its routes and its limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "routes.hpp"

namespace vespid::ws {

struct Config {
  std::string host = "127.0.0.1";  // an IP address ("loopback" and "lan" are resolved at parse)
  // A bind spec ("tailnet", "auto", "lan", an address) resolved and followed through the host's
  // bind_watch (netbind), as the bridge does; excludes `host`. See bind_listeners.cpp.
  std::optional<std::string> bind;
  bool loopback_companion = true;  // with `bind`: also listen on 127.0.0.1 (local CLI, web UI)
  uint16_t port = 3001;            // 0 = ephemeral
  bool tls = false;
  std::string cert_file;         // empty: the gateway's tls.cert_file, looked up at start
  std::string key_file;          // empty: the gateway's tls.key_file, looked up at start
  std::string tls_ciphersuites;  // empty: kDefaultCiphersuites (tls.hpp)
  std::vector<Route> routes;
  std::size_t max_message_bytes = 1048576;
  std::size_t max_body_bytes = 1048576;
  std::size_t max_header_bytes = 16384;
  // Requests of one HTTP connection read ahead and handled at once while earlier answers are
  // pending (pipelining); answers still go out in request order. 1 = one at a time.
  std::size_t max_pipelined_requests = 8;
  std::size_t max_connections = 10000;
  uint64_t handshake_timeout_ms = 10000;
  uint64_t idle_timeout_ms = 60000;
  uint64_t ping_interval_ms = 30000;  // 0 = no pings and no idle close
  std::size_t send_queue_bytes = 4194304;
  unsigned threads = 1;
  bool permessage_deflate = false;
  std::string static_dir;
  // Empty: off. Otherwise a WebSocket path that echoes every message back unchanged, answered by
  // the transport alone (no dialect, no credentials): for conformance suites such as Autobahn.
  std::string echo_path;
};

// Throws vsp::Error(VSP_E_INVALID) naming the offending key and what it expects.
Config parse_config(std::string_view json);

}  // namespace vespid::ws
