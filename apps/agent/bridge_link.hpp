// A bridge node's connection to the gateway (bridge.v1: TCP, one JSON object per line, TLS
// optional): dials, verifies TLS (a pinned fingerprint, or CA verification; never off), runs the
// handshake of node_session.hpp, answers pings, runs invokes on worker threads
// (node_invoke.hpp), pings the gateway and notices silence, and dials again with exponential
// backoff and full jitter (backoff.hpp). Stops on SIGINT/SIGTERM, or when the gateway refuses the
// node's token or an operator rejects its pairing.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "node_invoke.hpp"
#include "node_session.hpp"

namespace vespid::agent {

struct BridgeLinkOptions {
  std::string host;
  int port = 18790;
  bool tls = false;
  std::string tls_fingerprint;  // normalized SHA-256 of the gateway's certificate; empty: CA
  std::string tls_ca_file;      // a PEM bundle trusted besides the system store (no pin)
  NodeIdentity identity;
  std::string token;  // saved by an earlier pairing; empty: pair
  NodeInvokeConfig invoke;
  int max_concurrent_invokes = 4;
  std::chrono::milliseconds ping_interval{30'000};
  std::chrono::milliseconds idle_timeout{75'000};  // nothing received: dial again
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30'000};
  std::size_t max_line_bytes = 4 * 1024 * 1024;  // a longer line from the gateway: reconnect
  // Called on the I/O thread. on_token: pair-ok brought a token (save it before anything else);
  // on_forget_token: the gateway does not know the saved one (NOT_PAIRED).
  std::function<void(const std::string& token)> on_token;
  std::function<void()> on_forget_token;
  std::function<void(const std::string& where)> on_connected;
  std::function<void()> on_disconnected;
};

// run()'s exit codes (docs/agent.md, "Bridge node mode").
inline constexpr int kNodeStopped = 0;  // SIGINT/SIGTERM
inline constexpr int kNodeConfig = 3;   // a bad fingerprint or CA file
inline constexpr int kNodeRefused = 4;  // token refused (revoked) or pairing rejected

class BridgeLink {
 public:
  explicit BridgeLink(BridgeLinkOptions options);
  ~BridgeLink();
  BridgeLink(const BridgeLink&) = delete;
  BridgeLink& operator=(const BridgeLink&) = delete;

  // Runs on the calling thread until stopped; see the exit codes above.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vespid::agent
