#include "services/dispatch/dispatcher.hpp"

#include <algorithm>

#include "runtime/api_error.hpp"
#include "runtime/gateway_metrics.hpp"
#include "runtime/logging.hpp"
#include "runtime/time.hpp"
#include "services/dispatch/dispatch_frames.hpp"
#include "services/nodes/node_router.hpp"
#include "storage/keys.hpp"

namespace vespid::dispatch {

using core::Compare;
using core::Task;
using core::Txn;
using core::Write;
using nlohmann::json;
namespace keys = repo::keys;

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("dispatch");
}

bool has(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

api::ApiError no_agent(const std::string& reason) {
  return {"NO_AGENT_AVAILABLE",
          "no node host is available for this dispatch: " + reason,
          {{"reason", reason}}};
}

// requestIds carry no org: two orgs reusing one runId/nodeId/attempt must not see each other's
// dispatch or result.
api::ApiError collision(const std::string& request_id) {
  return {"CONFLICT", "requestId " + request_id +
                          " is already used by another organization; use fresh run ids"};
}

void count(metrics::DispatchOutcome outcome) {
  metrics::instruments().dispatches[outcome].inc();
}

void log_error(std::exception_ptr e, const char* what) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    L()->error("{}: {}", what, ex.what());
  }
}

}  // namespace

Dispatcher::Dispatcher(core::StorageService& storage, nodes::NodeRouter& router,
                       core::Deadlines& deadlines, ResultStore& results, DispatchSettings settings)
    : storage_(storage),
      router_(router),
      deadlines_(deadlines),
      results_(results),
      settings_(settings),
      waiters_(deadlines) {}

Dispatcher::~Dispatcher() {
  stop();
}

void Dispatcher::stop() {
  stopped_ = true;
  deadlines_.cancel(sweep_deadline_);
  for (auto& [id, o] : outstanding_) deadlines_.cancel(o.deadline);
}

int Dispatcher::in_flight_of(const std::string& agent_id) const {
  auto it = load_.find(agent_id);
  return it == load_.end() ? 0 : it->second.in_flight;
}

int Dispatcher::max_in_flight(const nodes::ConnectedNode& n) const {
  return n.capabilities.max_in_flight().value_or(settings_.default_max_in_flight);
}

Dispatcher::Wanted Dispatcher::wanted(const DispatchRequest& r) {
  Wanted w;
  if (!r.selector.group.empty()) w.group_tag = "group:" + r.selector.group;
  if (r.kind == "connector.action") w.connector_id = r.connector_id;
  return w;
}

bool Dispatcher::accepts(const nodes::ConnectedNode& n, const DispatchRequest& r,
                         const Wanted& w) const {
  if (n.kind != "agent") return false;
  if (!r.selector.agent_id.empty() && n.node_id != r.selector.agent_id) return false;
  if (!r.selector.tag.empty() && !has(n.tags, r.selector.tag)) return false;
  if (!w.group_tag.empty() && !has(n.tags, w.group_tag)) return false;
  if (!n.capabilities.takes_kind(r.kind)) return false;
  return r.kind != "connector.action" || n.capabilities.takes_connector(w.connector_id);
}

Dispatcher::Pick Dispatcher::pick(const DispatchRequest& r) const {
  auto nodes = router_.connected_in_org(r.organization_id);
  const Wanted w = wanted(r);  // once per dispatch, not once per host
  Pick best;
  size_t hosts = 0, matching = 0;
  int best_load = 0;
  uint64_t best_used = 0;
  for (const auto* n : nodes) {
    if (n->kind != "agent") continue;
    ++hosts;
    if (!accepts(*n, r, w)) continue;
    ++matching;
    const auto load_it = load_.find(n->node_id);
    const HostLoad seen = load_it == load_.end() ? HostLoad{} : load_it->second;
    const int load = seen.in_flight;
    if (load >= max_in_flight(*n)) continue;
    const uint64_t used = seen.last_used;
    if (best.node == nullptr || load < best_load || (load == best_load && used < best_used)) {
      best.node = n;
      best_load = load;
      best_used = used;
    }
  }
  if (best.node == nullptr) {
    best.reason = hosts == 0      ? "no node host of this org is connected"
                  : matching == 0 ? "no connected node host matches the selector and kind"
                                  : "every matching node host is at its maxInFlight";
  }
  return best;
}

