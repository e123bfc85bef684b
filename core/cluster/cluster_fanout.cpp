#include "cluster/cluster_fanout.hpp"

#include "json_write.hpp"
#include "runtime/logging.hpp"
#include "runtime/task.hpp"
#include "storage/keys.hpp"

namespace vespid::cluster {

using nlohmann::json;

namespace {
auto L() {
  return log::get("cluster");
}

// Sessions whose delivered seq this instance remembers; past it the table starts again (a
// forgotten session re-learns its line from the next notice).
constexpr size_t kMaxLines = 65536;
// Events read from storage per round of a catch-up.
constexpr uint32_t kCatchUpPage = 256;

uint64_t seq_of(const json& event) {
  return event.value("seq", uint64_t{0});
}
}  // namespace

ClusterFanout::ClusterFanout(ClusterSettings settings, host::Bus& bus, core::Sequencer& sequencer,
                             core::StorageService& storage, Local local)
    : settings_(std::move(settings)),
      subjects_(settings_.subject_prefix),
      bus_(bus),
      sequencer_(sequencer),
      storage_(storage),
      local_(std::move(local)) {}

ClusterFanout::~ClusterFanout() {
  *alive_ = false;
}

void ClusterFanout::subscribe(const std::string& subject,
                              void (ClusterFanout::*handler)(const nlohmann::json&)) {
  std::weak_ptr<bool> alive = alive_;
  subscriptions_.push_back(
      bus_.subscribe(subject, "", [this, alive, handler](const host::BusMessage& msg) {
        sequencer_.execute([this, alive, handler, data = std::string(msg.data)] {
          auto a = alive.lock();
          if (!a || !*a) return;
          json m = json::parse(data, nullptr, false);
          if (!m.is_object() || m.value("i", "") == settings_.instance_id) return;
          try {
            (this->*handler)(m);
          } catch (const std::exception& e) {
            L()->warn("dropping a malformed cluster message: {}", e.what());
          }
        });
      }));
}

void ClusterFanout::start() {
  subscribe(subjects_.credentials(), &ClusterFanout::on_credentials);
  subscribe(subjects_.pairing(), &ClusterFanout::on_pairing);
  subscribe(subjects_.voicewake(), &ClusterFanout::on_voicewake);
  subscribe(subjects_.session_events(), &ClusterFanout::on_session);
  subscribe(subjects_.dispatch(), &ClusterFanout::on_dispatch);
  subscribe(subjects_.turn_cancel(), &ClusterFanout::on_turn_cancel);
}

void ClusterFanout::stop() {
  *alive_ = false;
  for (auto id : subscriptions_) bus_.unsubscribe(id);
  subscriptions_.clear();
}

bool ClusterFanout::alone() const {
  return local_.others_present && !local_.others_present();
}

void ClusterFanout::publish(const std::string& subject, json body) {
  body["i"] = settings_.instance_id;
  if (!bus_.up()) {
    L()->debug("bus down: {} not sent to the other instances", subject);
    return;
  }
  if (!bus_.publish(subject, json_write::dump(body, json::error_handler_t::replace))) {
    L()->warn("could not tell the other instances on {} (the bus refused it)", subject);
  }
}

// ---- Credentials --------------------------------------------------------------------------------

int ClusterFanout::access_token_revoked(const std::string& token_id) {
  publish(subjects_.credentials(), {{"op", "token"}, {"tokenId", token_id}});
  return local_.close_token_holders ? local_.close_token_holders(token_id) : 0;
}

int ClusterFanout::membership_removed(const std::string& org_id, const std::string& user_id) {
  publish(subjects_.credentials(), {{"op", "member"}, {"orgId", org_id}, {"userId", user_id}});
  return local_.close_member ? local_.close_member(org_id, user_id) : 0;
}

void ClusterFanout::user_rights_changed(const std::string& user_id) {
  if (local_.user_rights_changed) local_.user_rights_changed(user_id);
  if (alone()) return;
  publish(subjects_.credentials(), {{"op", "rights"}, {"userId", user_id}});
}

void ClusterFanout::on_credentials(const json& m) {
  const std::string op = m.at("op").get<std::string>();
  if (op == "rights") {
    if (local_.user_rights_changed) local_.user_rights_changed(m.at("userId").get<std::string>());
    return;
  }
  int closed = 0;
  if (op == "token" && local_.close_token_holders) {
    closed = local_.close_token_holders(m.at("tokenId").get<std::string>());
  } else if (op == "member" && local_.close_member) {
    closed =
        local_.close_member(m.at("orgId").get<std::string>(), m.at("userId").get<std::string>());
  }
  if (closed > 0) {
    L()->info("closed {} connection(s) here for a credential revoked on instance \"{}\"", closed,
              m.value("i", "?"));
  }
}

// ---- Pairing ------------------------------------------------------------------------------------

void ClusterFanout::pairing_approved(const nodes::NodeRecord& node, const std::string& token) {
  if (local_.pairing) local_.pairing->pairing_approved(node, token);
  publish(subjects_.pairing(),
          {{"op", "approved"}, {"node", nodes::to_stored_json(node)}, {"token", token}});
}

void ClusterFanout::pairing_rejected(const std::string& node_id) {
  if (local_.pairing) local_.pairing->pairing_rejected(node_id);
  publish(subjects_.pairing(), {{"op", "rejected"}, {"nodeId", node_id}});
}

void ClusterFanout::pairing_requested(const json& request) {
  if (local_.announce_pairing_request) local_.announce_pairing_request(request);
  if (alone()) return;
  publish(subjects_.pairing(), {{"op", "requested"}, {"request", request}});
}

void ClusterFanout::pairing_resolved(const json& resolved) {
  if (local_.announce_pairing_resolved) local_.announce_pairing_resolved(resolved);
  if (alone()) return;
  publish(subjects_.pairing(), {{"op", "resolved"}, {"resolved", resolved}});
}

void ClusterFanout::on_pairing(const json& m) {
  const std::string op = m.at("op").get<std::string>();
  if (op == "requested") {
    if (local_.announce_pairing_request) local_.announce_pairing_request(m.at("request"));
    return;
  }
  if (op == "resolved") {
    if (local_.announce_pairing_resolved) local_.announce_pairing_resolved(m.at("resolved"));
    return;
  }
  if (local_.pairing == nullptr) return;
  if (op == "approved") {
    local_.pairing->pairing_approved(nodes::node_from(m.at("node")),
                                     m.at("token").get<std::string>());
  } else if (op == "rejected") {
    local_.pairing->pairing_rejected(m.at("nodeId").get<std::string>());
  }
}

// ---- Voice wake ---------------------------------------------------------------------------------

void ClusterFanout::voicewake_changed(const std::string& org_id, const json& settings) {
  if (local_.push_voicewake) local_.push_voicewake(org_id, settings);
  if (alone()) return;
  publish(subjects_.voicewake(), {{"orgId", org_id}, {"settings", settings}});
}

void ClusterFanout::on_voicewake(const json& m) {
  if (local_.push_voicewake)
    local_.push_voicewake(m.at("orgId").get<std::string>(), m.at("settings"));
}

// ---- Stopping a session turn another instance waits for -----------------------------------------

void ClusterFanout::cancel_turn_on(const std::string& instance, const std::string& session_id,
                                   const std::string& request_id, const std::string& stop_reason,
                                   const std::string& by) {
  publish(subjects_.turn_cancel(), {{"to", instance},
                                    {"sessionId", session_id},
                                    {"requestId", request_id},
                                    {"stopReason", stop_reason},
                                    {"by", by}});
}

void ClusterFanout::on_turn_cancel(const json& m) {
  if (m.at("to").get<std::string>() != settings_.instance_id || !local_.cancel_turn) return;
  local_.cancel_turn(m.at("sessionId").get<std::string>(), m.at("requestId").get<std::string>(),
                     m.at("stopReason").get<std::string>(), m.at("by").get<std::string>());
}

// ---- Session events -----------------------------------------------------------------------------

ClusterFanout::SessionLine& ClusterFanout::line(const std::string& session_id, uint64_t first_seq) {
  auto it = lines_.find(session_id);
  if (it != lines_.end()) return it->second;
  if (lines_.size() >= kMaxLines) {
    // Forget the idle ones; one being read keeps its place.
    for (auto i = lines_.begin(); i != lines_.end();) {
      i = i->second.reading ? std::next(i) : lines_.erase(i);
    }
  }
  SessionLine fresh;
  fresh.delivered = first_seq > 0 ? first_seq - 1 : 0;
  fresh.wanted = fresh.delivered;
  return lines_.emplace(session_id, fresh).first->second;
}

void ClusterFanout::session_events_stored(const std::string& session_id, const Events& events) {
  if (events.empty()) return;
  const uint64_t first = seq_of(events.front());
  const uint64_t last = seq_of(events.back());
  if (alone()) {
    // Only writer and only reader: straight to the subscribers here. The line starts afresh
    // once another instance shows up.
    lines_.erase(session_id);
    local_.deliver_events(session_id, events);
    return;
  }
  publish(subjects_.session_events(),
          {{"sessionId", session_id}, {"first", first}, {"last", last}});
  SessionLine& l = line(session_id, first);
  l.wanted = std::max(l.wanted, last);
  if (!l.reading && l.delivered + 1 == first) {
    // The common case: nothing between what was delivered and these.
    local_.deliver_events(session_id, events);
    l.delivered = last;
    return;
  }
  if (l.delivered >= last) return;  // a catch-up already delivered them
  catch_up(session_id);             // another instance wrote in between: read the gap
}

void ClusterFanout::on_session(const json& m) {
  const std::string session_id = m.at("sessionId").get<std::string>();
  if (local_.watches_session && !local_.watches_session(session_id)) {
    // Nobody here listens; forget the line so a later subscriber starts from its own replay.
    lines_.erase(session_id);
    return;
  }
  SessionLine& l = line(session_id, m.at("first").get<uint64_t>());
  l.wanted = std::max(l.wanted, m.at("last").get<uint64_t>());
  catch_up(session_id);
}

void ClusterFanout::catch_up(const std::string& session_id) {
  SessionLine& current = lines_[session_id];
  if (current.reading || current.delivered >= current.wanted) return;
  current.reading = true;
  const uint64_t from = current.delivered + 1;
  const std::string prefix = repo::keys::session_events(session_id);
  std::weak_ptr<bool> alive = alive_;
  auto read = [](core::StorageService& storage, std::string start,
                 std::string end) -> core::Task<std::vector<core::KV>> {
    auto rows = co_await storage.scan(std::move(start), std::move(end), kCatchUpPage);
    co_return rows;
  };
  core::spawn(read(storage_, repo::keys::session_event(session_id, from),
                   core::StorageService::prefix_end(prefix)),
              std::function<void(std::vector<core::KV>)>(
                  [this, alive, session_id](std::vector<core::KV> rows) {
                    auto a = alive.lock();
                    if (!a || !*a) return;
                    auto it = lines_.find(session_id);
                    if (it == lines_.end()) return;
                    SessionLine& l = it->second;
                    l.reading = false;
                    Events events;
                    for (auto& row : rows) {
                      json ev = json::parse(row.value, nullptr, false);
                      if (!ev.is_object() || seq_of(ev) <= l.delivered) continue;
                      events.push_back(std::move(ev));
                    }
                    if (events.empty()) return;  // not visible yet; the next notice asks again
                    l.delivered = seq_of(events.back());
                    l.wanted = std::max(l.wanted, l.delivered);
                    local_.deliver_events(session_id, events);
                    if (l.delivered < l.wanted) catch_up(session_id);
                  }),
              [this, alive, session_id](std::exception_ptr e) {
                auto a = alive.lock();
                if (!a || !*a) return;
                if (auto it = lines_.find(session_id); it != lines_.end())
                  it->second.reading = false;
                try {
                  std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                  L()->warn("session {}: reading events written elsewhere failed: {}", session_id,
                            ex.what());
                }
              });
}

// ---- Dispatch progress --------------------------------------------------------------------------

void ClusterFanout::relay(const std::string& kind, const std::string& request_id,
                          const std::string& agent_id, const json& payload) {
  // Kept whether or not anybody listens now: the instance waiting may have just been let go,
  // and its adopter (this instance, maybe, a moment from now) replays what it missed.
  if (kind == "received") {
    history_.received(request_id);
  } else if (kind == "result") {
    history_.finished(request_id);
  }
  // Sized as it would go on the bus, so the history's byte bounds hold whatever a host sends.
  if (kind == "event") history_.event(request_id, payload, payload.dump().size());
  if (alone()) return;  // nobody else can be waiting
  publish(subjects_.dispatch(),
          {{"kind", kind}, {"requestId", request_id}, {"agentId", agent_id}, {"payload", payload}});
}

void ClusterFanout::instance_lost(const std::string& instance) {
  if (local_.dispatcher == nullptr || !local_.adopts_dispatches_to) return;
  std::weak_ptr<bool> alive = alive_;
  core::spawn<size_t>(
      local_.dispatcher->adopt(
          instance, local_.adopts_dispatches_to,
          [this, alive](const std::string& request_id) -> std::optional<std::vector<json>> {
            auto a = alive.lock();
            if (!a || !*a) return std::nullopt;
            auto events = history_.whole(request_id);
            history_.finished(request_id);
            return events;
          }),
      [instance](size_t n) {
        if (n > 0)
          L()->warn("adopted {} dispatch(es) instance \"{}\" was waiting for", n, instance);
      },
      [instance](std::exception_ptr e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          L()->error("adopting the dispatches of instance \"{}\" failed: {}", instance, ex.what());
        }
      });
}

void ClusterFanout::on_dispatch(const json& m) {
  if (local_.dispatcher == nullptr) return;
  local_.dispatcher->relayed(m.at("kind").get<std::string>(), m.at("requestId").get<std::string>(),
                             m.at("agentId").get<std::string>(), m.value("payload", json()));
}

}  // namespace vespid::cluster
