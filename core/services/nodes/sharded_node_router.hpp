// Routing state partitioned by node (docs/design.md, "A core on more than one thread", steps 3
// and 4).
//
// Each shard of the core is the **home** of the nodes whose connections it owns. A home is a
// LocalNodeRouter of its own: the nodes' links, their pending invokes and those invokes'
// deadlines, all touched only inside the home's Sequencer. Every shard also keeps a **replica** of
// the directory: which nodes are connected, which shard is each one's home, and what each may be
// invoked with. A replica is written only by messages from the homes, in its own shard, so
// reading it takes no lock.
//
// An invoke whose caller and node share a shard runs as in a core of one shard, with no message.
// Otherwise the caller's shard posts it to the node's home, and the home posts the outcome back
// to the caller's shard, where its waiter is told. A message is Sequencer::post: it is queued for
// a thread of that shard's own, which the first message to find the shard idle wakes (a
// transport's I/O thread registered with io_thread_begin). A shard with no such thread runs it at
// once on the posting thread when idle, as Sequencer::execute does. A replica that is a moment
// stale costs what the caller would get now: the home finds the node gone and answers UNAVAILABLE.
//
// One node, two homes: a node that connects again on another shard before its old connection
// has gone. Each attach takes a number from one counter, and the higher number wins everywhere:
// a replica keeps the newer entry, and a home that hears of a newer attach of a node it holds
// closes its own connection ("replaced by a newer connection of the same node"), as one
// LocalNodeRouter does for a reconnect.
//
// Threading rule: every call is made inside one of the shards' Sequencers, and reads or writes
// that shard's state only. The calls a home makes (attach, detach, complete) name the home, and
// must be made inside it. Observers are told inside shard 0, the control shard, from its replica.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/deadlines.hpp"
#include "runtime/sequencer.hpp"
#include "services/nodes/node_router.hpp"

namespace vespid::nodes {

class ShardedNodeRouter final : public NodeRouter {
 public:
  struct Shard {
    core::Sequencer* sequencer = nullptr;
    core::Deadlines* deadlines = nullptr;  // fires into `sequencer`
  };

  ShardedNodeRouter(std::vector<Shard> shards, int max_in_flight_per_node);
  // Fails every invoke still waiting at its home (as LocalNodeRouter does). No shard may run
  // work meanwhile.
  ~ShardedNodeRouter() override;

  // ---- A home's calls, inside shard `home`'s Sequencer ----
  void attach(uint32_t home, ConnectedNode node);
  void detach(uint32_t home, const std::string& node_id, const NodeLink* link,
              const std::string& reason = "connection closed");
  void complete(uint32_t home, const NodeLink* link, std::string_view invoke_id,
                InvokeResult&& result);

  // ---- NodeRouter, inside any shard's Sequencer: that shard's replica ----
  bool online(const std::string& node_id) const override;
  // The replica's copy. Its in_flight is not kept: a node's home holds the true count.
  const ConnectedNode* find(const std::string& node_id) const override;
  core::Task<InvokeResult> invoke(std::string node_id, std::string command, std::string params_json,
                                  std::chrono::milliseconds timeout) override;
  void start_invoke(const std::string& node_id, const std::string& command,
                    std::string_view params_json, std::chrono::milliseconds timeout,
                    InvokeWaiter& waiter) override;
  // Asks the node's home to close it; 1 when the replica lists the node (closed by its home),
  // else 0.
  int disconnect(const std::string& node_id, const std::string& reason) override;
  size_t connected_count() const override;
  std::vector<const ConnectedNode*> connected_in_org(const std::string& org_id) const override;
  // Applied at the node's home, then to every replica. Messages from one shard to the home run
  // in the order sent, so an invoke sent after an update_commands sees the new commands.
  void update_tags(const std::string& node_id, std::vector<std::string> tags) override;
  void update_capabilities(const std::string& node_id, nlohmann::json capabilities) override;
  void update_commands(const std::string& node_id, std::set<std::string> commands) override;
  std::optional<Departure> last_departure(const std::string& node_id) const override;

  // Told inside shard 0, in the order shard 0's replica changes; add them before any node
  // attaches.
  void add_observer(NodeRouterObserver* observer) { observers_.push_back(observer); }

  size_t shard_count() const noexcept { return shards_.size(); }
  // Inside `home`: invokes sent to its nodes and not answered yet.
  size_t invokes_in_flight(uint32_t home) const { return shards_[home]->home.invokes_in_flight(); }

 private:
  // One shard's directory: every connected node, by id, with its home and attach number.
  struct Listed {
    uint32_t home = 0;
    uint64_t attach_number = 0;
    ConnectedNode node;
  };
  struct Replica {
    std::unordered_map<std::string, Listed> nodes;
    OrgIndex by_org;
    std::unordered_map<std::string, Departure> departures;
  };
  class HomeFeed;
  class Relay;
  struct alignas(64) ShardState {
    // Both where HomeFeed is complete.
    ShardState(Shard s, int max_in_flight);
    ~ShardState();
    Shard shard;
    LocalNodeRouter home;            // this shard's nodes: links, pending invokes
    Replica replica;                 // the directory as this shard last heard it
    std::unique_ptr<HomeFeed> feed;  // the home's observer: tells every replica
  };

  // The shard whose Sequencer runs on this thread; throws std::logic_error outside every shard.
  uint32_t calling_shard() const;
  // Runs fn inside shard `to`: at once when this thread runs it, else as a message.
  template <class Fn>
  void post(uint32_t to, Fn&& fn);
  // Inside shard `s`: its replica's entry for the node, or null.
  const Listed* listed(uint32_t s, const std::string& node_id) const;
  // To every shard's replica (the calling one's at once).
  void broadcast_attached(uint32_t home, uint64_t number, const ConnectedNode& node);
  void broadcast_detached(const ConnectedNode& node, const Departure& why);
  void broadcast_updated(const ConnectedNode& node);
  // Inside shard `s`: one replica change. A home that holds an older attach of the node drops it.
  void replica_attached(uint32_t s, uint32_t home, uint64_t number, ConnectedNode node);
  void replica_detached(uint32_t s, const std::string& node_id, const NodeLink* link,
                        const Departure& why);
  void replica_updated(uint32_t s, const ConnectedNode& node);
  // Runs fn(home's LocalNodeRouter) inside the node's home, as the calling shard's replica
  // names it; false when the replica does not list the node.
  template <class Fn>
  bool at_home(const std::string& node_id, Fn&& fn);

  std::vector<std::unique_ptr<ShardState>> shards_;  // fixed at construction
  std::atomic<uint64_t> attach_numbers_{0};
  std::vector<NodeRouterObserver*> observers_;  // told inside shard 0
};

}  // namespace vespid::nodes
