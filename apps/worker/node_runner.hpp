// Runs one node of a run and says how it went; the run executor records the outcome. Nodes the
// worker runs itself (condition, parallel.join, http.request) are run here; agent.run,
// agent.execute and connector.action go to a node host:
//   1. checkpoint {events: [node_started], blocked: {nodeId, nodeType, requestId}} FIRST, so a
//      worker that dies from here on leaves a run that says which request it waits for;
//   2. POST dispatch-async, then checkpoint {events: [node_dispatched {requestId}]};
//   3. long-poll GET results/:requestId until the result or the node's timeout (+ a margin).
// On a takeover (run.blocked names this node) step 1 is skipped and step 2 posts the same
// request again: the same attempt gives the same request id, which the gateway answers with
// alreadyInFlight or cached, so the node host never runs it twice.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "executor_env.hpp"
#include "gateway_api.hpp"
#include "host_payload.hpp"
#include "lease_keeper.hpp"
#include "run_walk.hpp"

namespace vespid::worker {

// How a checkpoint went, for whoever asked for it.
struct Saved {
  enum class Kind { ok, stop, refused };
  Kind kind = Kind::ok;
  ApiFailure failure;  // refused: the gateway's answer
};

// Saves a checkpoint of the run (the executor adds the lease token, the cursor and any pending
// events) and retries it while the gateway is unreachable. `stop` means: make no more calls
// for this run (lease lost, canceled, or the worker stops and the gateway cannot be reached).
using SaveFn = std::function<Saved(nlohmann::json body)>;

struct NodeOutcome {
  enum class Kind { succeeded, failed, stop };
  Kind kind = Kind::stop;
  nlohmann::json output;   // succeeded
  std::string error;       // failed: "CODE: message"
  bool permanent = false;  // failed because of the spec: another attempt would fail the same way
  nlohmann::json events = nlohmann::json::array();  // to append before node_succeeded/failed
  nlohmann::json explain;                           // a condition's explanation, for node_succeeded
  bool blocked_set = false;  // run.blocked names this node: the next checkpoint clears it
};

class NodeRunner {
 public:
  NodeRunner(const ExecutorEnv& env, const RunFacts& run, const RunLease& lease);

  // Executor thread. `blocked` is the claim's run.blocked for the first node after a claim, else
  // null.
  NodeOutcome run(const Plan& plan, const Cursor& cursor, const PlanNode& node,
                  const nlohmann::json& blocked, const SaveFn& save);

 private:
  NodeOutcome run_host(const Plan& plan, const Cursor& cursor, const PlanNode& node,
                       const nlohmann::json& blocked, const SaveFn& save);
  NodeOutcome run_http(const PlanNode& node, const SaveFn& save);
  // The worker stops or the lease is no longer ours: no more calls for this run.
  bool gone() const;

  // All used on the run's executor thread only; env_ and lease_ are thread-safe (shared with
  // the other executors and the lease keeper), run_ belongs to the executor.
  const ExecutorEnv& env_;
  const RunFacts& run_;
  const RunLease& lease_;
};

}  // namespace vespid::worker
