// Which gateway instance holds which node: learned from the bus, held under a lease.
//
// Every instance announces its own nodes as they come and go (numbered deltas), says it is alive
// every `heartbeat`, and answers a full `sync` on request. A receiver that sees a gap in an
// instance's numbering, a new epoch (the instance restarted) or a heartbeat whose number is not
// the last it applied asks that instance for its whole list, so a lost message costs a sync and
// nothing else. An instance not heard from for `lease` is dead to the others: its nodes are gone
// and whatever waits on it fails (hooks.instance_lost). One that stops cleanly says goodbye and
// is dropped at once.
//
// When the same node shows up on two instances (it reconnected elsewhere before its old socket
// noticed), the newer attachment wins and the instance holding the older one closes it.
//
// Thread: everything runs inside the Sequencer; bus deliveries hop into it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cluster/cluster_wire.hpp"
#include "host/bus/bus.hpp"
#include "runtime/deadlines.hpp"
#include "runtime/sequencer.hpp"
#include "services/nodes/node_router.hpp"

namespace vespid::cluster {

struct RemoteNode {
  nodes::ConnectedNode node;  // its link forwards over the bus (ClusterNodeRouter)
  std::string instance;
  int64_t attached_ms = 0;  // wall clock at the holding instance
};

class Presence final : public nodes::NodeRouterObserver {
 public:
  struct Hooks {
    // A link for a node held by `instance`.
    std::function<std::shared_ptr<nodes::NodeLink>(const std::string& instance,
                                                   const std::string& node_id)>
        make_link;
    // `instance` is gone (lease expired or goodbye): its nodes were just dropped.
    // `restarted`: it came back under a new epoch (it recovers its own dispatches itself).
    std::function<void(const std::string& instance, const std::string& why, bool restarted)>
        instance_lost;
    // A node came to be held by another instance (`instance`), or is no longer (`instance`
    // empty): what this instance learns of remote nodes, for operators' presence events. May
    // be empty.
    std::function<void(const nodes::ConnectedNode& node, const std::string& instance)>
        remote_presence;
  };

  Presence(ClusterSettings settings, host::Bus& bus, core::Sequencer& sequencer,
           core::Deadlines& deadlines, nodes::LocalNodeRouter& local, Hooks hooks);
  // Sets Hooks::remote_presence (before start).
  void on_remote_presence(
      std::function<void(const nodes::ConnectedNode& node, const std::string& instance)> fn) {
    hooks_.remote_presence = std::move(fn);
  }
  ~Presence() override;

  // Sequencer: subscribe, announce, start the heartbeat. stop(): say goodbye, unsubscribe.
  void start();
  void stop();

  const RemoteNode* find(const std::string& node_id) const;
  std::vector<const nodes::ConnectedNode*> in_org(const std::string& org_id) const;
  size_t remote_count() const noexcept { return nodes_.size(); }
  size_t instance_count() const noexcept { return instances_.size(); }
  bool alive(const std::string& instance) const { return instances_.count(instance) != 0; }
  // The other instances heard from within their lease.
  std::vector<std::string> instance_ids() const;
  // A remote node's tags/capabilities changed here before its instance says so.
  RemoteNode* find_mutable(const std::string& node_id);

  // NodeRouterObserver: the nodes connected here.
  void node_attached(const nodes::ConnectedNode& node) override;
  void node_detached(const std::string& node_id) override;
  void node_updated(const nodes::ConnectedNode& node) override;

 private:
  struct Instance {
    uint64_t epoch = 0;
    uint64_t seq = 0;  // the last delta applied
    core::Deadlines::Clock::time_point last_heard;
    std::unordered_set<std::string> nodes;
    bool syncing = false;
  };

  void subscribe(const std::string& subject, void (Presence::*handler)(const nlohmann::json&));
  void on_heartbeat(const nlohmann::json& m);
  void on_delta(const nlohmann::json& m);
  void on_goodbye(const nlohmann::json& m);
  void answer_sync(const std::string& reply_to);
  // The instance a message came from, made current: nullptr for our own messages. A new epoch
  // resets what we knew of it.
  Instance* heard_from(const nlohmann::json& m);
  void request_sync(const std::string& instance);
  void apply_sync(const std::string& instance, uint64_t epoch, const nlohmann::json& reply);
  void put_remote(const std::string& instance, const nlohmann::json& wire, int64_t attached_ms);
  void drop_remote(const std::string& node_id);
  void drop_instance(const std::string& instance, const std::string& why);
  void publish_delta(const char* op, nlohmann::json body);
  void tick();  // heartbeat out, leases checked

  ClusterSettings settings_;
  Subjects subjects_;
  host::Bus& bus_;
  core::Sequencer& sequencer_;
  core::Deadlines& deadlines_;
  nodes::LocalNodeRouter& local_;
  Hooks hooks_;
  // Bus deliveries and replies check it inside the Sequencer: false once stopped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  const uint64_t epoch_;
  uint64_t seq_ = 0;                                         // our last delta
  std::unordered_map<std::string, int64_t> local_attached_;  // node id -> wall-clock ms
  std::unordered_map<std::string, Instance> instances_;      // other instances heard from
  std::unordered_map<std::string, RemoteNode> nodes_;        // nodes held by other instances
  std::vector<host::Bus::SubscriptionId> subscriptions_;
  core::Deadlines::Id tick_ = 0;
  bool started_ = false;
};

}  // namespace vespid::cluster
