// Drives one claimed run from its cursor to an outcome: run_started, then node by node in the
// walk order with a checkpoint after every node (cursor advanced, events appended in the same
// call), then the outcome. A node's failure retries the run (outcome "retry", the cursor left on
// that node so the next attempt runs it again) until maxAttempts, then fails it.
//
// It stops early, making no further call for the run, when its lease is lost or the run is
// canceled; and when the worker stops, at the next checkpoint, leaving the run to whichever
// worker claims it next.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "executor_env.hpp"
#include "gateway_api.hpp"
#include "host_payload.hpp"
#include "lease_keeper.hpp"
#include "node_runner.hpp"
#include "run_walk.hpp"

namespace vespid::worker {

// 1000 ms * 2^(attempt-1), at most 60000: the delay before the attempt after `attempt`.
int64_t retry_delay_ms(int attempt);

// Everything here runs on the one executor thread that claimed the run; only `lease_` is shared
// (with the lease keeper), and it is thread-safe.
class RunExecutor {
 public:
  RunExecutor(const ExecutorEnv& env, const ClaimedRun& claim, std::shared_ptr<RunLease> lease);
  void run();

 private:
  // One checkpoint with the pending events and (unless told not to) the cursor; retried while
  // the gateway cannot be reached, given up when the worker stops meanwhile.
  Saved save(nlohmann::json body, bool with_cursor = true);
  SaveFn save_fn();
  // Saves the pending events and the cursor; a refusal ends the run. True when saved.
  bool save_progress();
  // The node failed: retry the run or end it.
  void node_failed(const PlanNode& node, const NodeOutcome& outcome);
  // Ends the run as failed with `events`; if the gateway refuses that, with only run_failed and
  // no cursor. True when the run ended.
  bool end_failed(const nlohmann::json& events, const std::string& error);
  // The run fails without a node to blame (its spec or saved cursor is unusable).
  void run_failed(const std::string& error);
  void run_succeeded();
  // The worker stops: the lease shortened to the gateway's minimum so another worker takes
  // the run over in about a second rather than after a whole lease.
  void hand_back();

  const ExecutorEnv& env_;
  const ClaimedRun& claim_;
  const std::shared_ptr<RunLease> lease_;
  RunFacts facts_;
  std::optional<Plan> plan_;
  std::optional<Cursor> cursor_;                      // sent with every checkpoint once known
  nlohmann::json pending_ = nlohmann::json::array();  // events for the next checkpoint (skips)
  bool clear_blocked_ = false;  // a stale run.blocked to clear with the next checkpoint
  std::size_t ran_ = 0, skipped_ = 0;
};

}  // namespace vespid::worker
