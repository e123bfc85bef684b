// The two load targets of the `workflow` scenario, measured the same way in the same run:
// "dispatch", a bare dispatch with its result long-polled as vespid-worker does it, and
// "workflow", a one-node run of the same node started over rest.v1 and followed to its
// verdict. Each caller is a BlockingChannel with one request in flight, so the concurrency is
// the number of callers.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "baselines.hpp"
#include "gateway_runner.hpp"
#include "histogram.hpp"
#include "io_pool.hpp"
#include "workflow_calls.hpp"

namespace vespid::bench {

// What the callers of one opening of a target saw, besides what the driver counts.
struct CallTally {
  Histogram post;  // the POST alone: dispatch-async, or starting a run, until answered
  // Workflow runs that succeeded: the gap between each event and the next, by the gateway's
  // createdAt (millisecond resolution, so each mean is over many runs): "a → b" → {sum, count},
  // and the steps in the order they were first seen (a run's own order).
  std::map<std::string, std::pair<double, uint64_t>> gaps_ms;
  std::vector<std::string> steps;
  uint64_t events = 0;  // events seen over the succeeded runs
  uint64_t polls = 0;   // events long-polls over the succeeded runs
  uint64_t runs = 0;    // succeeded runs seen
};

class WorkflowLoad {
 public:
  // `more_cpu`: the CPU of the other processes in the middle (the workers), as Target wants.
  WorkflowLoad(IoPool& pool, const GatewayRunner& gw, std::string workflow, std::string token,
               nlohmann::json node_input, std::function<double()> more_cpu);

  Target dispatch_target();
  Target workflow_target();

  // The tally of the last opening of each target; read after its load ended.
  CallTally last_tally(const std::string& target) const;
  // Runs whose start the gateway answered 201, over every opening.
  uint64_t runs_started() const noexcept { return started_.load(); }

 private:
  std::shared_ptr<CallTally> fresh_tally(const std::string& target);

  IoPool& pool_;
  const GatewayRunner& gw_;
  std::string workflow_;
  std::string token_;
  nlohmann::json node_input_;
  std::function<double()> more_cpu_;
  std::atomic<uint64_t> started_{0};
  mutable std::mutex mu_;  // guards tallies_ and every tally's contents
  std::map<std::string, std::shared_ptr<CallTally>> tallies_;
};

}  // namespace vespid::bench
