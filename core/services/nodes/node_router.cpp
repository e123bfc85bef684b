#include "services/nodes/node_router.hpp"

#include <charconv>

#include "runtime/gateway_metrics.hpp"
#include "runtime/logging.hpp"
#include "runtime/time.hpp"

namespace vespid::nodes {

using nlohmann::json;

namespace {
InvokeResult unavailable(std::string message) {
  return {false, {}, "UNAVAILABLE", std::move(message)};
}

void count(metrics::InvokeOutcome outcome) {
  metrics::instruments().invokes[outcome].inc();
}

// A sent invoke's outcome: the node's answer, or the gateway's UNAVAILABLE when it was lost.
metrics::InvokeOutcome outcome_of(const InvokeResult& r, bool timed_out) {
  if (timed_out) return metrics::InvokeOutcome::Timeout;
  if (r.ok) return metrics::InvokeOutcome::Ok;
  return r.error_code == "UNAVAILABLE" ? metrics::InvokeOutcome::Unavailable
                                       : metrics::InvokeOutcome::Error;
}

// The invoke number in an id this router made ("inv-<n>"); 0 for any other text, which no
// pending invoke has.
uint64_t invoke_number(std::string_view id) {
  constexpr std::string_view prefix = "inv-";
  if (!id.starts_with(prefix)) return 0;
  const char* first = id.data() + prefix.size();
  const char* last = id.data() + id.size();
  uint64_t n = 0;
  const auto [end, error] = std::from_chars(first, last, n);
  // Digits only, all of them, in range (from_chars takes no sign or space, but a leading '+'
  // or a trailing byte would otherwise pass unread).
  if (error != std::errc() || end != last || first == last) return 0;
  return n;
}
}  // namespace

void NodeRouter::start_invoke(const std::string& node_id, const std::string& command,
                              std::string_view params_json, std::chrono::milliseconds timeout,
                              InvokeWaiter& waiter) {
  core::spawn<InvokeResult>(
      invoke(node_id, command, std::string(params_json), timeout),
      [&waiter](InvokeResult r) { waiter.invoke_done(std::move(r)); },
      [&waiter](std::exception_ptr) {
        waiter.invoke_done(unavailable("the invoke failed inside the gateway"));
      });
}

LocalNodeRouter::~LocalNodeRouter() {
  fail_all("the gateway is shutting down");
}

void LocalNodeRouter::fail_all(const std::string& why) {
  std::vector<uint64_t> keys;
  pending_.for_each([&](uint64_t key, const Pending&) { keys.push_back(key); });
  for (uint64_t key : keys) finish(key, unavailable(why));
}

void LocalNodeRouter::attach(ConnectedNode node) {
  std::string id = node.node_id;
  if (auto it = nodes_.find(id); it != nodes_.end()) {
    std::shared_ptr<NodeLink> old = it->second.link;
    by_org_.remove(it->second);
    nodes_.erase(it);
    fail_pending_of(old.get(), "node reconnected; the invoke was sent on its previous connection");
    old->close("replaced by a newer connection of the same node");
    log::get("core")->info("node {} reconnected; previous connection closed", id);
  }
  node.connected_at = std::chrono::steady_clock::now();
  node.connected_at_ms = util::now_ms();
  departures_.erase(id);
  auto [it, inserted] = nodes_.emplace(id, std::move(node));
  (void)inserted;
  by_org_.add(it->second);
  for (auto* o : observers_) o->node_attached(it->second);
}

void LocalNodeRouter::detach(const std::string& node_id, const NodeLink* link,
                             const std::string& reason) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || it->second.link.get() != link) return;  // a late close of an old link
  ConnectedNode gone = std::move(it->second);
  by_org_.remove(gone);
  nodes_.erase(it);
  fail_pending_of(link, "node disconnected");
  left(gone, reason);
}

void LocalNodeRouter::left(const ConnectedNode& node, const std::string& reason) {
  Departure d{reason, util::now_ms()};
  departures_[node.node_id] = d;
  for (auto* o : observers_) o->node_left(node, d);
  for (auto* o : observers_) o->node_detached(node.node_id);
}

std::optional<Departure> LocalNodeRouter::last_departure(const std::string& node_id) const {
  auto it = departures_.find(node_id);
  if (it == departures_.end()) return std::nullopt;
  return it->second;
}

const ConnectedNode* LocalNodeRouter::find(const std::string& node_id) const {
  auto it = nodes_.find(node_id);
  return it == nodes_.end() ? nullptr : &it->second;
}

void LocalNodeRouter::fail_pending_of(const NodeLink* link, const std::string& why) {
  std::vector<uint64_t> ids;
  pending_.for_each([&](uint64_t key, const Pending& p) {
    if (p.link == link) ids.push_back(key);
  });
  for (const auto& id : ids) finish(id, unavailable(why));
}

// A task's wait for its invoke: the waiter start_invoke tells, which resumes the task, or lets
// it go on without suspending when the outcome came at once (a refusal).
struct NodeRouter::StartedInvoke final : InvokeWaiter {
  NodeRouter& router;
  std::string node_id;
  std::string command;
  std::string params_json;
  std::chrono::milliseconds timeout;
  std::optional<InvokeResult> result;
  std::coroutine_handle<> waiting;  // set once the task has suspended

  StartedInvoke(NodeRouter& r, std::string node, std::string cmd, std::string params,
                std::chrono::milliseconds t)
      : router(r),
        node_id(std::move(node)),
        command(std::move(cmd)),
        params_json(std::move(params)),
        timeout(t) {}

