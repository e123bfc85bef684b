#include "run_executor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "backoff.hpp"
#include "run_events.hpp"

namespace vespid::worker {

using nlohmann::json;

namespace {

// Skip events wait for the next checkpoint, which also saves the cursor that records them; a
// long run of skips goes out in batches of this many (the gateway takes at most 200 events in
// one checkpoint).
constexpr std::size_t kMaxPendingEvents = 100;
// The shortest lease the gateway grants.
constexpr int64_t kHandBackLeaseMs = 1'000;

std::string text_member(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

int64_t retry_delay_ms(int attempt) {
  const int shift = std::clamp(attempt - 1, 0, 16);
  return std::min<int64_t>(60'000, int64_t{1000} << shift);
}

RunExecutor::RunExecutor(const ExecutorEnv& env, const ClaimedRun& claim,
                         std::shared_ptr<RunLease> lease)
    : env_(env), claim_(claim), lease_(std::move(lease)) {
  facts_.run_id = claim.run_id();
  facts_.workflow_id = text_member(claim.run, "workflowId");
  facts_.organization_id = text_member(claim.run, "organizationId");
  facts_.requested_by_user_id = text_member(claim.run, "requestedByUserId");
  facts_.attempt_count = claim.attempt_count();
  facts_.input = claim.run.value("input", json());
}

SaveFn RunExecutor::save_fn() {
  return [this](json body) { return save(std::move(body)); };
}

Saved RunExecutor::save(json body, bool with_cursor) {
  json events = pending_;
  if (body.contains("events"))
    for (const json& e : body["events"]) events.push_back(e);
  if (events.empty()) {
    body.erase("events");
  } else {
    body["events"] = std::move(events);
  }
  if (with_cursor && cursor_ && !body.contains("cursor")) body["cursor"] = cursor_->to_json();
  if (clear_blocked_ && !body.contains("blocked")) body["blocked"] = nullptr;
  if (!body.contains("outcome") && !body.contains("leaseMs")) body["leaseMs"] = env_.lease_ms;
  // Fixed here, before the first try: every resend of this checkpoint names the same place in
  // the log, even if a lease renewal in between told the lease a newer nextSeq.
  if (body.contains("events")) {
    if (const int64_t seq = lease_->next_seq(); seq > 0) body["expectedSeq"] = seq;
  }

  Backoff backoff(std::chrono::milliseconds(500), std::chrono::milliseconds(10'000));
  for (;;) {
    const CheckpointAnswer a = lease_->checkpoint(env_.api, body);
    switch (a.kind) {
      case CheckpointAnswer::Kind::ok:
        pending_ = json::array();
        if (body.contains("blocked")) clear_blocked_ = false;
        return {};
      case CheckpointAnswer::Kind::lease_lost:
      case CheckpointAnswer::Kind::canceled:
      case CheckpointAnswer::Kind::not_found:
        spdlog::warn("run {}: {}; stopping work on it ({})", facts_.run_id,
                     a.kind == CheckpointAnswer::Kind::canceled    ? "canceled by a user"
                     : a.kind == CheckpointAnswer::Kind::not_found ? "the run is gone"
                                                                   : "lease lost",
                     a.failure.describe());
        return {Saved::Kind::stop, a.failure};
      case CheckpointAnswer::Kind::refused:
        spdlog::error("run {}: the gateway refused a checkpoint: {}", facts_.run_id,
                      a.failure.describe());
        return {Saved::Kind::refused, a.failure};
      case CheckpointAnswer::Kind::unavailable:
        break;
    }
    if (env_.stop.requested()) {
      spdlog::warn(
          "run {}: stopping while the gateway cannot save the run ({}); another worker "
          "takes it over from its last checkpoint when the lease expires",
          facts_.run_id, a.failure.describe());
      return {Saved::Kind::stop, a.failure};
    }
    const auto wait = backoff.next();
    spdlog::warn("run {}: checkpoint failed: {}; again in {} ms", facts_.run_id,
                 a.failure.describe(), wait.count());
    env_.stop.sleep_for(wait);
  }
}

bool RunExecutor::save_progress() {
  const Saved s = save({});
  if (s.kind == Saved::Kind::refused) {
    run_failed("CHECKPOINT_REFUSED: the gateway would not save the run's progress: " +
               s.failure.describe());
  }
  return s.kind == Saved::Kind::ok;
}

void RunExecutor::run() {
  const int attempt = facts_.attempt_count;
  const int max_attempts = claim_.max_attempts();
  json blocked = claim_.run.value("blocked", json());
  const json saved_cursor = claim_.run.value("cursor", json());

  try {
    json dsl = claim_.workflow.value("dsl", json());
    // A spec stored as JSON text is read the same.
    if (dsl.is_string()) dsl = json::parse(dsl.get<std::string>(), nullptr, false);
    plan_ = build_plan(dsl);
  } catch (const PlanError& e) {
    pending_.push_back(events::run_started(env_.worker_id, attempt, false));
    run_failed("INVALID_WORKFLOW_SPEC: " + std::string(e.what()));
    return;
  }
  try {
    cursor_ = cursor_from_json(saved_cursor, *plan_);
  } catch (const CursorError& e) {
    pending_.push_back(events::run_started(env_.worker_id, attempt, false));
    run_failed("RUN_CURSOR_INVALID: " + std::string(e.what()));
    return;
  }
  // Resumed: this attempt was under way with a worker that died. A cursor from an earlier
  // attempt is a retry that goes on after the nodes that succeeded.
  const bool resumed =
      (!saved_cursor.is_null() && cursor_->attempt == attempt) || !blocked.is_null();
  const std::string where = cursor_->index < plan_->order.size()
                                ? "at node " + plan_->order[cursor_->index].id
                                : "at its end";
  spdlog::info("run {}: claimed (workflow {} revision {}, attempt {} of {}, {})", facts_.run_id,
               facts_.workflow_id, claim_.workflow.value("revision", json()).dump(), attempt,
               max_attempts,
               resumed              ? "resumed " + where + " after another worker"
               : cursor_->index > 0 ? "a retry, going on " + where
                                    : "fresh");
  cursor_->attempt = attempt;
  pending_.push_back(events::run_started(env_.worker_id, attempt, resumed));
  if (!save_progress()) return;

  NodeRunner runner(env_, facts_, *lease_);
  for (;;) {
    if (!lease_->held()) return;
    if (env_.stop.requested()) {
      hand_back();
      return;
    }
    Step step;
    try {
      step = next_step(*plan_, *cursor_);
    } catch (const PlanError& e) {
      run_failed("INVALID_WORKFLOW_SPEC: " + std::string(e.what()));
      return;
    }
    if (step.kind == StepKind::done) {
      run_succeeded();
      return;
    }
    const PlanNode& node = *step.node;
    if (step.kind == StepKind::skip) {
      spdlog::info("run {}: node {} ({}) skipped: {}", facts_.run_id, node.id, node.type,
                   step.reason);
      record_skip(*plan_, *cursor_);
      ++skipped_;
      pending_.push_back(events::node_skipped(node, step.reason, step.blockers));
      if (pending_.size() >= kMaxPendingEvents && !save_progress()) return;
      continue;
    }
    // run.blocked is about the node the cursor is on; anything else is stale.
    json node_blocked;
    if (!blocked.is_null()) {
      if (blocked.is_object() && blocked.value("nodeId", json()) == node.id) {
        node_blocked = blocked;
      } else {
        spdlog::warn("run {}: run.blocked names {} but the cursor is at node {}; the cursor wins",
                     facts_.run_id, blocked.dump(), node.id);
        clear_blocked_ = true;
      }
      blocked = nullptr;
    }

    NodeOutcome outcome = runner.run(*plan_, *cursor_, node, node_blocked, save_fn());
    if (outcome.kind == NodeOutcome::Kind::stop) {
      if (lease_->held() && env_.stop.requested()) hand_back();
      return;
    }
    if (outcome.kind == NodeOutcome::Kind::failed) {
      node_failed(node, outcome);
      return;
    }
    const Cursor before = *cursor_;
    record_success(*plan_, *cursor_, outcome.output);
    json evs = outcome.events;
    evs.push_back(events::node_succeeded(node, outcome.output, outcome.explain));
    json body = {{"events", evs}};
    if (outcome.blocked_set) body["blocked"] = nullptr;
    const Saved s = save(body);
    if (s.kind == Saved::Kind::stop) return;
    if (s.kind == Saved::Kind::refused) {
      // Typically an output too large for the gateway's workflows.max_state_bytes: the cursor
      // goes back to before the node and the run ends, naming why.
      *cursor_ = before;
      NodeOutcome refused = outcome;
      refused.kind = NodeOutcome::Kind::failed;
      refused.permanent = true;
      refused.error = "CHECKPOINT_REFUSED: the gateway would not save the result of node " +
                      node.id + ": " + s.failure.describe();
      node_failed(node, refused);
      return;
    }
    ++ran_;
    spdlog::info("run {}: node {} ({}) succeeded", facts_.run_id, node.id, node.type);
  }
}

void RunExecutor::node_failed(const PlanNode& node, const NodeOutcome& outcome) {
  const int attempt = facts_.attempt_count;
  const int max_attempts = claim_.max_attempts();
  const std::string error = clip_utf8(outcome.error, kMaxMessageBytes);
  json evs = outcome.events;
  evs.push_back(events::node_failed(node, error));
  if (!outcome.permanent && attempt < max_attempts) {
    const int64_t delay = retry_delay_ms(attempt);
    json retry_events = evs;
    retry_events.push_back(events::run_retried(attempt, max_attempts, delay, error));
    // The cursor stays on the failed node: the next attempt runs it again and keeps what the
    // nodes before it produced.
    const Saved s = save({{"events", retry_events},
                          {"outcome", "retry"},
                          {"retryDelayMs", delay},
                          {"error", error},
                          {"blocked", nullptr}});
    if (s.kind == Saved::Kind::ok) {
      spdlog::warn("run {}: node {} ({}) failed: {}; attempt {} of {}, retried in {} ms",
                   facts_.run_id, node.id, node.type, error, attempt, max_attempts, delay);
      return;
    }
    if (s.kind == Saved::Kind::stop) return;
    // Refused: CONFLICT when the gateway counts this attempt as the last. Either way the run
    // ends here rather than being left to a takeover that would be refused the same.
  }
  evs.push_back(events::run_failed(error, attempt, max_attempts));
  if (end_failed(evs, error)) {
    spdlog::error("run {}: failed at node {} ({}): {} (attempt {} of {}{})", facts_.run_id, node.id,
                  node.type, error, attempt, max_attempts,
                  outcome.permanent ? ", not retried: the spec is at fault" : "");
  }
}

bool RunExecutor::end_failed(const json& evs, const std::string& error) {
  Saved s = save({{"events", evs}, {"outcome", "failed"}, {"error", error}, {"blocked", nullptr}});
  if (s.kind == Saved::Kind::refused) {
    // Perhaps the cursor or an event is what the gateway will not take: the least it needs to
    // end the run, so that no worker takes it over only to be refused again.
    pending_ = json::array();
    const json last =
        json::array({events::run_failed(error, facts_.attempt_count, claim_.max_attempts())});
    s = save({{"events", last}, {"outcome", "failed"}, {"error", error}, {"blocked", nullptr}},
             false);
    if (s.kind == Saved::Kind::refused) {
      spdlog::error(
          "run {}: the gateway refuses to end the run ({}); it stays running until its "
          "lease expires",
          facts_.run_id, s.failure.describe());
    }
  }
  return s.kind == Saved::Kind::ok;
}

void RunExecutor::run_failed(const std::string& error) {
  const std::string e = clip_utf8(error, kMaxMessageBytes);
  const json evs =
      json::array({events::run_failed(e, facts_.attempt_count, claim_.max_attempts())});
  if (end_failed(evs, e)) spdlog::error("run {}: failed: {}", facts_.run_id, e);
}

void RunExecutor::run_succeeded() {
  const json output = cursor_->outputs;
  const Saved s = save({{"events", json::array({events::run_succeeded(output)})},
                        {"outcome", "succeeded"},
                        {"output", output},
                        {"blocked", nullptr}});
  if (s.kind == Saved::Kind::ok) {
    spdlog::info("run {}: succeeded ({} nodes ran here, {} skipped)", facts_.run_id, ran_,
                 skipped_);
  } else if (s.kind == Saved::Kind::refused) {
    run_failed("CHECKPOINT_REFUSED: the gateway would not save the run's output: " +
               s.failure.describe());
  }
}

void RunExecutor::hand_back() {
  const Saved s = save({{"leaseMs", kHandBackLeaseMs}});
  if (s.kind == Saved::Kind::ok) {
    spdlog::info("run {}: left at its last checkpoint for another worker (lease cut to {} ms)",
                 facts_.run_id, kHandBackLeaseMs);
  }
}

}  // namespace vespid::worker
