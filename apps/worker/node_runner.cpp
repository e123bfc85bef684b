#include "node_runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "backoff.hpp"
#include "condition.hpp"
#include "http_node.hpp"
#include "run_events.hpp"

namespace vespid::worker {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// How long past a node's own timeout the worker still waits for its result. The gateway stores
// NODE_EXECUTION_TIMEOUT for a silent host at the timeout itself; this only covers a gateway
// that fails to.
constexpr milliseconds kResultMargin{10'000};
// A long-poll the gateway answered in under a quarter of the time asked for: an older gateway
// that does not hold the request. Pausing keeps the loop from spinning on it.
constexpr milliseconds kEarlyAnswerPause{1'000};

NodeOutcome failed(std::string error, bool permanent, json events = json::array()) {
  NodeOutcome o;
  o.kind = NodeOutcome::Kind::failed;
  o.error = std::move(error);
  o.permanent = permanent;
  o.events = std::move(events);
  return o;
}

NodeOutcome succeeded(json output, json events = json::array()) {
  NodeOutcome o;
  o.kind = NodeOutcome::Kind::succeeded;
  o.output = std::move(output);
  o.events = std::move(events);
  return o;
}

NodeOutcome stopped() {
  return NodeOutcome{};
}

// A checkpoint the node needed did not go through. Refused: nothing of it was stored, so the
// events it carried go again with the failure.
NodeOutcome not_saved(const Saved& s, const PlanNode& node, json unsaved_events) {
  if (s.kind == Saved::Kind::stop) return stopped();
  return failed("CHECKPOINT_REFUSED: the gateway refused to save the start of node " + node.id +
                    ": " + s.failure.describe(),
                true, std::move(unsaved_events));
}

// The attempt a dead worker's blocked request id was made for: "<runId>:<nodeId>:<n>".
int attempt_of(const std::string& request_id, const std::string& run_id,
               const std::string& node_id) {
  const std::string prefix = run_id + ":" + node_id + ":";
  if (request_id.size() <= prefix.size() || request_id.compare(0, prefix.size(), prefix) != 0)
    return 0;
  const std::string n = request_id.substr(prefix.size());
  if (n.size() > 4 || !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return 0;
  return std::stoi(n);
}

}  // namespace

NodeRunner::NodeRunner(const ExecutorEnv& env, const RunFacts& run, const RunLease& lease)
    : env_(env), run_(run), lease_(lease) {}

bool NodeRunner::gone() const {
  return env_.stop.requested() || !lease_.held();
}

NodeOutcome NodeRunner::run(const Plan& plan, const Cursor& cursor, const PlanNode& node,
                            const json& blocked, const SaveFn& save) {
  const json started = json::array({events::node_started(node)});
  if (node.type == "condition") {
    spdlog::info("run {}: node {} (condition) started", run_.run_id, node.id);
    const ConditionResult r =
        evaluate_condition(node.spec.value("config", json()), run_.input, cursor.outputs);
    if (!r.ok) return failed(r.error, true, started);
    NodeOutcome o = succeeded({{"result", r.result}}, started);
    o.explain = r.explain;
    return o;
  }
  if (node.type == "parallel.join") {
    spdlog::info("run {}: node {} (parallel.join) started", run_.run_id, node.id);
    return succeeded({{"joined", true}}, started);
  }
  if (node.type == "http.request") return run_http(node, save);
  if (is_host_node_type(node.type)) return run_host(plan, cursor, node, blocked, save);
  if (node.type == "connector.github.issue.create") {
    return failed("CLOUD_EXECUTION_UNAVAILABLE: node " + node.id +
                      " (connector.github.issue.create) runs only in the cloud, which this "
                      "gateway does not have; use a connector.action node with "
                      "config.execution.mode \"node\" instead",
                  true, started);
  }
  return failed("NODE_TYPE_NOT_SUPPORTED: this worker does not run nodes of type " + node.type,
                true, started);
}

NodeOutcome NodeRunner::run_http(const PlanNode& node, const SaveFn& save) {
  // Saved first: a request that takes its whole timeout shows in the run's log while it runs.
  const json started = json::array({events::node_started(node)});
  const Saved s = save({{"events", started}});
  if (s.kind != Saved::Kind::ok) return not_saved(s, node, started);
  const int64_t timeout = node_timeout_ms(node.spec, env_.max_node_timeout_ms);
  spdlog::info("run {}: node {} (http.request) started", run_.run_id, node.id);
  // A stopping worker lets the request finish (it is bounded by its timeout) so its result is
  // saved; a lost lease abandons it, since nothing can be saved any more.
  const HttpNodeResult r = run_http_request(node.spec, timeout, [this] { return !lease_.held(); });
  if (!lease_.held()) return stopped();
  if (!r.ok) return failed(r.error, r.permanent);
  return succeeded(r.output);
}

NodeOutcome NodeRunner::run_host(const Plan& plan, const Cursor& cursor, const PlanNode& node,
                                 const json& blocked, const SaveFn& save) {
  const json started = json::array({events::node_started(node)});
  int attempt = run_.attempt_count;
  const bool resuming = blocked.is_object() && blocked.value("nodeId", json()) == node.id;
  if (resuming) {
    // The dead worker's request, exactly: its attempt number makes its request id.
    const std::string rid = blocked.value("requestId", json()).is_string()
                                ? blocked["requestId"].get<std::string>()
                                : std::string();
    if (const int a = attempt_of(rid, run_.run_id, node.id); a > 0) attempt = a;
  }
  const HostCall call =
      host_call_for(node, run_, attempt, completed_steps(plan, cursor), env_.max_node_timeout_ms);
  if (!call.ok) {
    NodeOutcome o = failed(call.error, true, resuming ? json::array() : started);
    o.blocked_set = resuming;
    return o;
  }

  if (resuming) {
    spdlog::info(
        "run {}: node {} ({}) resumed: asking again for request {} (a node host runs "
        "one request id once)",
        run_.run_id, node.id, node.type, call.request_id);
  } else {
    const json blocked_now = {
        {"nodeId", node.id}, {"nodeType", node.type}, {"requestId", call.request_id}};
    const Saved s = save({{"events", started}, {"blocked", blocked_now}});
    if (s.kind != Saved::Kind::ok) return not_saved(s, node, started);
    spdlog::info("run {}: node {} ({}) started as request {}", run_.run_id, node.id, node.type,
                 call.request_id);
  }

  // From here run.blocked names this node: every outcome's checkpoint clears it.
  auto with_blocked = [](NodeOutcome o) {
    o.blocked_set = true;
    return o;
  };

  // Dispatch. The same body is safe to post again: the request id makes it idempotent.
  Backoff backoff(milliseconds(500), milliseconds(10'000));
  const auto give_up_at = Clock::now() + milliseconds(call.timeout_ms);
  DispatchAnswer d;
  for (;;) {
    if (gone()) return stopped();
    d = env_.api.dispatch(call.body);
    if (d.kind == DispatchAnswer::Kind::dispatched ||
        d.kind == DispatchAnswer::Kind::already_in_flight ||
        d.kind == DispatchAnswer::Kind::cached) {
      break;
    }
    if (d.kind == DispatchAnswer::Kind::no_agent) {
      const json reason =
          d.failure.details.is_object() ? d.failure.details.value("reason", json()) : json();
      return with_blocked(
          failed("NO_AGENT_AVAILABLE: " +
                     (reason.is_string() ? reason.get<std::string>() : d.failure.message),
                 false));
    }
    if (d.kind == DispatchAnswer::Kind::refused) {
      return with_blocked(failed("DISPATCH_REFUSED: " + d.failure.describe(), true));
    }
    if (Clock::now() >= give_up_at) {
      return with_blocked(failed("GATEWAY_UNAVAILABLE: could not dispatch node " + node.id +
                                     " within its timeout: " + d.failure.describe(),
                                 false));
    }
    const auto wait = backoff.next();
    spdlog::warn("run {}: dispatch of node {} failed: {}; again in {} ms", run_.run_id, node.id,
                 d.failure.describe(), wait.count());
    env_.stop.sleep_for(wait);
  }
  if (d.request_id != call.request_id) {
    return with_blocked(failed("DISPATCH_REFUSED: the gateway answered for request " +
                                   d.request_id + ", not " + call.request_id,
                               true));
  }
  const std::string how = d.kind == DispatchAnswer::Kind::cached              ? "cached"
                          : d.kind == DispatchAnswer::Kind::already_in_flight ? "alreadyInFlight"
                                                                              : "dispatched";
  spdlog::info("run {}: node {} dispatched as {} ({}), timeout {} ms", run_.run_id, node.id,
               call.request_id, how, call.timeout_ms);
  {
    const Saved s =
        save({{"events", json::array({events::node_dispatched(node, call.request_id, how)})}});
    if (s.kind == Saved::Kind::stop) return stopped();
    // Refused: the dispatch went out all the same; the event is only lost from the log.
    if (s.kind == Saved::Kind::refused) {
      spdlog::error("run {}: the gateway refused the node_dispatched event of node {}: {}",
                    run_.run_id, node.id, s.failure.describe());
    }
  }

  // Wait for the result: the gateway answers the long-poll as soon as it is stored.
  const auto deadline = Clock::now() + milliseconds(call.timeout_ms) + kResultMargin;
  backoff.reset();
  for (;;) {
    if (gone()) return stopped();
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    const int64_t ask = std::clamp<int64_t>(left.count(), 1'000, 25'000);
    const auto asked_at = Clock::now();
    const ResultAnswer r = env_.api.result(call.request_id, ask, [this] { return gone(); });
    switch (r.kind) {
      case ResultAnswer::Kind::ready: {
        const json received =
            json::array({events::remote_result_received(node, call.request_id, r.succeeded)});
        spdlog::info("run {}: node {} result {}", run_.run_id, node.id,
                     r.succeeded ? "succeeded" : "failed: " + r.error);
        if (r.succeeded) return with_blocked(succeeded(r.output, received));
        return with_blocked(
            failed(r.error.empty() ? "NODE_EXECUTION_FAILED" : r.error, false, received));
      }
      case ResultAnswer::Kind::not_ready:
        backoff.reset();
        if (Clock::now() >= deadline) {
          return with_blocked(failed("NODE_EXECUTION_TIMEOUT: no result for request " +
                                         call.request_id + " within " +
                                         std::to_string(call.timeout_ms) + " ms",
                                     false));
        }
        if (Clock::now() - asked_at < milliseconds(ask / 4)) env_.stop.sleep_for(kEarlyAnswerPause);
        break;
      case ResultAnswer::Kind::refused:
        return with_blocked(failed("RESULT_REFUSED: " + r.failure.describe(), true));
      case ResultAnswer::Kind::unavailable: {
        if (gone()) return stopped();
        // No deadline while the gateway cannot be asked: it keeps the node's own timeout and
        // its result, which is what decides.
        const auto wait = backoff.next();
        spdlog::warn("run {}: waiting for {}: {}; again in {} ms", run_.run_id, call.request_id,
                     r.failure.describe(), wait.count());
        env_.stop.sleep_for(wait);
        break;
      }
    }
  }
}

}  // namespace vespid::worker
