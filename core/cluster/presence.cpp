#include "cluster/presence.hpp"

#include <random>

#include "json_write.hpp"
#include "runtime/logging.hpp"

namespace vespid::cluster {

using nlohmann::json;

namespace {
auto L() {
  return log::get("cluster");
}

uint64_t new_epoch() {
  // Wall-clock milliseconds make a restarted instance's epoch differ from its last one; the low
  // bits of randomness keep two instances started in the same millisecond apart too.
  std::random_device rd;
  return (static_cast<uint64_t>(wall_clock_ms()) << 12) | (rd() & 0xfffu);
}

// The newer attachment of one node wins; equal times go to the larger instance id, so both
// sides agree without talking.
bool remote_is_newer(int64_t remote_ms, const std::string& remote_instance, int64_t local_ms,
                     const std::string& self) {
  if (remote_ms != local_ms) return remote_ms > local_ms;
  return remote_instance > self;
}
}  // namespace

Presence::Presence(ClusterSettings settings, host::Bus& bus, core::Sequencer& sequencer,
                   core::Deadlines& deadlines, nodes::LocalNodeRouter& local, Hooks hooks)
    : settings_(std::move(settings)),
      subjects_(settings_.subject_prefix),
      bus_(bus),
      sequencer_(sequencer),
      deadlines_(deadlines),
      local_(local),
      hooks_(std::move(hooks)),
      epoch_(new_epoch()) {}

Presence::~Presence() {
  *alive_ = false;
}

void Presence::subscribe(const std::string& subject,
                         void (Presence::*handler)(const nlohmann::json&)) {
  std::weak_ptr<bool> alive = alive_;
  subscriptions_.push_back(
      bus_.subscribe(subject, "", [this, alive, handler](const host::BusMessage& msg) {
        std::string data(msg.data);
        sequencer_.execute([this, alive, handler, data = std::move(data)] {
          auto a = alive.lock();
          if (!a || !*a) return;
          json m = json::parse(data, nullptr, false);
          if (!m.is_object()) {
            L()->warn("presence: dropping an unreadable message ({} bytes)", data.size());
            return;
          }
          try {
            (this->*handler)(m);
          } catch (const json::exception& e) {
            L()->warn("presence: dropping a malformed message: {}", e.what());
          }
        });
      }));
}

std::vector<std::string> Presence::instance_ids() const {
  std::vector<std::string> ids;
  ids.reserve(instances_.size());
  for (const auto& [id, inst] : instances_) ids.push_back(id);
  return ids;
}

void Presence::start() {
  if (started_) return;
  started_ = true;
  local_.add_observer(this);
  subscribe(subjects_.heartbeat(), &Presence::on_heartbeat);
  subscribe(subjects_.presence(), &Presence::on_delta);
  subscribe(subjects_.goodbye(), &Presence::on_goodbye);
  std::weak_ptr<bool> alive = alive_;
  subscriptions_.push_back(bus_.subscribe(
      subjects_.sync(settings_.instance_id), "", [this, alive](const host::BusMessage& msg) {
        std::string reply_to(msg.reply_to);
        sequencer_.execute([this, alive, reply_to = std::move(reply_to)] {
          auto a = alive.lock();
          if (a && *a && !reply_to.empty()) answer_sync(reply_to);
        });
      }));
  tick();  // the first heartbeat tells the others we are here; they sync from us
  L()->info("instance \"{}\" on the bus (heartbeat {} ms, lease {} ms)", settings_.instance_id,
            settings_.heartbeat.count(), settings_.lease.count());
}

void Presence::stop() {
  if (!started_ || !*alive_) return;
  *alive_ = false;
  deadlines_.cancel(tick_);
  local_.remove_observer(this);
  bus_.publish(subjects_.goodbye(), json{{"i", settings_.instance_id}, {"e", epoch_}}.dump());
  for (auto id : subscriptions_) bus_.unsubscribe(id);
  subscriptions_.clear();
}

void Presence::tick() {
  // While the bus is down there is nobody to tell (and the facade would log every refusal);
  // the others' leases of us run out, and the first heartbeat after it is back makes them sync.
  if (bus_.up()) {
    bus_.publish(
        subjects_.heartbeat(),
        json{
            {"i", settings_.instance_id}, {"e", epoch_}, {"s", seq_}, {"n", local_attached_.size()}}
            .dump());
  }
  const auto now = core::Deadlines::Clock::now();
  std::vector<std::string> expired;
  for (const auto& [id, inst] : instances_) {
    if (now - inst.last_heard > settings_.lease) expired.push_back(id);
  }
  for (const auto& id : expired) {
    drop_instance(id, "not heard from for " + std::to_string(settings_.lease.count()) +
                          " ms (cluster.lease_ms)");
  }
  std::weak_ptr<bool> alive = alive_;
  tick_ = deadlines_.after(settings_.heartbeat, [this, alive] {
    auto a = alive.lock();
    if (a && *a) tick();
  });
}

Presence::Instance* Presence::heard_from(const json& m) {
  std::string id = m.at("i").get<std::string>();
  if (id == settings_.instance_id) return nullptr;  // the bus echoes our own messages
  uint64_t epoch = m.at("e").get<uint64_t>();
  auto [it, fresh] = instances_.try_emplace(id);
  Instance& inst = it->second;
  if (!fresh && inst.epoch != epoch) {
    // It restarted: what it held before is gone (its nodes reconnect and are announced again).
    L()->info("instance \"{}\" restarted", id);
    for (const auto& node_id : inst.nodes) nodes_.erase(node_id);
    inst = Instance{};
    if (hooks_.instance_lost) hooks_.instance_lost(id, "it restarted", true);
  }
  if (fresh) L()->info("instance \"{}\" joined", id);
  if (fresh || inst.epoch != epoch) {
    inst.epoch = epoch;
    inst.seq = 0;
    inst.last_heard = core::Deadlines::Clock::now();
    request_sync(id);
  }
  inst.last_heard = core::Deadlines::Clock::now();
  return &inst;
}

void Presence::on_heartbeat(const json& m) {
  Instance* inst = heard_from(m);
  if (inst == nullptr) return;
  // A heartbeat that does not match the last delta applied means some were lost.
  if (!inst->syncing && inst->seq != m.at("s").get<uint64_t>()) {
    request_sync(m.at("i").get<std::string>());
  }
}

void Presence::on_delta(const json& m) {
  Instance* inst = heard_from(m);
  if (inst == nullptr || inst->syncing) return;  // the sync reply will cover it
  const std::string instance = m.at("i").get<std::string>();
  const uint64_t seq = m.at("s").get<uint64_t>();
  if (seq <= inst->seq) return;  // already covered by a sync
  if (seq != inst->seq + 1) {
    request_sync(instance);
    return;
  }
  inst->seq = seq;
  const std::string op = m.at("op").get<std::string>();
  if (op == "attach" || op == "update") {
    put_remote(instance, m.at("node"), m.at("at").get<int64_t>());
  } else if (op == "detach") {
    const std::string node_id = m.at("nodeId").get<std::string>();
    auto it = nodes_.find(node_id);
    if (it != nodes_.end() && it->second.instance == instance) drop_remote(node_id);
  }
}

void Presence::on_goodbye(const json& m) {
  std::string id = m.at("i").get<std::string>();
  auto it = instances_.find(id);
  if (it == instances_.end() || it->second.epoch != m.at("e").get<uint64_t>()) return;
  drop_instance(id, "it stopped");
}

void Presence::put_remote(const std::string& instance, const json& wire, int64_t attached_ms) {
  nodes::ConnectedNode node = node_from_wire(wire);
  const std::string node_id = node.node_id;
  if (auto mine = local_attached_.find(node_id); mine != local_attached_.end()) {
    if (!remote_is_newer(attached_ms, instance, mine->second, settings_.instance_id)) return;
    // It reconnected to `instance` while its old socket here is still open.
    local_.disconnect(node_id, "replaced by a newer connection of the same node on instance \"" +
                                   instance + "\"");
  }
  if (auto old = nodes_.find(node_id); old != nodes_.end() && old->second.instance != instance) {
    if (auto prev = instances_.find(old->second.instance); prev != instances_.end())
      prev->second.nodes.erase(node_id);
  }
  node.link = hooks_.make_link(instance, node_id);
  node.connected_at_ms = attached_ms;
  auto known = nodes_.find(node_id);
  const bool arrived = known == nodes_.end() || known->second.instance != instance ||
                       known->second.attached_ms != attached_ms;
  RemoteNode& rn = nodes_[node_id] = RemoteNode{std::move(node), instance, attached_ms};
  instances_[instance].nodes.insert(node_id);
  if (arrived && hooks_.remote_presence) hooks_.remote_presence(rn.node, instance);
}

void Presence::drop_remote(const std::string& node_id) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  if (auto inst = instances_.find(it->second.instance); inst != instances_.end())
    inst->second.nodes.erase(node_id);
  RemoteNode gone = std::move(it->second);
  nodes_.erase(it);
  if (hooks_.remote_presence) hooks_.remote_presence(gone.node, "");
}

