// The dispatch round trip as a load channel: POST /internal/v1/dispatch-async (pipelined on one
// keep-alive connection), and the request counts as answered when the node host that ran it
// gets execute_ack, i.e. when its result is durable and GET /internal/v1/results/:id would
// return it. Waiting for the ack instead of polling the results route times the gateway, not a
// poll interval.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "histogram.hpp"
#include "load.hpp"
#include "stream_conn.hpp"

namespace vespid::bench {

class DispatchChannel;

// Routes execute_acks (seen on node-host threads) to the channel that sent the request. The
// gateway requires the runId to be a uuid (as the reference does), so the run, the channel and
// the request travel inside one: <router 8 hex>-<channel 4 hex>-8000-8000-<request 12 hex>, a
// version-8 uuid (RFC 9562's form for ids made by one's own rule).
class DispatchRouter {
 public:
  // `run_nonce` names this router's run; it is hashed into the uuids' first 8 hex digits.
  explicit DispatchRouter(const std::string& run_nonce);
  std::shared_ptr<Channel> add(std::shared_ptr<StreamConn> api_conn, const std::string& org,
                               const std::string& token, const std::string& payload);
  // Called from any thread with an acked requestId.
  void ack(std::string_view request_id);
  // The runId of request `id` (below 2^48) sent on channel `tag` (below 2^16).
  std::string run_id(std::size_t tag, uint64_t id) const;
  // The POST answer latency (201), merged over every channel; call after the load stopped.
  Histogram post_latency() const;
  // Every requestId the gateway answered 201 (dispatched, durable), over every channel; call
  // after the load stopped.
  std::vector<std::string> accepted_ids() const;

 private:
  std::string prefix_;                                      // "<router 8 hex>-"
  std::vector<std::shared_ptr<DispatchChannel>> channels_;  // fixed before the load starts
};

}  // namespace vespid::bench
