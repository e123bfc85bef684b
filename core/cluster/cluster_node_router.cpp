#include "cluster/cluster_node_router.hpp"

#include "json_write.hpp"
#include "runtime/json_text.hpp"
#include "runtime/logging.hpp"

namespace vespid::cluster {

using nlohmann::json;

namespace {
auto L() {
  return log::get("cluster");
}

// The holding instance times the node out itself and says so; the bus deadline only catches an
// instance that never answers at all.
constexpr std::chrono::milliseconds kBusMargin{1000};

nodes::InvokeResult unavailable(std::string message) {
  return {false, {}, "UNAVAILABLE", std::move(message)};
}
}  // namespace

// How the services reach a node held by another instance: frames and closes go to that
// instance's control subject.
class ClusterNodeRouter::RemoteLink final : public nodes::NodeLink {
 public:
  RemoteLink(ClusterNodeRouter& router, std::string instance, std::string node_id)
      : router_(router), instance_(std::move(instance)), node_id_(std::move(node_id)) {}
  void send_invoke(std::string_view invoke_id, std::string_view, std::string_view) override {
    // ClusterNodeRouter::invoke forwards whole invokes; nothing sends one on this link.
    L()->error("invoke {} sent on the remote link of node {}: dropped", invoke_id, node_id_);
  }
  void close(const std::string& reason) override {
    router_.send_control(instance_,
                         {{"op", "disconnect"}, {"nodeId", node_id_}, {"reason", reason}});
  }
  std::string transport_name() const override { return "remote"; }
  std::string remote_address() const override { return "instance " + instance_; }
  bool send_frame(const std::string& frame) override {
    return router_.bus_.publish(router_.subjects_.control(instance_),
                                json{{"nodeId", node_id_}, {"frame", frame}}.dump(
                                    -1, ' ', false, json::error_handler_t::replace));
  }

