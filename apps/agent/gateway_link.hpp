// The node host's connection to the gateway (vespid.node.v1 over WebSocket /ws): connect with
// the agent token, say hello, run executes, stream their events and results, keep unacknowledged
// results and resend them after every reconnect, ping, and reconnect with exponential backoff
// and full jitter. See docs/agent-protocol.md.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "credentials.hpp"
#include "executor.hpp"

namespace vespid::agent {

struct LinkOptions {
  Credentials creds;
  // The gateway's WebSocket URLs, tried in turn: several instances of one deployment (or a
  // balancer and a fallback). A connection that fails, or drops, moves on to the next; a full
  // round of failures backs off. creds.gateway_ws_urls unless overridden with --gateway.
  std::vector<std::string> gateway_urls;
  // wss only: the SHA-256 the first URL's certificate must have (creds.gateway_tls_sha256,
  // pinned on first use after discovery; tls_pin.hpp). Empty: CA verification. The other URLs
  // are verified against the CA.
  std::string tls_pin_sha256;
  std::string name;
  std::string agent_version;
  std::vector<std::string> tags;
  int max_in_flight = 10;
  std::chrono::milliseconds ping_interval{15'000};
  std::chrono::milliseconds idle_timeout{45'000};  // nothing received for this long: reconnect
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30'000};
  std::chrono::milliseconds connect_timeout{10'000};
  std::size_t max_queued_frames = 4096;  // outgoing events kept while slow or disconnected
  ExecutorConfig exec;
  // Told on the I/O thread when hello went out on a connection (with its URL) and when that
  // connection ended: what `status` learns through the run state file (run_state.hpp).
  std::function<void(const std::string& gateway_url)> on_connected;
  std::function<void()> on_disconnected;
};

// Exit codes of run().
inline constexpr int kLinkStopped = 0;  // SIGINT/SIGTERM
inline constexpr int kLinkRefused = 4;  // the gateway refused the token (401/403): no retry

class GatewayLink {
 public:
  explicit GatewayLink(LinkOptions options);
  ~GatewayLink();
  GatewayLink(const GatewayLink&) = delete;
  GatewayLink& operator=(const GatewayLink&) = delete;

  // Runs on the calling thread until SIGINT/SIGTERM or a refusal; engines run on a pool of
  // max_in_flight threads.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The `capabilities` object sent in hello (and with the pairing request).
nlohmann::json agent_capabilities(int max_in_flight, const std::vector<std::string>& tags);

}  // namespace vespid::agent