void Dispatcher::arm(const std::string& request_id, Outstanding o, int64_t deadline_ms) {
  int64_t wait = std::max<int64_t>(0, deadline_ms - util::now_ms());
  std::string id = request_id;
  o.deadline = deadlines_.after(std::chrono::milliseconds(wait), [this, id] {
    core::spawn(
        time_out(id), [] {}, [](std::exception_ptr e) { log_error(e, "dispatch timeout"); });
  });
  load_[o.agent_id].in_flight++;
  outstanding_[request_id] = std::move(o);
}

void Dispatcher::count_end(const Outstanding& o, const json& result) {
  const std::string status = result.is_object() ? result.value("status", "") : "";
  const std::string error =
      result.is_object() && result.contains("error") && result["error"].is_string()
          ? result["error"].get<std::string>()
          : std::string();
  count_end(o, status == "succeeded", error);
}

void Dispatcher::count_end(const Outstanding& o, bool succeeded, const std::string& error) {
  count(succeeded                           ? metrics::DispatchOutcome::Ok
        : error == "NODE_EXECUTION_TIMEOUT" ? metrics::DispatchOutcome::Timeout
                                            : metrics::DispatchOutcome::Error);
  if (o.submitted_at != std::chrono::steady_clock::time_point{}) {
    metrics::instruments().dispatch_duration.observe(std::chrono::steady_clock::now() -
                                                     o.submitted_at);
  }
}

void Dispatcher::release(const std::string& request_id) {
  auto it = outstanding_.find(request_id);
  if (it == outstanding_.end()) return;
  deadlines_.cancel(it->second.deadline);
  if (auto f = load_.find(it->second.agent_id); f != load_.end() && f->second.in_flight > 0) {
    --f->second.in_flight;
  }
  outstanding_.erase(it);
  waiters_.wake(request_id);
}

// Suspends for `delay`.
struct Dispatcher::Pause {
  core::Deadlines& deadlines;
  std::chrono::milliseconds delay;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    deadlines.after(delay, [h] { h.resume(); });
  }
  void await_resume() const noexcept {}
};

Task<json> Dispatcher::wait_result(std::string request_id) {
  Task<std::optional<json>> t =
      wait_result_for(std::move(request_id), std::chrono::milliseconds(0));
  std::optional<json> r = co_await std::move(t);
  co_return std::move(*r);  // unbounded: only a result ends the wait
}

Task<std::optional<json>> Dispatcher::wait_result_for(std::string request_id,
                                                      std::chrono::milliseconds max_wait) {
  const bool bounded = max_wait.count() > 0;
  const auto until = std::chrono::steady_clock::now() + max_wait;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(until -
                                                                 std::chrono::steady_clock::now());
  };
  // A dispatch this instance waits for has no result stored yet: release() follows the result's
  // commit with no await between them. So the first look waits instead of reading, and the read
  // after the wake-up finds the result in memory (RecentResults). A result that the host resent
  // to another instance ends the wait here too, relayed (relayed() releases it).
  bool look = outstanding_.count(request_id) == 0;
  // Each await on a named task (GCC 12 mishandles temporaries awaited inside conditions).
  for (;;) {
    if (look) {
      std::optional<StoredResult> stored = co_await results_.get(request_id);
      if (stored) co_return stored->result;
    }
    look = true;
    if (bounded && left().count() <= 0) co_return std::nullopt;
    if (outstanding_.count(request_id) != 0) {
      // Woken when released here: the result is stored, or about to be (a timeout stores it
      // next). A bounded wait that times out looks once more, above, and ends.
      const std::chrono::milliseconds t =
          bounded ? std::max(left(), std::chrono::milliseconds(1)) : std::chrono::milliseconds(0);
      bool woken = co_await waiters_.wait(&request_id, t);
      (void)woken;
      continue;
    }
    std::optional<core::KV> record = co_await storage_.get(keys::dispatch(request_id));
    if (!record && !bounded) {
      // Neither waited for anywhere nor answered: look once more (a result stored between the
      // two reads deletes the record), then give up as the dispatch's own timeout would. A
      // bounded wait (a worker's long-poll) looks again until its bound instead: its caller
      // owns the node's timeout, and an id it has not dispatched yet is simply not ready.
      std::optional<StoredResult> late = co_await results_.get(request_id);
      if (late) co_return late->result;
      co_return json{{"status", "failed"}, {"error", "NODE_EXECUTION_TIMEOUT"}};
    }
    // In flight on another instance (or, bounded, not known yet): look again shortly.
    co_await Pause{deadlines_, bounded ? std::clamp(left(), std::chrono::milliseconds(1),
                                                    std::chrono::milliseconds(kPollInterval))
                                       : kPollInterval};
  }
}

