// The NodeRouter the services use when several gateway instances share one deployment: nodes
// connected here are reached through the local router, nodes held by another instance through
// the bus (presence.hpp says which instance holds which node).
//
// - invoke: a request to the holding instance, which runs it on its local router and replies
//   with the node's answer as text. The bus deadline is the invoke's own plus a margin, so the
//   holding instance's "did not answer" wins; an instance that dies with invokes in flight fails
//   them when its lease ends (or at once, when the bus says nobody holds its subject).
// - dispatch: the services send node hosts `execute` frames through ConnectedNode::link; for a
//   remote node that link publishes the frame to the holding instance, which writes it to the
//   node host's socket. The host's answers come back through storage and cluster_fanout.hpp.
// - disconnect, tags, capabilities, commands: forwarded to the holding instance.
//
// Thread: the Sequencer, as every NodeRouter; bus deliveries hop into it.
#pragma once

#include <coroutine>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "cluster/cluster_wire.hpp"
#include "cluster/presence.hpp"
#include "host/bus/bus.hpp"
#include "runtime/deadlines.hpp"
#include "runtime/sequencer.hpp"
#include "services/nodes/node_router.hpp"

namespace vespid::cluster {

class ClusterNodeRouter final : public nodes::NodeRouter {
 public:
  ClusterNodeRouter(ClusterSettings settings, host::Bus& bus, core::Sequencer& sequencer,
                    core::Deadlines& deadlines, nodes::LocalNodeRouter& local);
  // Fails every invoke still waiting on another instance.
  ~ClusterNodeRouter() override;

  // Sequencer: serve this instance's subjects and join presence; stop(): leave.
  void start();
  void stop();
  const Presence& presence() const { return presence_; }
  // What this instance learns of nodes held elsewhere (Presence::Hooks::remote_presence).
  void on_remote_presence(
      std::function<void(const nodes::ConnectedNode& node, const std::string& instance)> fn) {
    presence_.on_remote_presence(std::move(fn));
  }
  // Told after invokes waiting on a lost instance have failed (set before start); not for an
  // instance that restarted, which re-arms its own dispatches.
  void on_instance_lost(std::function<void(const std::string& instance)> fn) {
    on_instance_lost_ = std::move(fn);
  }

  bool online(const std::string& node_id) const override;
  std::optional<nodes::Departure> last_departure(const std::string& node_id) const override {
    return local_.last_departure(node_id);
  }
  std::string holder(const std::string& node_id) const override;
  const nodes::ConnectedNode* find(const std::string& node_id) const override;
  core::Task<nodes::InvokeResult> invoke(std::string node_id, std::string command,
                                         std::string params_json,
                                         std::chrono::milliseconds timeout) override;
  // A node held here: the local router's, with no task; another instance's: over the bus.
  void start_invoke(const std::string& node_id, const std::string& command,
                    std::string_view params_json, std::chrono::milliseconds timeout,
                    nodes::InvokeWaiter& waiter) override;
  int disconnect(const std::string& node_id, const std::string& reason) override;
  // Nodes connected to this instance (the status of this process).
  size_t connected_count() const override { return local_.connected_count(); }
  std::vector<const nodes::ConnectedNode*> connected_in_org(
      const std::string& org_id) const override;
  void update_tags(const std::string& node_id, std::vector<std::string> tags) override;
  void update_capabilities(const std::string& node_id, nlohmann::json capabilities) override;
  void update_commands(const std::string& node_id, std::set<std::string> commands) override;

 private:
  class RemoteLink;
  struct Pending {
    std::string instance;
    std::coroutine_handle<> waiter;
    nodes::InvokeResult* result;
  };
  struct RemoteInvoke;

  // An invoke of a node held by another instance, over the bus.
  core::Task<nodes::InvokeResult> invoke_remote(std::string node_id, std::string command,
                                                std::string params_json,
                                                std::chrono::milliseconds timeout);
  void serve_invoke(std::string reply_to, const std::string& data);
  void serve_control(const std::string& data);
  void send_control(const std::string& instance, nlohmann::json body);
  void finish(uint64_t id, nodes::InvokeResult result);
  void instance_lost(const std::string& instance, const std::string& why, bool restarted);

  ClusterSettings settings_;
  Subjects subjects_;
  host::Bus& bus_;
  core::Sequencer& sequencer_;
  nodes::LocalNodeRouter& local_;
  Presence presence_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::vector<host::Bus::SubscriptionId> subscriptions_;
  std::unordered_map<uint64_t, Pending> pending_;
  uint64_t next_invoke_ = 1;
  std::function<void(const std::string& instance)> on_instance_lost_;
};

}  // namespace vespid::cluster