 private:
  ClusterNodeRouter& router_;
  std::string instance_;
  std::string node_id_;
};

ClusterNodeRouter::ClusterNodeRouter(ClusterSettings settings, host::Bus& bus,
                                     core::Sequencer& sequencer, core::Deadlines& deadlines,
                                     nodes::LocalNodeRouter& local)
    : settings_(settings),
      subjects_(settings.subject_prefix),
      bus_(bus),
      sequencer_(sequencer),
      local_(local),
      presence_(
          settings, bus, sequencer, deadlines, local,
          Presence::Hooks{[this](const std::string& instance, const std::string& node_id) {
                            return std::make_shared<RemoteLink>(*this, instance, node_id);
                          },
                          [this](const std::string& instance, const std::string& why,
                                 bool restarted) { instance_lost(instance, why, restarted); }}) {}

ClusterNodeRouter::~ClusterNodeRouter() {
  *alive_ = false;
  while (!pending_.empty()) {
    finish(pending_.begin()->first, unavailable("the gateway is shutting down"));
  }
}

void ClusterNodeRouter::start() {
  std::weak_ptr<bool> alive = alive_;
  auto hop = [this, alive](auto fn) {
    return [this, alive, fn](const host::BusMessage& msg) {
      sequencer_.execute([alive, fn, reply_to = std::string(msg.reply_to),
                          data = std::string(msg.data)]() mutable {
        auto a = alive.lock();
        if (a && *a) fn(std::move(reply_to), data);
      });
    };
  };
  subscriptions_.push_back(
      bus_.subscribe(subjects_.invoke(settings_.instance_id), "",
                     hop([this](std::string reply_to, const std::string& data) {
                       serve_invoke(std::move(reply_to), data);
                     })));
  // Frames and control messages share one subject so that a frame sent before a disconnect is
  // written before it (the bus keeps one publisher's order per subscription).
  subscriptions_.push_back(
      bus_.subscribe(subjects_.control(settings_.instance_id), "",
                     hop([this](std::string, const std::string& data) { serve_control(data); })));
  presence_.start();
}

void ClusterNodeRouter::stop() {
  presence_.stop();
  for (auto id : subscriptions_) bus_.unsubscribe(id);
  subscriptions_.clear();
}

bool ClusterNodeRouter::online(const std::string& node_id) const {
  return local_.online(node_id) || presence_.find(node_id) != nullptr;
}

std::string ClusterNodeRouter::holder(const std::string& node_id) const {
  if (local_.online(node_id)) return settings_.instance_id;
  const RemoteNode* rn = presence_.find(node_id);
  return rn == nullptr ? std::string() : rn->instance;
}

const nodes::ConnectedNode* ClusterNodeRouter::find(const std::string& node_id) const {
  if (const auto* n = local_.find(node_id)) return n;
  const RemoteNode* rn = presence_.find(node_id);
  return rn == nullptr ? nullptr : &rn->node;
}

std::vector<const nodes::ConnectedNode*> ClusterNodeRouter::connected_in_org(
    const std::string& org_id) const {
  auto out = local_.connected_in_org(org_id);
  auto remote = presence_.in_org(org_id);
  out.insert(out.end(), remote.begin(), remote.end());
  return out;
}

struct ClusterNodeRouter::RemoteInvoke {
  ClusterNodeRouter& router;
  uint64_t id;
  std::string instance;
  std::string subject;
  std::string body;
  std::chrono::milliseconds timeout;
  nodes::InvokeResult result;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    router.pending_.emplace(id, Pending{instance, h, &result});
    std::weak_ptr<bool> alive = router.alive_;
    ClusterNodeRouter* r = &router;
    const uint64_t invoke = id;
    const std::string holder = instance;
    const auto ms = timeout.count();
    // The reply may come on any thread, even inside request(): always through the Sequencer,
    // which queues it behind this turn.
    router.bus_.request(
        subject, body, timeout + kBusMargin, [r, alive, invoke, holder, ms](host::BusReply reply) {
          r->sequencer_.execute([r, alive, invoke, holder, ms, reply = std::move(reply)] {
            auto a = alive.lock();
            if (!a || !*a) return;
            switch (reply.status) {
              case host::BusStatus::Ok:
                r->finish(invoke, invoke_reply_from_wire(reply.data));
                break;
              case host::BusStatus::Timeout:
                r->finish(invoke,
                          unavailable("the node's instance \"" + holder +
                                      "\" did not answer within " + std::to_string(ms) + " ms"));
                break;
              case host::BusStatus::NoResponders:
                r->finish(invoke, unavailable("the node's instance \"" + holder + "\" is gone"));
                break;
              default:
                r->finish(invoke, unavailable("cannot reach the node's instance \"" + holder +
                                              "\": " + reply.error));
            }
          });
        });
  }
  nodes::InvokeResult await_resume() { return std::move(result); }
};

// Not a coroutine: a node held here is the common case, and its invoke is the local router's
// own task, handed back as it is rather than awaited inside a frame of this function's own.
// The caller awaits the task at once (NodeMethods::send_invoke), so looking the node up now
// rather than when the task starts sees the same state.
core::Task<nodes::InvokeResult> ClusterNodeRouter::invoke(std::string node_id, std::string command,
                                                          std::string params_json,
                                                          std::chrono::milliseconds timeout) {
  if (local_.online(node_id)) {
    return local_.invoke(std::move(node_id), std::move(command), std::move(params_json), timeout);
  }
  return invoke_remote(std::move(node_id), std::move(command), std::move(params_json), timeout);
}

void ClusterNodeRouter::start_invoke(const std::string& node_id, const std::string& command,
                                     std::string_view params_json,
                                     std::chrono::milliseconds timeout,
                                     nodes::InvokeWaiter& waiter) {
  if (local_.online(node_id)) {
    local_.start_invoke(node_id, command, params_json, timeout, waiter);
    return;
  }
  NodeRouter::start_invoke(node_id, command, params_json, timeout, waiter);
}

