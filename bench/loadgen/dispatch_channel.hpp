// The dispatch round trip as a load channel: POST /internal/v1/dispatch-async (pipelined on one
// keep-alive connection), and the request counts as answered when the node host that ran it
// gets execute_ack, i.e. when its result is durable and GET /internal/v1/results/:id would
// return it. Waiting for the ack instead of polling the results route times the gateway, not a
// poll interval.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "histogram.hpp"
#include "load.hpp"
#include "stream_conn.hpp"

namespace vespid::bench {

class DispatchChannel;

// Routes execute_acks (seen on node-host threads) to the channel that sent the request.
class DispatchRouter {
 public:
  explicit DispatchRouter(std::string run_nonce) : nonce_(std::move(run_nonce)) {}
  std::shared_ptr<Channel> add(std::shared_ptr<StreamConn> api_conn, const std::string& org,
                               const std::string& token, const std::string& payload);
  // Called from any thread with an acked requestId.
  void ack(std::string_view request_id);
  const std::string& nonce() const noexcept { return nonce_; }
  // The POST answer latency (201), merged over every channel; call after the load stopped.
  Histogram post_latency() const;
  // Every requestId the gateway answered 201 (dispatched, durable), over every channel; call
  // after the load stopped.
  std::vector<std::string> accepted_ids() const;

 private:
  std::string nonce_;
  std::vector<std::shared_ptr<DispatchChannel>> channels_;  // fixed before the load starts
};

}  // namespace vespid::bench
