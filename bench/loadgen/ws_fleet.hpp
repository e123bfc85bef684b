// Many simulated vespid.node.v1 node hosts on /ws. Each answers `execute` at once with an
// `execute_result` echoing the payload, and reports `execute_ack` (the result is durable) to
// whoever listens, which is how the dispatch scenario times a whole round trip. The WebSocket
// client side is written here (handshake, masked frames, ping/pong) on StreamConn, so its
// writes coalesce like every other bench socket.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bridge_fleet.hpp"
#include "gateway_runner.hpp"
#include "io_pool.hpp"

namespace vespid::bench {

class WsFleet {
 public:
  // Called on the host's thread with the requestId of an execute_ack.
  using OnAck = std::function<void(std::string_view request_id)>;

  WsFleet(IoPool& pool, int ws_port);
  ~WsFleet();

  // Pairs n node hosts: single-use pairing tokens from the admin socket (agents.pairingToken,
  // pipelined), then POST /v1/agents/pair on the API port from a few threads at once.
  static std::vector<WsCred> pair(int n, const std::string& socket_path, const std::string& org,
                                  int api_port, double timeout_s = 300);

  ConnectStats connect_all(const std::vector<WsCred>& hosts, double timeout_s,
                           std::size_t max_connecting = 0);
  void close_all();
  void on_ack(OnAck f) { on_ack_ = std::move(f); }

  std::size_t online() const noexcept { return online_.load(); }
  uint64_t executes() const noexcept { return executes_.load(); }

  struct Host;

 private:
  IoPool& pool_;
  int port_;
  std::vector<std::shared_ptr<Host>> hosts_;
  std::atomic<std::size_t> online_{0};
  std::atomic<uint64_t> executes_{0};
  OnAck on_ack_;
};

}  // namespace vespid::bench