void Presence::drop_instance(const std::string& instance, const std::string& why) {
  auto it = instances_.find(instance);
  if (it == instances_.end()) return;
  size_t count = it->second.nodes.size();
  std::vector<nodes::ConnectedNode> gone;
  for (const auto& node_id : it->second.nodes) {
    if (auto n = nodes_.find(node_id); n != nodes_.end()) {
      gone.push_back(std::move(n->second.node));
      nodes_.erase(n);
    }
  }
  instances_.erase(it);
  if (hooks_.remote_presence) {
    for (const auto& n : gone) hooks_.remote_presence(n, "");
  }
  L()->warn("instance \"{}\" left ({}); its {} node(s) are gone from here", instance, why, count);
  if (hooks_.instance_lost) hooks_.instance_lost(instance, why, false);
}

void Presence::request_sync(const std::string& instance) {
  auto it = instances_.find(instance);
  if (it == instances_.end() || it->second.syncing) return;
  it->second.syncing = true;
  const uint64_t epoch = it->second.epoch;
  std::weak_ptr<bool> alive = alive_;
  bus_.request(subjects_.sync(instance), "{}", settings_.lease,
               [this, alive, instance, epoch](host::BusReply reply) {
                 sequencer_.execute([this, alive, instance, epoch, reply = std::move(reply)] {
                   auto a = alive.lock();
                   if (!a || !*a) return;
                   auto known = instances_.find(instance);
                   if (known == instances_.end() || known->second.epoch != epoch) return;
                   known->second.syncing = false;
                   if (reply.status != host::BusStatus::Ok) {
                     // Its next heartbeat asks again; its lease decides whether it is gone.
                     L()->warn("presence: sync from instance \"{}\" failed: {}", instance,
                               reply.error);
                     return;
                   }
                   json body = json::parse(reply.data, nullptr, false);
                   try {
                     apply_sync(instance, epoch, body);
                   } catch (const json::exception& e) {
                     L()->warn("presence: malformed sync from \"{}\": {}", instance, e.what());
                   }
                 });
               });
}