  void invoke_done(InvokeResult&& r) override {
    result = std::move(r);
    if (waiting) waiting.resume();  // inside the caller's Sequencer: the task continues here
  }
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    router.start_invoke(node_id, command, params_json, timeout, *this);
    if (result) return false;  // refused at once: go on without suspending
    waiting = h;
    return true;
  }
  InvokeResult await_resume() { return std::move(*result); }
};

core::Task<InvokeResult> NodeRouter::invoke_by_start(std::string node_id, std::string command,
                                                     std::string params_json,
                                                     std::chrono::milliseconds timeout) {
  StartedInvoke awaiter(*this, std::move(node_id), std::move(command), std::move(params_json),
                        timeout);
  InvokeResult result = co_await awaiter;
  co_return result;
}

core::Task<InvokeResult> LocalNodeRouter::invoke(std::string node_id, std::string command,
                                                 std::string params_json,
                                                 std::chrono::milliseconds timeout) {
  return invoke_by_start(std::move(node_id), std::move(command), std::move(params_json), timeout);
}

void LocalNodeRouter::start_invoke(const std::string& node_id, const std::string& command,
                                   std::string_view params_json, std::chrono::milliseconds timeout,
                                   InvokeWaiter& waiter) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) {
    count(metrics::InvokeOutcome::Unavailable);
    waiter.invoke_done(unavailable("node \"" + node_id + "\" is not connected"));
    return;
  }
  ConnectedNode& node = it->second;
  if (!node.commands.count(command)) {
    count(metrics::InvokeOutcome::Refused);
    waiter.invoke_done(unavailable("node \"" + node_id + "\" did not declare the command \"" +
                                   command + "\" when it was paired or re-approved"));
    return;
  }
  if (node.in_flight >= max_in_flight_) {
    count(metrics::InvokeOutcome::Refused);
    waiter.invoke_done(unavailable("node \"" + node_id + "\" has " +
                                   std::to_string(node.in_flight) +
                                   " invokes in flight (invoke.max_in_flight_per_node)"));
    return;
  }
  std::shared_ptr<NodeLink> link = node.link;  // keeps the link alive while we send
  node.in_flight++;
  const uint64_t key = pending_.insert(
      Pending{node_id, link.get(), &waiter, 0, std::chrono::steady_clock::now(), timeout});
  // The callback holds the router and the key, small enough for std::function's own storage:
  // an invoke's timeout costs no allocation.
  pending_.find(key)->deadline = deadlines_.after(timeout, [this, key] {
    const Pending* p = pending_.find(key);
    if (p == nullptr) return;
    finish(
        key,
        unavailable("the node did not answer within " + std::to_string(p->timeout.count()) + " ms"),
        true);
  });
  // The id names the pending entry, so the answer finds it without a lookup of its own. The
  // answer comes through the Sequencer, which this turn holds, so it cannot overtake this send;
  // a transport that fails the send closes the link, and that close (a later turn) fails the
  // invoke like any other in flight.
  char id_text[32] = "inv-";
  const auto id_end = std::to_chars(id_text + 4, id_text + sizeof id_text, key).ptr;
  link->send_invoke(std::string_view(id_text, static_cast<size_t>(id_end - id_text)), command,
                    params_json);
}

void LocalNodeRouter::complete(const NodeLink* link, std::string_view invoke_id,
                               InvokeResult&& result) {
  const uint64_t number = invoke_number(invoke_id);
  const Pending* p = pending_.find(number);
  if (p == nullptr || p->link != link) {
    late_results_++;
    metrics::instruments().invoke_late_results.inc();
    log::get("core")->debug("dropping an invoke result nobody waits for ({})", invoke_id);
    return;
  }
  finish(number, std::move(result));
}

void LocalNodeRouter::finish(uint64_t invoke, InvokeResult&& result, bool timed_out) {
  std::optional<Pending> taken = pending_.take(invoke);
  if (!taken) return;
  Pending& p = *taken;
  deadlines_.cancel(p.deadline);
  metrics::instruments().invoke_duration.observe(std::chrono::steady_clock::now() - p.sent_at);
  count(outcome_of(result, timed_out));
  if (auto node = nodes_.find(p.node_id); node != nodes_.end() && node->second.link.get() == p.link)
    node->second.in_flight--;
  p.waiter->invoke_done(std::move(result));  // may free the waiter: nothing of it read after
}

int LocalNodeRouter::disconnect(const std::string& node_id, const std::string& reason) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return 0;
  ConnectedNode gone = std::move(it->second);
  std::shared_ptr<NodeLink> link = gone.link;
  by_org_.remove(gone);
  nodes_.erase(it);
  fail_pending_of(link.get(), reason);
  link->close(reason);
  left(gone, reason);
  return 1;
}

std::vector<const ConnectedNode*> LocalNodeRouter::connected_in_org(
    const std::string& org_id) const {
  return by_org_.in_org(org_id);
}

void LocalNodeRouter::update_tags(const std::string& node_id, std::vector<std::string> tags) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  it->second.tags = std::move(tags);
  for (auto* o : observers_) o->node_updated(it->second);
}

void LocalNodeRouter::update_capabilities(const std::string& node_id, json capabilities) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  it->second.capabilities = HostCapabilities(std::move(capabilities));
  for (auto* o : observers_) o->node_updated(it->second);
}

void LocalNodeRouter::update_commands(const std::string& node_id, std::set<std::string> commands) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  it->second.commands = std::move(commands);
  for (auto* o : observers_) o->node_updated(it->second);
}

}  // namespace vespid::nodes