Task<std::optional<Dispatcher::Submitted>> Dispatcher::cached(const DispatchRequest& r,
                                                              std::string request_id) {
  std::optional<StoredResult> stored = co_await results_.get(request_id);
  if (!stored) co_return std::nullopt;
  if (stored->org_id != r.organization_id) throw collision(request_id);
  count(metrics::DispatchOutcome::Deduplicated);
  co_return Submitted{Outcome::Cached, request_id, stored->agent_id};
}

Task<Dispatcher::Submitted> Dispatcher::submit(DispatchRequest r,
                                               std::shared_ptr<ExecutionListener> listener) {
  const std::string request_id = r.request_id();
  if (auto it = outstanding_.find(request_id); it != outstanding_.end()) {
    if (it->second.org_id != r.organization_id) throw collision(request_id);
    count(metrics::DispatchOutcome::Deduplicated);
    co_return Submitted{Outcome::AlreadyInFlight, request_id, it->second.agent_id};
  }
  // A stored result answers the same attempt again (Cached). It is not read up front: the
  // dispatch record's commit below checks that no result is stored, in the same transaction,
  // so a new dispatch (the usual case) costs one trip to storage, not two. It is read where a
  // refusal would otherwise hide it: the gateway full, no host, or that commit's check failing.
  if (static_cast<int>(outstanding_.size()) >= settings_.max_outstanding) {
    std::optional<Submitted> hit = co_await cached(r, request_id);
    if (hit) co_return std::move(*hit);
    count(metrics::DispatchOutcome::Overloaded);
    throw api::unavailable("too many dispatches in flight (dispatch.max_outstanding = " +
                           std::to_string(settings_.max_outstanding) + "); retry later");
  }
  const int64_t timeout_ms = r.timeout_ms > 0 ? r.timeout_ms : settings_.default_timeout_ms;

  // Up to two hosts: one picked here can vanish while its dispatch record is being written.
  bool check_result = true;  // cleared once an expired result was found (it gives way)
  int hosts_tried = 0;
  while (hosts_tried < 2) {
    if (outstanding_.count(request_id)) {  // a concurrent submit of the same attempt won
      count(metrics::DispatchOutcome::Deduplicated);
      co_return Submitted{Outcome::AlreadyInFlight, request_id, outstanding_[request_id].agent_id};
    }
    Pick p = pick(r);
    if (p.node == nullptr) {
      std::optional<Submitted> hit = co_await cached(r, request_id);
      if (hit) co_return std::move(*hit);
      L()->warn("dispatch {} (org {}): {}", request_id, r.organization_id, p.reason);
      count(metrics::DispatchOutcome::Unavailable);
      throw no_agent(p.reason);
    }
    const std::string agent_id = p.node->node_id;
    const int64_t deadline_ms = util::now_ms() + timeout_ms;
    // Reserve in memory first (inside the Sequencer, so no other submit sees a free slot), then
    // record the dispatch, then tell the host, then answer once the record is durable. The
    // record is applied (it survives a crash of this process) before the host sees the
    // execute; the sync that makes it survive a crash of the machine runs while the host works
    // (storage.md, "Deferred syncs").
    arm(request_id,
        Outstanding{r.organization_id, agent_id, 0, listener, std::chrono::steady_clock::now()},
        deadline_ms);
    load_[agent_id].last_used = ++dispatch_counter_;
    DispatchRecord record{request_id,          r.organization_id,    agent_id, r.kind, deadline_ms,
                          util::now_iso8601(), settings_.instance_id};
    if (listener) record.resume = listener->resume_state();
    Txn txn;
    txn.compares.push_back(Compare::absent(keys::dispatch(request_id)));
    constexpr uint32_t kResultCompare = 1;
    if (check_result) txn.compares.push_back(Compare::absent(keys::result(request_id)));
    txn.writes.push_back(Write::put(keys::dispatch(request_id), record_text(record)));
    core::TxnOutcome out;
    try {
      out = co_await storage_.commit(std::move(txn), core::Durability::Applied);
    } catch (...) {
      release(request_id);
      throw;
    }
    if (!out.applied) {
      release(request_id);
      if (check_result && out.failed_compare == kResultCompare) {
        // A result is stored: this attempt ran already. One that has expired (not swept yet)
        // is no answer; the dispatch goes ahead and its result will replace it.
        std::optional<Submitted> hit = co_await cached(r, request_id);
        if (hit) co_return std::move(*hit);
        check_result = false;
        continue;
      }
      // Another gateway (or a lost race) already dispatched this attempt.
      count(metrics::DispatchOutcome::Deduplicated);
      co_return Submitted{Outcome::AlreadyInFlight, request_id, ""};
    }

    const nodes::ConnectedNode* node = router_.find(agent_id);
    if (node != nullptr && node->link->send_frame(execute_frame(request_id, r))) {
      L()->info("dispatched {} ({}) to node host {} (org {}, timeout {} ms)", request_id, r.kind,
                agent_id, r.organization_id, timeout_ms);
      co_return Submitted{Outcome::Dispatched, request_id, agent_id, out.revision};
    }
    L()->warn("dispatch {}: node host {} went away before the execute was sent; choosing again",
              request_id, agent_id);
    release(request_id);
    Txn undo;
    undo.writes.push_back(Write::del(keys::dispatch(request_id)));
    co_await storage_.commit(std::move(undo));
    ++hosts_tried;
  }
  count(metrics::DispatchOutcome::Unavailable);
  throw no_agent("the chosen node hosts disconnected while the dispatch was sent");
}

