#include "worker_loop.hpp"

#include <spdlog/spdlog.h>

#include "backoff.hpp"
#include "run_executor.hpp"

namespace vespid::worker {

Worker::Worker(const GatewayApi& api, WorkerSettings settings)
    : api_(api),
      settings_(std::move(settings)),
      env_{api_, stop_, settings_.worker_id, settings_.lease_ms, settings_.max_node_timeout_ms},
      keeper_(api_, std::chrono::milliseconds(settings_.lease_ms)) {}

Worker::~Worker() {
  request_stop();
  join();
}

void Worker::start() {
  keeper_.start();
  for (int i = 0; i < settings_.concurrency; ++i)
    threads_.emplace_back([this, i] { claim_loop(i); });
}

void Worker::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  keeper_.stop();
}

void Worker::claim_loop(int index) {
  Backoff backoff;
  bool reachable = true;  // to log the change, not every failed attempt
  const CancelTest stopping = [this] { return stop_.requested(); };
  while (!stop_.requested()) {
    const ClaimAnswer a =
        api_.claim(settings_.worker_id, settings_.lease_ms, settings_.claim_wait_ms, stopping);
    if (a.kind == ClaimAnswer::Kind::none) {
      if (!reachable) spdlog::info("executor {}: the gateway answers again", index);
      reachable = true;
      backoff.reset();
      continue;
    }
    if (a.kind == ClaimAnswer::Kind::failed) {
      if (stop_.requested()) break;
      const auto wait = backoff.next();
      if (reachable || backoff.failures() % 10 == 0) {
        spdlog::warn(
            "executor {}: cannot claim runs at {}: {}; trying again in {} ms (said again every "
            "10th failure)",
            index, api_.endpoint().url, a.failure.describe(), wait.count());
      }
      reachable = false;
      stop_.sleep_for(wait);
      continue;
    }
    reachable = true;
    backoff.reset();
    const ClaimedRun& claimed = a.claimed;
    const nlohmann::json seq = claimed.run.value("nextSeq", nlohmann::json());
    auto lease = keeper_.hold(claimed.run_id(), claimed.lease_token,
                              seq.is_number_integer() ? seq.get<int64_t>() : 0);
    try {
      RunExecutor(env_, claimed, lease).run();
    } catch (const std::exception& e) {
      // A bug, not a reason to take the process and its other runs down: the run is left to
      // be taken over after its lease, and this thread claims again.
      spdlog::error("executor {}: run {} stopped on an unexpected error: {}", index,
                    claimed.run_id(), e.what());
    }
    keeper_.drop(lease);
  }
  spdlog::debug("executor {}: stopped", index);
}

}  // namespace vespid::worker
