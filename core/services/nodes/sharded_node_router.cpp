#include "services/nodes/sharded_node_router.hpp"

#include <stdexcept>
#include <utility>

#include "runtime/logging.hpp"

namespace vespid::nodes {

// A home's observer: what changes at the home (a detach, a disconnect, an update) goes to every
// replica. Attaches are told by ShardedNodeRouter::attach itself, which knows their number.
class ShardedNodeRouter::HomeFeed final : public NodeRouterObserver {
 public:
  explicit HomeFeed(ShardedNodeRouter& router) : router_(router) {}
  void node_attached(const ConnectedNode&) override {}
  void node_left(const ConnectedNode& node, const Departure& why) override {
    router_.broadcast_detached(node, why);
  }
  void node_detached(const std::string&) override {}  // told with node_left
  void node_updated(const ConnectedNode& node) override { router_.broadcast_updated(node); }

 private:
  ShardedNodeRouter& router_;
};

// The waiter a home starts an invoke with for a caller on another shard: the outcome goes back
// to the caller's shard as a message, and is told to the caller's waiter there.
class ShardedNodeRouter::Relay final : public InvokeWaiter {
 public:
  Relay(ShardedNodeRouter& router, uint32_t caller, InvokeWaiter& waiter)
      : router_(router), caller_(caller), waiter_(waiter) {}
  void invoke_done(InvokeResult&& result) override {
    router_.post(caller_, [waiter = &waiter_, r = std::move(result)]() mutable {
      waiter->invoke_done(std::move(r));
    });
    delete this;  // told once: nothing of it is read after
  }