Task<void> Dispatcher::durable(const Submitted& submitted) {
  try {
    co_await storage_.durable_through(submitted.record_revision);
  } catch (const core::StorageError& e) {
    // The host has it and its result will be stored; only the record's sync failed.
    L()->error("dispatch {}: sent to node host {}, but its record could not be synced: {}",
               submitted.request_id, submitted.agent_id, e.what());
    throw;
  }
}

bool Dispatcher::cancel(const std::string& request_id, const std::string& session_id) {
  auto it = outstanding_.find(request_id);
  if (it == outstanding_.end()) return false;
  const nodes::ConnectedNode* node = router_.find(it->second.agent_id);
  if (node == nullptr) return false;
  json frame = {{"type", "session_cancel"},
                {"requestId", request_id},
                {"organizationId", it->second.org_id},
                {"sessionId", session_id}};
  const bool sent = node->link->send_frame(frame.dump());
  L()->info("dispatch {}: cancel {} node host {}", request_id, sent ? "sent to" : "could not reach",
            it->second.agent_id);
  return sent;
}

Task<void> Dispatcher::time_out(std::string request_id) {
  auto it = outstanding_.find(request_id);
  if (it == outstanding_.end()) co_return;
  Outstanding o = it->second;
  release(request_id);
  if (!settings_.instance_id.empty()) {
    // Adopted by another instance while this one was cut off from it (a bus outage past the
    // lease): that one waits for the host now, and its timeout or result is the one that counts.
    auto record = co_await storage_.get(keys::dispatch(request_id));
    json rec = record ? json::parse(record->value, nullptr, false) : json();
    if (rec.is_object() && rec.value("instance", settings_.instance_id) != settings_.instance_id) {
      L()->info("dispatch {} is waited for by instance \"{}\" now; not timed out here", request_id,
                rec.value("instance", ""));
      co_return;
    }
    std::optional<StoredResult> stored;
    if (!record) stored = co_await results_.get(request_id);
    if (stored) {
      L()->info("dispatch {}: its result was stored elsewhere; not timed out here", request_id);
      co_return;
    }
  }
  L()->warn("dispatch {} timed out on node host {}", request_id, o.agent_id);
  StoredResult r;
  r.request_id = request_id;
  r.org_id = o.org_id;
  r.agent_id = o.agent_id;
  r.source = "gateway";
  r.result = {{"status", "failed"}, {"error", "NODE_EXECUTION_TIMEOUT"}};
  co_await results_.put(r);
  count_end(o, r.result);
  if (o.listener) o.listener->on_result(request_id, r.result);
}