void Presence::apply_sync(const std::string& instance, uint64_t epoch, const json& reply) {
  if (!reply.is_object() || reply.at("e").get<uint64_t>() != epoch) return;
  Instance& inst = instances_[instance];
  std::unordered_set<std::string> listed;
  for (const auto& entry : reply.at("nodes")) {
    listed.insert(entry.at("node").at("nodeId").get<std::string>());
    put_remote(instance, entry.at("node"), entry.at("at").get<int64_t>());
  }
  std::vector<std::string> gone;
  for (const auto& node_id : inst.nodes) {
    if (!listed.count(node_id)) gone.push_back(node_id);
  }
  for (const auto& node_id : gone) drop_remote(node_id);
  inst.seq = reply.at("s").get<uint64_t>();
}

void Presence::answer_sync(const std::string& reply_to) {
  json list = json::array();
  local_.for_each([&](const nodes::ConnectedNode& n) {
    auto at = local_attached_.find(n.node_id);
    list.push_back(
        {{"node", node_to_wire(n)}, {"at", at == local_attached_.end() ? int64_t{0} : at->second}});
  });
  bus_.publish(reply_to,
               json{{"i", settings_.instance_id}, {"e", epoch_}, {"s", seq_}, {"nodes", list}}.dump(
                   -1, ' ', false, json::error_handler_t::replace));
}

void Presence::publish_delta(const char* op, json body) {
  body["i"] = settings_.instance_id;
  body["e"] = epoch_;
  body["s"] = ++seq_;
  body["op"] = op;
  // Numbered even when the bus is down: the gap makes the others sync once it is back.
  if (!bus_.up()) return;
  bus_.publish(subjects_.presence(), json_write::dump(body, json::error_handler_t::replace));
}

void Presence::node_attached(const nodes::ConnectedNode& node) {
  const int64_t now = wall_clock_ms();
  local_attached_[node.node_id] = now;
  // It moved here; its old instance closes its socket when it sees this.
  drop_remote(node.node_id);
  publish_delta("attach", {{"node", node_to_wire(node)}, {"at", now}});
}

void Presence::node_detached(const std::string& node_id) {
  local_attached_.erase(node_id);
  publish_delta("detach", {{"nodeId", node_id}});
}

void Presence::node_updated(const nodes::ConnectedNode& node) {
  auto at = local_attached_.find(node.node_id);
  publish_delta("update", {{"node", node_to_wire(node)},
                           {"at", at == local_attached_.end() ? int64_t{0} : at->second}});
}

const RemoteNode* Presence::find(const std::string& node_id) const {
  auto it = nodes_.find(node_id);
  return it == nodes_.end() ? nullptr : &it->second;
}

RemoteNode* Presence::find_mutable(const std::string& node_id) {
  auto it = nodes_.find(node_id);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<const nodes::ConnectedNode*> Presence::in_org(const std::string& org_id) const {
  // Linear in remote nodes; an index by org (as the local router keeps) when this shows up.
  std::vector<const nodes::ConnectedNode*> out;
  for (const auto& [id, rn] : nodes_) {
    if (rn.node.org_id == org_id) out.push_back(&rn.node);
  }
  return out;
}

}  // namespace vespid::cluster
