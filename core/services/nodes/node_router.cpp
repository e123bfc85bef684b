#include "services/nodes/node_router.hpp"

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
}  // namespace

LocalNodeRouter::~LocalNodeRouter() {
  while (!pending_.empty())
    finish(pending_.begin()->first, unavailable("the gateway is shutting down"));
}

void LocalNodeRouter::attach(ConnectedNode node) {
  std::string id = node.node_id;
  if (auto it = nodes_.find(id); it != nodes_.end()) {
    std::shared_ptr<NodeLink> old = it->second.link;
    index_remove(it->second);
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
  index_add(it->second);
  for (auto* o : observers_) o->node_attached(it->second);
}

void LocalNodeRouter::detach(const std::string& node_id, const NodeLink* link,
                             const std::string& reason) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || it->second.link.get() != link) return;  // a late close of an old link
  ConnectedNode gone = std::move(it->second);
  index_remove(gone);
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
  std::vector<std::string> ids;
  for (const auto& [id, p] : pending_) {
    if (p.link == link) ids.push_back(id);
  }
  for (const auto& id : ids) finish(id, unavailable(why));
}

struct LocalNodeRouter::InvokeAwaiter {
  LocalNodeRouter& router;
  std::string invoke_id;
  std::string node_id;
  const NodeLink* link;
  std::chrono::milliseconds timeout;
  InvokeResult result;
  bool timed_out = false;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    // The awaiter lives in the waiting frame until finish() resumes it, which cancels this. So
    // the callback needs only the awaiter, and a capture that small is kept inside the
    // std::function: an invoke's timeout costs no allocation.
    auto deadline = router.deadlines_.after(timeout, [self = this] {
      self->timed_out = true;
      // finish() no longer reads the id once it resumes the waiter (which frees the awaiter).
      self->router.finish(self->invoke_id,
                          unavailable("the node did not answer within " +
                                      std::to_string(self->timeout.count()) + " ms"));
    });
    router.pending_.emplace(invoke_id, Pending{node_id, link, h, &result, deadline});
  }
  InvokeResult await_resume() { return std::move(result); }
};

core::Task<InvokeResult> LocalNodeRouter::invoke(std::string node_id, std::string command,
                                                 std::string params_json,
                                                 std::chrono::milliseconds timeout) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) {
    count(metrics::InvokeOutcome::Unavailable);
    co_return unavailable("node \"" + node_id + "\" is not connected");
  }
  ConnectedNode& node = it->second;
  if (!node.commands.count(command)) {
    count(metrics::InvokeOutcome::Refused);
    co_return unavailable("node \"" + node_id + "\" did not declare the command \"" + command +
                          "\" when it was paired or re-approved");
  }
  if (node.in_flight >= max_in_flight_) {
    count(metrics::InvokeOutcome::Refused);
    co_return unavailable("node \"" + node_id + "\" has " + std::to_string(node.in_flight) +
                          " invokes in flight (invoke.max_in_flight_per_node)");
  }
  std::string invoke_id = "inv-" + std::to_string(next_invoke_++);
  std::shared_ptr<NodeLink> link = node.link;  // keeps the link alive while we send
  node.in_flight++;
  const auto sent_at = std::chrono::steady_clock::now();
  link->send_invoke(invoke_id, command, params_json);
  InvokeAwaiter awaiter{*this, invoke_id, node_id, link.get(), timeout, {}, false};
  InvokeResult result = co_await awaiter;
  metrics::instruments().invoke_duration.observe(std::chrono::steady_clock::now() - sent_at);
  count(outcome_of(result, awaiter.timed_out));
  if (auto again = nodes_.find(node_id); again != nodes_.end() && again->second.link == link) {
    again->second.in_flight--;
  }
  co_return result;
}

void LocalNodeRouter::complete(const NodeLink* link, const std::string& invoke_id,
                               InvokeResult result) {
  auto it = pending_.find(invoke_id);
  if (it == pending_.end() || it->second.link != link) {
    late_results_++;
    metrics::instruments().invoke_late_results.inc();
    log::get("core")->debug("dropping an invoke result nobody waits for ({})", invoke_id);
    return;
  }
  finish(invoke_id, std::move(result));
}

void LocalNodeRouter::finish(const std::string& invoke_id, InvokeResult result) {
  auto it = pending_.find(invoke_id);
  if (it == pending_.end()) return;
  // invoke_id may be the key erased here, or the awaiter's that resume() frees: not read again.
  Pending p = std::move(it->second);
  pending_.erase(it);
  deadlines_.cancel(p.deadline);
  *p.result = std::move(result);
  p.waiter.resume();  // we are inside the Sequencer: the waiting coroutine continues here
}

int LocalNodeRouter::disconnect(const std::string& node_id, const std::string& reason) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return 0;
  ConnectedNode gone = std::move(it->second);
  std::shared_ptr<NodeLink> link = gone.link;
  index_remove(gone);
  nodes_.erase(it);
  fail_pending_of(link.get(), reason);
  link->close(reason);
  left(gone, reason);
  return 1;
}

void LocalNodeRouter::index_add(const ConnectedNode& n) {
  by_org_[n.org_id][n.node_id] = &n;
}

void LocalNodeRouter::index_remove(const ConnectedNode& n) {
  auto it = by_org_.find(n.org_id);
  if (it == by_org_.end()) return;
  it->second.erase(n.node_id);
  if (it->second.empty()) by_org_.erase(it);
}

std::vector<const ConnectedNode*> LocalNodeRouter::connected_in_org(
    const std::string& org_id) const {
  std::vector<const ConnectedNode*> out;
  auto it = by_org_.find(org_id);
  if (it == by_org_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [id, node] : it->second) out.push_back(node);
  return out;
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
