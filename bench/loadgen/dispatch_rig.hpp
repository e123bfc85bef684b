// The gateway side of the dispatch load, shared by `dispatch` and `storage-compare`: each
// opening of the target is a run with its own DispatchRouter (its own runId prefix, so request
// ids never repeat across runs), and the node hosts' execute_acks go to the current one.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "baselines.hpp"
#include "dispatch_channel.hpp"
#include "gateway_runner.hpp"
#include "io_pool.hpp"

namespace vespid::bench {

// Where the dispatches go: the API port on 127.0.0.1, the org, the internal service token, and
// the server process (for its CPU). This gateway, or a reference gateway started by hand.
struct DispatchEndpoint {
  int api_port = 0;
  std::string org;
  std::string token;
  pid_t pid = -1;
};

class DispatchRig {
 public:
  DispatchRig(IoPool& pool, const GatewayRunner& gw, std::string payload);
  DispatchRig(IoPool& pool, DispatchEndpoint to, std::string payload);

  // For WsFleet::on_ack; any thread. Ids of other runs (and session turns) are ignored.
  void ack(std::string_view request_id);
  // `callers` keep-alive connections to the API port posting dispatch-async; each open() is a
  // new router, which becomes the current one.
  Target target(std::string name);
  // The current router (null before the first open), e.g. for its POST latency.
  DispatchRouter* current() const noexcept { return current_.load(); }
  DispatchRouter* first() const noexcept {
    return routers_.empty() ? nullptr : routers_.front().get();
  }
  // Acks go nowhere from now on (before the hosts close).
  void stop() { current_.store(nullptr); }

 private:
  IoPool& pool_;
  DispatchEndpoint to_;
  std::string payload_;
  std::string stamp_;
  std::atomic<DispatchRouter*> current_{nullptr};
  std::vector<std::unique_ptr<DispatchRouter>> routers_;
};

}  // namespace vespid::bench
