// What every run executor of one worker process shares: the gateway, the stop flag and the
// settings from the command line. All of it is immutable or thread-safe, so executor threads use
// it without a lock.
#pragma once

#include <cstdint>
#include <string>

#include "gateway_api.hpp"
#include "stop_flag.hpp"

namespace vespid::worker {

struct ExecutorEnv {
  const GatewayApi& api;
  const StopFlag& stop;
  std::string worker_id;
  int64_t lease_ms = 30'000;
  int64_t max_node_timeout_ms = 600'000;
};

}  // namespace vespid::worker
