// Which nodes are connected, and invoking commands on them.
//
// The core reaches connected nodes only through NodeRouter, so that a later multi-instance
// deployment can put a router that forwards over a message bus behind the same interface. The
// local implementation keeps one link per node id: a new authenticated connection replaces the
// old one, and the old one's late close does not remove the new one.
#pragma once

#include <algorithm>
#include <chrono>
#include <coroutine>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/deadlines.hpp"
#include "runtime/slot_map.hpp"
#include "runtime/task.hpp"
#include "services/nodes/host_capabilities.hpp"

namespace vespid::nodes {

struct InvokeResult {
  bool ok = false;
  // When ok: the node's answer as one JSON value in text form, checked by the dialect that
  // received it (json_text::is_spliceable_value), so it is passed on without being re-built.
  std::string payload_json;
  std::string error_code;  // when !ok: the node's code, or UNAVAILABLE from the gateway
  std::string error_message;
};

// Waits for one invoke started with NodeRouter::start_invoke: told its outcome exactly once,
// inside the Sequencer. Not owned by the router; it must outlive that call.
class InvokeWaiter {
 public:
  virtual void invoke_done(InvokeResult&& result) = 0;

 protected:
  ~InvokeWaiter() = default;
};

// How a dialect reaches one connected node. Called inside the Sequencer.
class NodeLink {
 public:
  virtual ~NodeLink() = default;
  // `params_json`: one JSON value as text, checked where it came in (json_scan or a DOM's
  // dump); empty when the caller gave none (the frame then carries no params).
  virtual void send_invoke(std::string_view invoke_id, std::string_view command,
                           std::string_view params_json) = 0;
  virtual void close(const std::string& reason) = 0;
  virtual std::string transport_name() const = 0;  // "bridge", "ws"
  virtual std::string remote_address() const = 0;
  // Node hosts (vespid.node.v1) take work as whole frames (`execute`). Returns false when the
  // frame could not be queued (the connection is gone or over its send limit).
  virtual bool send_frame(const std::string& /*frame*/) { return false; }
};

struct ConnectedNode {
  std::string node_id;
  std::string org_id;
  std::set<std::string> commands;  // approved commands: the only ones the gateway invokes
  std::shared_ptr<NodeLink> link;
  int in_flight = 0;
  std::chrono::steady_clock::time_point connected_at;
  int64_t connected_at_ms = 0;    // wall clock, for people (statusReason, connectedAt)
  std::string kind = "bridge";    // or "agent" (a node host on vespid.node.v1)
  std::vector<std::string> tags;  // stored tags (authoritative); kept fresh by set_tags
  HostCapabilities capabilities;  // the host's hello: a hint
};

// The connected nodes of each org, by id: routing by selector looks at one org, not at every
// node. It holds pointers to records its owner keeps (elements of an unordered_map, which never
// move); the owner adds a record once it is in place and removes it before it goes.
class OrgIndex {
 public:
  void add(const ConnectedNode& n) { by_org_[n.org_id][n.node_id] = &n; }
  void remove(const ConnectedNode& n) {
    auto it = by_org_.find(n.org_id);
    if (it == by_org_.end()) return;
    it->second.erase(n.node_id);
    if (it->second.empty()) by_org_.erase(it);
  }
  // The org's nodes, ordered by id.
  std::vector<const ConnectedNode*> in_org(const std::string& org_id) const {
    std::vector<const ConnectedNode*> out;
    auto it = by_org_.find(org_id);
    if (it == by_org_.end()) return out;
    out.reserve(it->second.size());
    for (const auto& [id, node] : it->second) out.push_back(node);
    return out;
  }

 private:
  std::unordered_map<std::string, std::map<std::string, const ConnectedNode*>> by_org_;
};

// Why a node's last connection here ended, kept in memory for its statusReason.
struct Departure {
  std::string reason;  // "ping timeout: ...", the transport's close reason, an operator's revoke
  int64_t at_ms = 0;   // wall clock
};

class NodeRouter {
 public:
  virtual ~NodeRouter() = default;
  // Why the node's last connection to this instance ended, if it did here since start-up.
  virtual std::optional<Departure> last_departure(const std::string& node_id) const {
    (void)node_id;
    return std::nullopt;
  }
  // The gateway instance (cluster.instance_id) holding the node's live connection; empty when
  // it is not connected or the router does not know instances.
  virtual std::string holder(const std::string& node_id) const {
    (void)node_id;
    return {};
  }
  virtual bool online(const std::string& node_id) const = 0;
  virtual const ConnectedNode* find(const std::string& node_id) const = 0;
  // Resolves with the node's answer, or UNAVAILABLE (not connected, command not declared, too
  // many in flight, timed out, node disconnected). `params_json` as for NodeLink::send_invoke.
  virtual core::Task<InvokeResult> invoke(std::string node_id, std::string command,
                                          std::string params_json,
                                          std::chrono::milliseconds timeout) = 0;
  // The same invoke with no coroutine of the caller's (a hot frame's): `waiter` is told the
  // outcome once, perhaps before this returns (a refusal). Nothing passed by reference is read
  // once the waiter is told, so the arguments may be the waiter's own. This default runs
  // invoke() as a task; LocalNodeRouter needs none.
  virtual void start_invoke(const std::string& node_id, const std::string& command,
                            std::string_view params_json, std::chrono::milliseconds timeout,
                            InvokeWaiter& waiter);
  // Closes the node's connection(s); returns how many were closed.
  virtual int disconnect(const std::string& node_id, const std::string& reason) = 0;
  virtual size_t connected_count() const = 0;
  // The org's connected nodes (any kind), for routing work by selector.
  virtual std::vector<const ConnectedNode*> connected_in_org(const std::string& org_id) const = 0;
  // Stored facts changed while the node is connected.
  virtual void update_tags(const std::string& node_id, std::vector<std::string> tags) = 0;
  virtual void update_capabilities(const std::string& node_id, nlohmann::json capabilities) = 0;
  // An operator approved more commands: the live connection may be invoked with them at once.
  virtual void update_commands(const std::string& node_id, std::set<std::string> commands) = 0;