void Dispatcher::received(const std::string& agent_id, const std::string& request_id) {
  auto it = outstanding_.find(request_id);
  if (it == outstanding_.end()) {
    if (relay_ != nullptr) relay_->relay("received", request_id, agent_id, nullptr);
    return;
  }
  if (it->second.agent_id != agent_id) return;
  if (it->second.listener) it->second.listener->on_received(request_id);
}

void Dispatcher::event(const std::string& agent_id, const std::string& request_id, const json& ev) {
  auto it = outstanding_.find(request_id);
  if (it == outstanding_.end()) {
    if (relay_ != nullptr) relay_->relay("event", request_id, agent_id, ev);
    return;
  }
  if (it->second.agent_id != agent_id) return;
  if (it->second.listener) it->second.listener->on_event(request_id, ev);
}

void Dispatcher::relayed(const std::string& kind, const std::string& request_id,
                         const std::string& agent_id, const json& payload) {
  auto it = outstanding_.find(request_id);
  if (it == outstanding_.end() || it->second.agent_id != agent_id) return;
  std::shared_ptr<ExecutionListener> listener = it->second.listener;
  if (kind == "received") {
    if (listener) listener->on_received(request_id);
  } else if (kind == "event") {
    if (listener) listener->on_event(request_id, payload);
  } else if (kind == "result") {
    // Stored by the instance the host answered on; only the waiting ends here.
    count_end(it->second, payload);
    release(request_id);
    L()->info("result for {} from node host {} (relayed): {}", request_id, agent_id,
              payload.value("status", "?"));
    if (listener) listener->on_result(request_id, payload);
  }
}

Task<Dispatcher::Completion> Dispatcher::complete(std::string agent_id, std::string org_id,
                                                  HostResult result) {
  const std::string request_id = std::move(result.request_id);
  StoredResult r;
  r.request_id = request_id;
  r.agent_id = agent_id;
  r.source = "agent";
  r.result_text = std::move(result.text);
  std::shared_ptr<ExecutionListener> listener;
  const bool waited_for_here = outstanding_.count(request_id) != 0;
  if (auto it = outstanding_.find(request_id); it != outstanding_.end()) {
    // Only the host the work was sent to answers it.
    if (it->second.org_id != org_id || it->second.agent_id != agent_id)
      co_return Completion::Foreign;
    r.org_id = it->second.org_id;
    listener = it->second.listener;
  } else {
    // Nobody waits any more (timed out, or another host's attempt): store it only where this
    // org's request is known, so a host cannot plant results for requests it was never sent.
    auto known = co_await results_.get(request_id);
    if (!known) {
      auto record = co_await storage_.get(keys::dispatch(request_id));
      if (!record) co_return Completion::Unknown;
      json rec = json::parse(record->value);
      if (rec.value("orgId", "") != org_id || rec.value("agentId", "") != agent_id)
        co_return Completion::Foreign;
    } else if (known->org_id != org_id || known->agent_id != agent_id) {
      co_return Completion::Foreign;
    }
    r.org_id = org_id;
  }
  // The text moves on to the store. A copy is kept only for whoever reads it afterwards: the
  // listener, or the relay when nobody here waits (a result can be as large as a host's frame).
  const bool keep_text = listener || (relay_ != nullptr && !waited_for_here);
  const std::string text = keep_text ? r.result_text : std::string();
  ResultStore::Stored stored = co_await results_.put(std::move(r));
  // Released only after the result is durable: until then the slot is still taken.
  auto waited = outstanding_.find(request_id);
  bool was_outstanding = waited != outstanding_.end();
  if (was_outstanding && stored != ResultStore::Stored::Duplicate)
    count_end(waited->second, result.succeeded, result.error);
  release(request_id);
  if (stored == ResultStore::Stored::Duplicate) co_return Completion::Duplicate;
  L()->info("result for {} from node host {}: {}{}", request_id, agent_id,
            result.succeeded ? "succeeded" : "failed",
            was_outstanding ? "" : " (not waited for here; stored)");
  const bool relayed = !was_outstanding && relay_ != nullptr;
  if (listener || relayed) {
    // The text was checked when the host's frame was read, so it parses. A dispatch that timed
    // out here while its result was stored is relayed too, from the store (its copy was not
    // kept: it was waited for when the result came).
    json dom;
    if (keep_text) {
      dom = json::parse(text);
    } else if (std::optional<StoredResult> kept = co_await results_.get(request_id)) {
      dom = std::move(kept->result);
    }
    if (listener) listener->on_result(request_id, dom);
    if (relayed && !dom.is_null()) relay_->relay("result", request_id, agent_id, dom);
  }
  co_return Completion::Stored;
}