core::Task<nodes::InvokeResult> ClusterNodeRouter::invoke_remote(
    std::string node_id, std::string command, std::string params_json,
    std::chrono::milliseconds timeout) {
  const RemoteNode* rn = presence_.find(node_id);
  if (rn == nullptr) co_return unavailable("node \"" + node_id + "\" is not connected");
  if (!rn->node.commands.count(command)) {
    co_return unavailable("node \"" + node_id + "\" did not declare the command \"" + command +
                          "\" when it was paired or re-approved");
  }
  // Written as text: the params are already one checked JSON value, spliced as they are; none
  // is `null`, as instances of earlier versions expect.
  std::string body = R"({"nodeId":)";
  json_write::append_string(body, node_id);
  body += R"(,"command":)";
  json_write::append_string(body, command);
  body.append(R"(,"params":)").append(params_json.empty() ? "null" : params_json);
  body.append(R"(,"timeoutMs":)").append(std::to_string(timeout.count())).push_back('}');
  RemoteInvoke awaiter{
      *this, next_invoke_++, rn->instance, subjects_.invoke(rn->instance), std::move(body), timeout,
      {}};
  nodes::InvokeResult r = co_await awaiter;
  co_return r;
}

void ClusterNodeRouter::finish(uint64_t id, nodes::InvokeResult result) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // already failed (its instance's lease ended)
  Pending p = it->second;
  pending_.erase(it);
  *p.result = std::move(result);
  p.waiter.resume();
}

void ClusterNodeRouter::instance_lost(const std::string& instance, const std::string& why,
                                      bool restarted) {
  std::vector<uint64_t> ids;
  for (const auto& [id, p] : pending_) {
    if (p.instance == instance) ids.push_back(id);
  }
  for (auto id : ids) {
    finish(id, unavailable("the node's instance \"" + instance + "\" is gone (" + why + ")"));
  }
  if (!ids.empty()) {
    L()->warn("failed {} invoke(s) waiting on instance \"{}\"", ids.size(), instance);
  }
  if (on_instance_lost_ && !restarted) on_instance_lost_(instance);
}

namespace {
// Another instance's invoke of a node held here: waits on the local router with no task, and
// answers on the bus when told. Frees itself then. The router's bus may be gone by then (this
// instance stopping), which `alive` says.
class ServedInvoke final : public nodes::InvokeWaiter {
 public:
  ServedInvoke(host::Bus& bus, std::weak_ptr<bool> alive, std::string reply_to, std::string node_id,
               std::string command, std::string params_json)
      : bus_(bus),
        alive_(std::move(alive)),
        reply_to_(std::move(reply_to)),
        node_id_(std::move(node_id)),
        command_(std::move(command)),
        params_json_(std::move(params_json)) {}
  void start(nodes::LocalNodeRouter& local, std::chrono::milliseconds timeout) {
    local.start_invoke(node_id_, command_, params_json_, timeout, *this);
  }
  void invoke_done(nodes::InvokeResult&& r) override {
    std::unique_ptr<ServedInvoke> self(this);
    auto alive = alive_.lock();
    if (alive && *alive) bus_.publish(reply_to_, invoke_reply_to_wire(r));
  }

 private:
  host::Bus& bus_;
  std::weak_ptr<bool> alive_;
  std::string reply_to_;
  std::string node_id_;
  std::string command_;
  std::string params_json_;
};
}  // namespace

