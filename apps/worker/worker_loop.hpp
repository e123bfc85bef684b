// The worker: `concurrency` executor threads, each claiming a run (long-poll), running it to an
// outcome and claiming again, plus the lease keeper. A stop (SIGTERM/SIGINT) ends the claims at
// once, lets each run reach its next checkpoint and hands it back.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "executor_env.hpp"
#include "gateway_api.hpp"
#include "lease_keeper.hpp"
#include "stop_flag.hpp"

namespace vespid::worker {

struct WorkerSettings {
  std::string worker_id;
  int concurrency = 4;
  int64_t lease_ms = 30'000;
  int64_t max_node_timeout_ms = 600'000;
  int64_t claim_wait_ms = 20'000;
};

class Worker {
 public:
  Worker(const GatewayApi& api, WorkerSettings settings);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Main thread.
  void start();
  // Any thread (the signal waiter): stop claiming; runs in progress stop at their next
  // checkpoint.
  void request_stop() { stop_.request(); }
  // Main thread: returns when every executor thread has ended.
  void join();

 private:
  void claim_loop(int index);  // executor thread `index`

  const GatewayApi& api_;             // thread-safe
  const WorkerSettings settings_;     // immutable
  StopFlag stop_;                     // thread-safe
  const ExecutorEnv env_;             // immutable
  LeaseKeeper keeper_;                // thread-safe
  std::vector<std::thread> threads_;  // main thread only
};

}  // namespace vespid::worker