 protected:
  // invoke() as a wait for start_invoke(), for a router whose start_invoke needs no coroutine:
  // the task suspends only when the outcome does not come at once.
  core::Task<InvokeResult> invoke_by_start(std::string node_id, std::string command,
                                           std::string params_json,
                                           std::chrono::milliseconds timeout);

 private:
  struct StartedInvoke;
};

// Told about every change to the nodes connected here, so that other gateway instances can
// learn which instance holds which node (core/cluster/presence.hpp). Called inside the Sequencer,
// after the router's own state has changed.
class NodeRouterObserver {
 public:
  virtual ~NodeRouterObserver() = default;
  virtual void node_attached(const ConnectedNode& node) = 0;
  virtual void node_detached(const std::string& node_id) = 0;
  // The node's connection here ended (told just before node_detached), with why.
  virtual void node_left(const ConnectedNode& node, const Departure& why) { (void)node, (void)why; }
  // Tags, capabilities or commands changed.
  virtual void node_updated(const ConnectedNode& node) = 0;
};

class LocalNodeRouter final : public NodeRouter {
 public:
  LocalNodeRouter(core::Deadlines& deadlines, int max_in_flight_per_node)
      : deadlines_(deadlines), max_in_flight_(max_in_flight_per_node) {}
  // Fails every invoke still waiting, so no coroutine is left suspended (and leaked) at exit.
  ~LocalNodeRouter() override;

  // A node authenticated on `link`. Replaces (and closes) any previous link of the node.
  void attach(ConnectedNode node);
  // `link` went away (`reason`: why, for the node's statusReason). Ignored unless it is the
  // node's current link. Fails its pending invokes.
  void detach(const std::string& node_id, const NodeLink* link,
              const std::string& reason = "connection closed");
  // The node answered invoke `id` on `link`. Unknown or late answers are dropped (and counted).
  void complete(const NodeLink* link, std::string_view invoke_id, InvokeResult&& result);

  bool online(const std::string& node_id) const override { return nodes_.count(node_id) != 0; }
  const ConnectedNode* find(const std::string& node_id) const override;
  core::Task<InvokeResult> invoke(std::string node_id, std::string command, std::string params_json,
                                  std::chrono::milliseconds timeout) override;
  void start_invoke(const std::string& node_id, const std::string& command,
                    std::string_view params_json, std::chrono::milliseconds timeout,
                    InvokeWaiter& waiter) override;
  int disconnect(const std::string& node_id, const std::string& reason) override;
  size_t connected_count() const override { return nodes_.size(); }
  std::vector<const ConnectedNode*> connected_in_org(const std::string& org_id) const override;
  void update_tags(const std::string& node_id, std::vector<std::string> tags) override;
  void update_capabilities(const std::string& node_id, nlohmann::json capabilities) override;
  void update_commands(const std::string& node_id, std::set<std::string> commands) override;
  std::optional<Departure> last_departure(const std::string& node_id) const override;
  uint64_t late_results() const noexcept { return late_results_; }
  // Invokes sent to nodes connected here and not answered yet.
  size_t invokes_in_flight() const noexcept { return pending_.size(); }
  // Fails every invoke still waiting with UNAVAILABLE (`why`); the destructor's, and a sharded
  // router's before its shards go.
  void fail_all(const std::string& why);
  // Told of every change, in the order added (presence for the cluster, operator events); add
  // them before any node attaches. remove_observer: when one goes away before the router.
  void add_observer(NodeRouterObserver* observer) { observers_.push_back(observer); }
  void remove_observer(NodeRouterObserver* observer) { std::erase(observers_, observer); }
  // Every connected node, for a full presence announcement.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [id, node] : nodes_) fn(node);
  }

 private:
  // An invoke sent and not answered, named by the number in its id ("inv-<key>"). It counts
  // against its node's in-flight limit until finish() takes it out.
  struct Pending {
    std::string node_id;
    const NodeLink* link;
    InvokeWaiter* waiter;
    core::Deadlines::Id deadline;
    std::chrono::steady_clock::time_point sent_at;
    std::chrono::milliseconds timeout;
  };
  // Takes the invoke out, counts its outcome and duration, and tells its waiter.
  void finish(uint64_t invoke, InvokeResult&& result, bool timed_out = false);
  void fail_pending_of(const NodeLink* link, const std::string& why);

  core::Deadlines& deadlines_;
  int max_in_flight_;

  std::unordered_map<std::string, ConnectedNode> nodes_;
  // The org's connected nodes (ConnectedNode lives in nodes_, whose elements never move).
  OrgIndex by_org_;
  core::SlotMap<Pending> pending_;
  uint64_t late_results_ = 0;
  void left(const ConnectedNode& node, const std::string& reason);
  std::vector<NodeRouterObserver*> observers_;
  // Why each node's last connection ended (since start-up): one entry per node id that ever
  // connected, as bounded as the registry; forgotten when the node connects again.
  std::unordered_map<std::string, Departure> departures_;
};

}  // namespace vespid::nodes