Task<std::optional<json>> Dispatcher::result(std::string request_id) {
  auto r = co_await results_.get(request_id);
  if (!r) co_return std::nullopt;
  co_return r->result;
}

Task<size_t> Dispatcher::recover() {
  auto rows = co_await storage_.scan_prefix(keys::kDispatchPrefix);
  size_t rearmed = 0;
  for (const auto& row : rows) {
    json rec = json::parse(row.value);
    // Another instance's dispatch: it waits for it (and re-arms it when it restarts).
    if (rec.contains("instance") && rec["instance"] != settings_.instance_id) continue;
    std::string request_id = rec.value("requestId", row.key.substr(keys::kDispatchPrefix.size()));
    Outstanding o{rec.value("orgId", ""), rec.value("agentId", ""), 0, nullptr};
    if (resumer_ && rec.contains("resume")) o.listener = resumer_(request_id, rec["resume"]);
    // Overdue ones time out at once (the deadline is in the past).
    arm(request_id, std::move(o), rec.value("deadlineMs", int64_t{0}));
    ++rearmed;
  }
  if (rearmed > 0) L()->info("re-armed {} outstanding dispatch(es) from storage", rearmed);
  schedule_sweep();
  co_return rearmed;
}

Task<size_t> Dispatcher::adopt(std::string instance, std::function<bool(const std::string&)> takes,
                               RelayedHistory history) {
  auto rows = co_await storage_.scan_prefix(keys::kDispatchPrefix);
  size_t adopted = 0;
  for (const auto& row : rows) {
    json rec = json::parse(row.value, nullptr, false);
    if (!rec.is_object() || rec.value("instance", "") != instance) continue;
    const std::string agent_id = rec.value("agentId", "");
    const std::string request_id =
        rec.value("requestId", row.key.substr(keys::kDispatchPrefix.size()));
    if (outstanding_.count(request_id) || !takes(agent_id)) continue;
    rec["instance"] = settings_.instance_id;
    rec["adoptedFrom"] = instance;
    Txn claim;
    claim.compares.push_back(Compare::version_is(row.key, row.version));
    claim.writes.push_back(Write::put(row.key, rec.dump()));
    core::TxnOutcome out = co_await storage_.commit(std::move(claim));
    // Another instance claimed it first, or its result came in meanwhile.
    if (!out.applied || outstanding_.count(request_id)) continue;
    Outstanding o{rec.value("orgId", ""), agent_id, 0, nullptr};
    if (resumer_ && rec.contains("resume")) o.listener = resumer_(request_id, rec["resume"]);
    std::shared_ptr<ExecutionListener> listener = o.listener;
    arm(request_id, std::move(o), rec.value("deadlineMs", int64_t{0}));
    ++adopted;
    auto events = history ? history(request_id) : std::nullopt;
    L()->info(
        "adopted dispatch {} (node host {}) from instance \"{}\"{}", request_id, agent_id, instance,
        events ? " with " + std::to_string(events->size()) + " relayed event(s) replayed" : "");
    if (listener && events) {
      listener->replaying_from_first_event();
      for (const auto& ev : *events) listener->on_event(request_id, ev);
    }
  }
  co_return adopted;
}

void Dispatcher::schedule_sweep() {
  if (stopped_) return;
  sweep_deadline_ = deadlines_.after(settings_.sweep_interval, [this] {
    core::spawn<size_t>(
        results_.sweep(util::now_ms(), 1000),
        [this](size_t n) {
          if (n > 0) L()->debug("deleted {} expired result(s)", n);
          schedule_sweep();
        },
        [this](std::exception_ptr e) {
          log_error(e, "result sweep");
          schedule_sweep();
        });
  });
}

}  // namespace vespid::dispatch
