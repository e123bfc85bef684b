// Many simulated vespid.node.v1 node hosts on /ws. Each answers `execute` at once with an
// `execute_result` echoing the payload (or, for a session turn, `agent.run`, with the events
// vespid-agent streams: see set_turn_deltas), and reports `execute_ack` (the result is durable)
// to whoever listens, which is how the dispatch scenario times a whole round trip. The
// WebSocket client side is ws_frames.hpp on StreamConn.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bridge_fleet.hpp"
#include "gateway_runner.hpp"
#include "io_pool.hpp"

namespace vespid::bench {

class TlsClient;

class WsFleet {
 public:
  // Called on the host's thread with the requestId of an execute_ack.
  using OnAck = std::function<void(std::string_view request_id)>;

  // With `tls`, every host speaks TLS (wss) to `ws_port`, verified by `tls`.
  WsFleet(IoPool& pool, int ws_port, std::shared_ptr<TlsClient> tls = nullptr);
  ~WsFleet();

  // Pairs n node hosts: single-use pairing tokens from the admin socket (agents.pairingToken,
  // pipelined), then POST /v1/agents/pair on the API port from a few threads at once.
  static std::vector<WsCred> pair(int n, const std::string& socket_path, const std::string& org,
                                  int api_port, double timeout_s = 300);
  // The two halves of pair(): single-use tokens minted on the admin socket (256 pipelined at a
  // time), then each used by POST /v1/agents/pair from 8 threads.
  static std::vector<std::string> mint_tokens(int n, const std::string& socket_path,
                                              const std::string& org);
  static std::vector<WsCred> pair_with_tokens(const std::vector<std::string>& tokens, int api_port);

  ConnectStats connect_all(const std::vector<WsCred>& hosts, double timeout_s,
                           std::size_t max_connecting = 0);
  void close_all();
  void on_ack(OnAck f) { on_ack_ = std::move(f); }
  // With n > 0, an `agent.run` execute is answered as a turn: n `agent.assistant_delta` events
  // (the first repeats the payload's message), `agent.assistant_message` and `agent.final` with
  // the whole text, then the result {text}. Set before connecting.
  void set_turn_deltas(int n) { turn_deltas_ = n; }

  std::size_t online() const noexcept { return online_.load(); }
  uint64_t executes() const noexcept { return executes_.load(); }
  uint64_t turns() const noexcept { return turns_.load(); }
  // Connections the gateway closed while they were online, by reason (a close frame's code and
  // reason, or the socket error); close_all() does not count.
  std::map<std::string, uint64_t> dropped_by_gateway() const;

  struct Host;

 private:
  void dropped(const std::string& why);

  IoPool& pool_;
  int port_;
  std::shared_ptr<TlsClient> tls_;
  std::vector<std::shared_ptr<Host>> hosts_;
  std::atomic<std::size_t> online_{0};
  std::atomic<uint64_t> executes_{0};
  std::atomic<uint64_t> turns_{0};
  int turn_deltas_ = 0;
  OnAck on_ack_;
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> dropped_;
};

}  // namespace vespid::bench
