// Many simulated bridge.v1 nodes on a few client threads. A node answers every invoke at once
// with invoke-res echoing the params, answers pings, and counts what happened to it, so the
// scenarios can pair, connect, hold, drop and reconnect thousands of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "connect_round.hpp"
#include "io_pool.hpp"

namespace vespid::bench {

struct NodeCred {
  std::string id;
  std::string token;
};

// What one connect_all() saw.

class TlsClient;

// Who approves pair-requests: the pending requests as (nodeId, requestId), and approving some
// of them (a failure is noted in last_error, not thrown: the next round sees what is left).
struct PairApprover {
  std::function<std::vector<std::pair<std::string, std::string>>()> pending;
  std::function<void(const std::vector<std::string>& request_ids, std::string& last_error)> approve;
};

class BridgeFleet {
 public:
  // With `tls`, every node speaks TLS to `port` (a TLS bridge listener), verified by `tls`.
  BridgeFleet(IoPool& pool, int port, std::shared_ptr<TlsClient> tls = nullptr);
  ~BridgeFleet();

  // Pairs the nodes `ids` the fastest legitimate way: every pair-request is sent at once, then
  // the pending requests are approved into `org` over several admin connections in parallel,
  // each pipelined. Blocks; returns each node's token. Nodes stay connected and online.
  std::vector<NodeCred> pair(const std::vector<std::string>& ids, const std::string& socket_path,
                             const std::string& org, double timeout_s = 300);
  // The same with another approver (a reference gateway's operator API).
  std::vector<NodeCred> pair(const std::vector<std::string>& ids, const PairApprover& approver,
                             double timeout_s = 300);

  // Opens one connection per node and says hello with its token; at most `max_connecting`
  // connects in flight (0: all at once). Blocks until every node is online or refused, or the
  // timeout.
  ConnectStats connect_all(const std::vector<NodeCred>& nodes, double timeout_s,
                           std::size_t max_connecting = 0);

  // Closes every node's socket from the client side (as a network drop would) and waits until
  // they are all closed here.
  void close_all();

  std::size_t online() const noexcept { return online_.load(); }
  uint64_t invokes() const noexcept { return invokes_.load(); }
  uint64_t pings() const noexcept { return pings_.load(); }

  struct Node;
  struct Shared;

 private:
  static void approve_all(const std::string& socket_path, const std::string& org,
                          const std::vector<std::string>& request_ids, std::string& last_error);

  IoPool& pool_;
  int port_;
  std::shared_ptr<TlsClient> tls_;
  std::vector<std::shared_ptr<Node>> nodes_;
  std::atomic<std::size_t> online_{0};
  std::atomic<uint64_t> invokes_{0};
  std::atomic<uint64_t> pings_{0};
  std::shared_ptr<Shared> shared_;
};

}  // namespace vespid::bench