 private:
  ShardedNodeRouter& router_;
  const uint32_t caller_;
  InvokeWaiter& waiter_;
};

ShardedNodeRouter::ShardState::ShardState(Shard s, int max_in_flight)
    : shard(s), home(*s.deadlines, max_in_flight) {}
ShardedNodeRouter::ShardState::~ShardState() = default;

ShardedNodeRouter::ShardedNodeRouter(std::vector<Shard> shards, int max_in_flight_per_node) {
  if (shards.empty()) throw std::invalid_argument("a sharded router needs at least one shard");
  shards_.reserve(shards.size());
  for (uint32_t i = 0; i < shards.size(); ++i) {
    auto state = std::make_unique<ShardState>(shards[i], max_in_flight_per_node);
    state->feed = std::make_unique<HomeFeed>(*this);
    state->home.add_observer(state->feed.get());
    shards_.push_back(std::move(state));
  }
}

ShardedNodeRouter::~ShardedNodeRouter() {
  // While every shard is still here: an invoke's relay tells its caller's shard.
  for (auto& s : shards_) {
    s->home.remove_observer(s->feed.get());
    s->home.fail_all("the gateway is shutting down");
  }
}

uint32_t ShardedNodeRouter::calling_shard() const {
  for (uint32_t i = 0; i < shards_.size(); ++i) {
    if (shards_[i]->shard.sequencer->running_in_this_thread()) return i;
  }
  throw std::logic_error("the sharded router was called outside every shard's Sequencer");
}

template <class Fn>
void ShardedNodeRouter::post(uint32_t to, Fn&& fn) {
  core::Sequencer& target = *shards_[to]->shard.sequencer;
  if (target.running_in_this_thread()) {
    fn();
  } else {
    target.post(std::forward<Fn>(fn));
  }
}

const ShardedNodeRouter::Listed* ShardedNodeRouter::listed(uint32_t s,
                                                           const std::string& node_id) const {
  const auto& nodes = shards_[s]->replica.nodes;
  auto it = nodes.find(node_id);
  return it == nodes.end() ? nullptr : &it->second;
}

// ---- Homes ----

void ShardedNodeRouter::attach(uint32_t home, ConnectedNode node) {
  const std::string id = node.node_id;
  const uint64_t number = attach_numbers_.fetch_add(1, std::memory_order_relaxed) + 1;
  shards_[home]->home.attach(std::move(node));
  if (const ConnectedNode* attached = shards_[home]->home.find(id)) {
    broadcast_attached(home, number, *attached);
  }
}

void ShardedNodeRouter::detach(uint32_t home, const std::string& node_id, const NodeLink* link,
                               const std::string& reason) {
  shards_[home]->home.detach(node_id, link, reason);  // its feed tells the replicas
}

void ShardedNodeRouter::complete(uint32_t home, const NodeLink* link, std::string_view invoke_id,
                                 InvokeResult&& result) {
  shards_[home]->home.complete(link, invoke_id, std::move(result));
}

// ---- Replicas ----

void ShardedNodeRouter::broadcast_attached(uint32_t home, uint64_t number,
                                           const ConnectedNode& node) {
  for (uint32_t s = 0; s < shards_.size(); ++s) {
    post(s, [this, s, home, number, copy = node]() mutable {
      replica_attached(s, home, number, std::move(copy));
    });
  }
}

void ShardedNodeRouter::broadcast_detached(const ConnectedNode& node, const Departure& why) {
  for (uint32_t s = 0; s < shards_.size(); ++s) {
    post(s, [this, s, id = node.node_id, link = node.link.get(), why] {
      replica_detached(s, id, link, why);
    });
  }
}

void ShardedNodeRouter::broadcast_updated(const ConnectedNode& node) {
  for (uint32_t s = 0; s < shards_.size(); ++s) {
    post(s, [this, s, copy = node] { replica_updated(s, copy); });
  }
}

void ShardedNodeRouter::replica_attached(uint32_t s, uint32_t home, uint64_t number,
                                         ConnectedNode node) {
  Replica& r = shards_[s]->replica;
  const std::string id = node.node_id;
  auto it = r.nodes.find(id);
  std::shared_ptr<NodeLink> older_here;  // a link of this shard's home the newer attach replaces
  if (it != r.nodes.end()) {
    if (it->second.attach_number > number) return;  // a newer attach is known already
    if (it->second.home == s && home != s) older_here = it->second.node.link;
    r.by_org.remove(it->second.node);
    it->second = Listed{home, number, std::move(node)};
  } else {
    it = r.nodes.emplace(id, Listed{home, number, std::move(node)}).first;
  }
  r.by_org.add(it->second.node);
  r.departures.erase(id);
  if (s == 0) {
    for (auto* o : observers_) o->node_attached(it->second.node);
  }
  // The node connected again on another shard while this one still holds it: this home gives
  // way, as one router closes a reconnected node's previous connection. Its feed's detach then
  // leaves every replica's newer entry alone (the link differs).
  if (older_here) {
    LocalNodeRouter& own = shards_[s]->home;
    if (const ConnectedNode* held = own.find(id); held != nullptr && held->link == older_here) {
      own.disconnect(id, "replaced by a newer connection of the same node");
      log::get("core")->info("node {} reconnected on shard {}; its connection on shard {} closed",
                             id, home, s);
    }
  }
}

void ShardedNodeRouter::replica_detached(uint32_t s, const std::string& node_id,
                                         const NodeLink* link, const Departure& why) {
  Replica& r = shards_[s]->replica;
  auto it = r.nodes.find(node_id);
  if (it == r.nodes.end() || it->second.node.link.get() != link) return;  // an older link's
  ConnectedNode gone = std::move(it->second.node);
  r.by_org.remove(gone);
  r.nodes.erase(it);
  r.departures[node_id] = why;
  if (s == 0) {
    for (auto* o : observers_) o->node_left(gone, why);
    for (auto* o : observers_) o->node_detached(node_id);
  }
}

void ShardedNodeRouter::replica_updated(uint32_t s, const ConnectedNode& node) {
  Replica& r = shards_[s]->replica;
  auto it = r.nodes.find(node.node_id);
  if (it == r.nodes.end() || it->second.node.link != node.link) return;
  ConnectedNode& mine = it->second.node;
  mine.tags = node.tags;
  mine.commands = node.commands;
  mine.capabilities = node.capabilities;
  if (s == 0) {
    for (auto* o : observers_) o->node_updated(mine);
  }
}

// ---- NodeRouter ----

bool ShardedNodeRouter::online(const std::string& node_id) const {
  return listed(calling_shard(), node_id) != nullptr;
}

const ConnectedNode* ShardedNodeRouter::find(const std::string& node_id) const {
  const Listed* l = listed(calling_shard(), node_id);
  return l == nullptr ? nullptr : &l->node;
}

size_t ShardedNodeRouter::connected_count() const {
  return shards_[calling_shard()]->replica.nodes.size();
}

std::vector<const ConnectedNode*> ShardedNodeRouter::connected_in_org(
    const std::string& org_id) const {
  return shards_[calling_shard()]->replica.by_org.in_org(org_id);
}

std::optional<Departure> ShardedNodeRouter::last_departure(const std::string& node_id) const {
  const auto& departures = shards_[calling_shard()]->replica.departures;
  auto it = departures.find(node_id);
  if (it == departures.end()) return std::nullopt;
  return it->second;
}

void ShardedNodeRouter::start_invoke(const std::string& node_id, const std::string& command,
                                     std::string_view params_json,
                                     std::chrono::milliseconds timeout, InvokeWaiter& waiter) {
  const uint32_t caller = calling_shard();
  const Listed* l = listed(caller, node_id);
  if (l == nullptr || l->home == caller) {
    // Not connected (the home-less refusal), or connected here: no message at all.
    shards_[caller]->home.start_invoke(node_id, command, params_json, timeout, waiter);
    return;
  }
  const uint32_t home = l->home;
  post(home,
       [this, home, caller, node_id, command, params = std::string(params_json), timeout, &waiter] {
         // At the home: the true in-flight count and commands decide, as for an invoke made here.
         auto* relay = new Relay(*this, caller, waiter);
         shards_[home]->home.start_invoke(node_id, command, params, timeout, *relay);
       });
}

core::Task<InvokeResult> ShardedNodeRouter::invoke(std::string node_id, std::string command,
                                                   std::string params_json,
                                                   std::chrono::milliseconds timeout) {
  return invoke_by_start(std::move(node_id), std::move(command), std::move(params_json), timeout);
}

template <class Fn>
bool ShardedNodeRouter::at_home(const std::string& node_id, Fn&& fn) {
  const Listed* l = listed(calling_shard(), node_id);
  if (l == nullptr) return false;
  const uint32_t home = l->home;
  post(home, [this, home, fn = std::forward<Fn>(fn)]() mutable { fn(shards_[home]->home); });
  return true;
}

int ShardedNodeRouter::disconnect(const std::string& node_id, const std::string& reason) {
  return at_home(node_id,
                 [node_id, reason](LocalNodeRouter& home) { home.disconnect(node_id, reason); })
             ? 1
             : 0;
}

void ShardedNodeRouter::update_tags(const std::string& node_id, std::vector<std::string> tags) {
  at_home(node_id, [node_id, tags = std::move(tags)](LocalNodeRouter& home) mutable {
    home.update_tags(node_id, std::move(tags));
  });
}

void ShardedNodeRouter::update_capabilities(const std::string& node_id,
                                            nlohmann::json capabilities) {
  at_home(node_id, [node_id, caps = std::move(capabilities)](LocalNodeRouter& home) mutable {
    home.update_capabilities(node_id, std::move(caps));
  });
}

void ShardedNodeRouter::update_commands(const std::string& node_id,
                                        std::set<std::string> commands) {
  at_home(node_id, [node_id, commands = std::move(commands)](LocalNodeRouter& home) mutable {
    home.update_commands(node_id, std::move(commands));
  });
}

}  // namespace vespid::nodes