void ClusterNodeRouter::serve_invoke(std::string reply_to, const std::string& data) {
  if (reply_to.empty()) return;
  json m = json::parse(data, nullptr, false);
  if (!m.is_object() || !m.contains("nodeId") || !m["nodeId"].is_string() ||
      !m.contains("command") || !m["command"].is_string()) {
    bus_.publish(reply_to, invoke_reply_to_wire(unavailable("malformed cluster invoke")));
    return;
  }
  auto timeout = std::chrono::milliseconds(m.value("timeoutMs", int64_t{30000}));
  auto given = m.find("params");
  std::string params_json = given == m.end() || given->is_null()
                                ? std::string()
                                : json_write::dump(*given, json::error_handler_t::replace);
  auto* served = new ServedInvoke(bus_, alive_, std::move(reply_to), m["nodeId"].get<std::string>(),
                                  m["command"].get<std::string>(), std::move(params_json));
  served->start(local_, timeout);  // may answer, and free it, before it returns
}

void ClusterNodeRouter::serve_control(const std::string& data) {
  json m = json::parse(data, nullptr, false);
  if (!m.is_object() || !m.contains("nodeId") || !m["nodeId"].is_string()) return;
  const std::string node_id = m["nodeId"].get<std::string>();
  const std::string op = m.contains("frame") ? "frame" : m.value("op", "");
  const nodes::ConnectedNode* node = local_.find(node_id);
  if (node == nullptr) {
    L()->info("cluster {} for node {}: not connected here any more", op, node_id);
    return;
  }
  if (op == "frame" && m["frame"].is_string()) {
    if (!node->link->send_frame(m["frame"].get<std::string>())) {
      L()->warn("cluster frame for node host {} could not be queued", node_id);
    }
  } else if (op == "disconnect") {
    local_.disconnect(node_id, m.value("reason", "disconnected by an operator"));
  } else if (op == "tags" && m.contains("tags") && m["tags"].is_array()) {
    local_.update_tags(node_id, m["tags"].get<std::vector<std::string>>());
  } else if (op == "capabilities" && m.contains("capabilities")) {
    local_.update_capabilities(node_id, m["capabilities"]);
  } else if (op == "commands" && m.contains("commands") && m["commands"].is_array()) {
    local_.update_commands(node_id, m["commands"].get<std::set<std::string>>());
  }
}

void ClusterNodeRouter::send_control(const std::string& instance, json body) {
  bus_.publish(subjects_.control(instance), json_write::dump(body, json::error_handler_t::replace));
}

int ClusterNodeRouter::disconnect(const std::string& node_id, const std::string& reason) {
  if (local_.online(node_id)) return local_.disconnect(node_id, reason);
  const RemoteNode* rn = presence_.find(node_id);
  if (rn == nullptr) return 0;
  send_control(rn->instance, {{"op", "disconnect"}, {"nodeId", node_id}, {"reason", reason}});
  return 1;
}

void ClusterNodeRouter::update_tags(const std::string& node_id, std::vector<std::string> tags) {
  if (local_.online(node_id)) return local_.update_tags(node_id, std::move(tags));
  if (RemoteNode* rn = presence_.find_mutable(node_id)) {
    rn->node.tags = tags;  // routing here sees them now; the holder's delta confirms
    send_control(rn->instance, {{"op", "tags"}, {"nodeId", node_id}, {"tags", std::move(tags)}});
  }
}

void ClusterNodeRouter::update_capabilities(const std::string& node_id, json capabilities) {
  if (local_.online(node_id)) return local_.update_capabilities(node_id, std::move(capabilities));
  if (RemoteNode* rn = presence_.find_mutable(node_id)) {
    rn->node.capabilities = nodes::HostCapabilities(capabilities);
    send_control(
        rn->instance,
        {{"op", "capabilities"}, {"nodeId", node_id}, {"capabilities", std::move(capabilities)}});
  }
}

void ClusterNodeRouter::update_commands(const std::string& node_id,
                                        std::set<std::string> commands) {
  if (local_.online(node_id)) return local_.update_commands(node_id, std::move(commands));
  if (RemoteNode* rn = presence_.find_mutable(node_id)) {
    rn->node.commands = commands;
    send_control(rn->instance,
                 {{"op", "commands"}, {"nodeId", node_id}, {"commands", std::move(commands)}});
  }
}

}  // namespace vespid::cluster
