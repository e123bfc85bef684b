#include "protocols/bridge/bridge_dialect.hpp"

#include <map>

#include "host/connections/connection.hpp"
#include "json_write.hpp"
#include "protocols/bridge/invoke_res_view.hpp"
#include "protocols/typed_frame.hpp"
#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "runtime/gateway_metrics.hpp"
#include "runtime/json_fields.hpp"
#include "runtime/json_input.hpp"
#include "runtime/json_text.hpp"
#include "runtime/logging.hpp"
#include "runtime/time.hpp"
#include "services/nodes/node_router.hpp"
#include "services/nodes/node_store.hpp"
#include "services/sessions/session_service.hpp"
#include "storage/keys.hpp"
#include "storage/storage_service.hpp"

namespace vespid::core {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

void send(Connection& c, const json& frame) {
  c.send(json_write::dump(frame, json::error_handler_t::replace));
}

void send_error(Connection& c, const std::string& code, const std::string& message) {
  send(c, {{"type", "error"}, {"code", code}, {"message", message}});
}

void send_res_error(Connection& c, const json& id, const std::string& code,
                    const std::string& message, const json& details = nullptr) {
  json err = {{"code", code}, {"message", message}};
  if (!details.is_null()) err["details"] = details;
  send(c, {{"type", "res"}, {"id", id}, {"ok", false}, {"error", err}});
}

// The node method allowlist (the seed's families: chat, sessions, config, health, voicewake).
bool allowed_for_nodes(const std::string& m) {
  static const std::set<std::string> allowed = {
      "health",    "config.get", "sessions.list", "sessions.resolve", "chat.history",
      "chat.send", "chat.abort", "voicewake.get", "voicewake.set"};
  return allowed.count(m) != 0;
}

bool valid_node_id(const json& v) {
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > 128) return false;
  for (unsigned char c : s) {
    if (c < 0x21 || c == '/' || c == 0x7f) return false;
  }
  return true;
}

// paramsJSON is a JSON text inside a string; absent means {}.
json parse_embedded(const json& frame, const char* key) {
  auto it = frame.find(key);
  if (it == frame.end() || it->is_null()) return json::object();
  if (!it->is_string()) throw api::invalid(std::string(key) + " must be a JSON string");
  try {
    return json_input::parse(it->get<std::string>());
  } catch (const json::parse_error& e) {
    throw api::invalid(std::string(key) + " is not valid JSON: " + e.what());
  }
}

// The same, kept as text for passing on: moved out of the frame, checked without a DOM. A text
// that is valid but spans lines (pretty-printed by the node) is re-written on one line.
std::string take_embedded_text(json& frame, const char* key) {
  auto it = frame.find(key);
  if (it == frame.end() || it->is_null()) return "{}";
  if (!it->is_string()) throw api::invalid(std::string(key) + " must be a JSON string");
  std::string text = std::move(it->get_ref<std::string&>());
  if (json_text::is_spliceable_value(text)) return text;
  try {
    return json_write::dump(json_input::parse(text), json::error_handler_t::replace);
  } catch (const json::parse_error& e) {
    throw api::invalid(std::string(key) + " is not valid JSON: " + e.what());
  }
}

}  // namespace

struct BridgeDialect::Session {
  enum class Phase { Hello, Authenticated };
  Phase phase = Phase::Hello;
  std::string node_id;
  std::string org_id;
  std::string pairing_node_id;     // waiting for an operator's decision (holds a pairing slot)
  std::string pairing_request_id;  // its stored request, once stored
  std::string peer_host;           // the address its pairing slot is counted under
  int protocol = kProtocolVersion;
  std::shared_ptr<Link> link;
  Deadlines::Id handshake_deadline = 0;
  Deadlines::Id liveness_deadline = 0;
  Deadlines::Id pairing_deadline = 0;
  Clock::time_point last_frame = Clock::now();
  uint64_t pings_sent = 0;
  // session id -> the sessionKey the node subscribed with ("main" or the id): its chat events
  // carry that key back (chat.subscribe).
  std::map<std::string, std::string> chat_subs;
};

// The router's handle on an authenticated bridge connection.
class BridgeDialect::Link final : public nodes::NodeLink {
 public:
  explicit Link(std::weak_ptr<Connection> conn) : conn_(std::move(conn)) {}
  void send_invoke(std::string_view id, std::string_view command,
                   std::string_view params_json) override {
    auto c = conn_.lock();
    if (!c) return;
    // Written as text: the frame's shape is fixed, and paramsJSON is a JSON text in a string.
    // Room for the escapes too (an eighth more than the text is plenty for JSON), so that a
    // large payload is copied once and not again each time the string outgrows itself.
    std::string frame;
    frame.reserve(64 + id.size() + command.size() + params_json.size() + params_json.size() / 8);
    frame += R"({"type":"invoke","id":)";
    json_write::append_string(frame, id);
    frame += R"(,"command":)";
    json_write::append_string(frame, command);
    if (!params_json.empty()) {
      frame += R"(,"paramsJSON":)";
      json_write::append_string(frame, params_json);
    }
    frame += '}';
    // Invokes routed to this node in one turn (the lines of one operator read) leave together.
    c->send_batched(std::move(frame));
  }
  void close(const std::string& reason) override {
    if (auto c = conn_.lock()) c->close(VSP_E_CLOSED, reason.c_str());
  }
  std::string transport_name() const override { return "bridge"; }
  std::string remote_address() const override {
    auto c = conn_.lock();
    return c ? c->peer() : "";
  }

 private:
  std::weak_ptr<Connection> conn_;
};

BridgeDialect::BridgeDialect(BridgeSettings settings, nodes::NodeStore& store,
                             nodes::LocalNodeRouter& router, Deadlines& deadlines,
                             PairingAnnouncer announce)
    : settings_(std::move(settings)),
      store_(store),
      router_(router),
      deadlines_(deadlines),
      announce_(std::move(announce)),
      instance_nonce_(crypto::uuid_v4()) {}

json BridgeDialect::hello_ok(int protocol) const {
  json ok = {{"type", "hello-ok"}, {"serverName", settings_.server_name}, {"protocol", protocol}};
  if (!settings_.canvas_host_url.empty()) ok["canvasHostUrl"] = settings_.canvas_host_url;
  return ok;
}

Task<void> BridgeDialect::on_open(std::shared_ptr<Connection> conn) {
  auto s = std::make_shared<Session>();
  conn->dialect_state = s;
  conn->principal.role = Role::Anonymous;
  s->peer_host = conn->peer_host();
  arm_handshake_deadline(conn);
  schedule_liveness(conn);
  co_return;
}

void BridgeDialect::arm_handshake_deadline(const std::shared_ptr<Connection>& conn) {
  auto* s = static_cast<Session*>(conn->dialect_state.get());
  deadlines_.cancel(s->handshake_deadline);
  std::weak_ptr<Connection> weak = conn;
  s->handshake_deadline = deadlines_.after(settings_.handshake_timeout, [weak, this] {
    auto c = weak.lock();
    if (!c || c->gone) return;
    auto* st = static_cast<Session*>(c->dialect_state.get());
    if (st->phase != Session::Phase::Hello || !st->pairing_node_id.empty()) return;
    send_error(*c, "UNAUTHORIZED",
               "no hello within " + std::to_string(settings_.handshake_timeout.count()) + " ms");
    c->close(VSP_E_CLOSED, "handshake timeout");
  });
}

void BridgeDialect::schedule_liveness(const std::shared_ptr<Connection>& conn) {
  auto* s = static_cast<Session*>(conn->dialect_state.get());
  std::weak_ptr<Connection> weak = conn;
  s->liveness_deadline = deadlines_.after(settings_.ping_interval, [weak, this] {
    auto c = weak.lock();
    if (!c || c->gone) return;
    auto* st = static_cast<Session*>(c->dialect_state.get());
    auto silent =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - st->last_frame);
    if (silent >= settings_.idle_timeout) {
      log::get("core")->info("bridge connection {} ({}) silent for {} ms; closing", c->id(),
                             st->node_id.empty() ? c->peer() : st->node_id, silent.count());
      // The node is gone as of this decision, not when the transport finishes closing: it is
      // offline and its pending invokes fail now.
      if (st->link) {
        router_.detach(st->node_id, st->link.get(),
                       "ping timeout: no traffic within bridge.idle_timeout_ms (" +
                           std::to_string(settings_.idle_timeout.count()) + " ms)");
      }
      c->close(VSP_E_CLOSED, "no traffic within bridge.idle_timeout_ms");
      return;
    }
    if (silent >= settings_.ping_interval) {
      send(*c, {{"type", "ping"}, {"id", "gw-" + std::to_string(++st->pings_sent)}});
    }
    schedule_liveness(c);
  });
}

bool BridgeDialect::on_message_now(Connection& conn, std::string_view message) {
  auto* s = static_cast<Session*>(conn.dialect_state.get());
  if (s->phase != Session::Phase::Authenticated) return false;
  std::optional<InvokeResView> res = view_invoke_res(message, json_input::max_depth());
  if (!res) return false;
  s->last_frame = Clock::now();
  nodes::InvokeResult r;
  r.ok = true;
  r.payload_json = std::move(res->payload_json);
  router_.complete(s->link.get(), res->id, std::move(r));
  return true;
}

// A frame on_message_now did not take (errors, odd shapes, other frames): the DOM way, which
// also reads every invoke-res that is not of the plain shape.
Task<void> BridgeDialect::on_message(std::shared_ptr<Connection> conn, std::string message) {
  auto* s = static_cast<Session*>(conn->dialect_state.get());
  s->last_frame = Clock::now();
  std::string bad;
  std::optional<json> parsed = parse_typed_frame(message, bad);
  if (!parsed) {
    refuse(*conn, "INVALID_REQUEST", bad);
    co_return;
  }
  json frame = std::move(*parsed);
  const std::string type = frame["type"];
  bool authed = s->phase == Session::Phase::Authenticated;

  if (type == "ping") {
    json pong = {{"type", "pong"}};
    // Only a scalar id is echoed: a peer's structure is never copied back to it.
    if (auto id = frame.find("id"); id != frame.end() && (id->is_string() || id->is_number()))
      pong["id"] = *id;
    send(*conn, pong);
    co_return;
  }
  if (type == "pong") co_return;  // liveness already noted
  if (type == "hello") {
    Task<void> t = handle_hello(conn, std::move(frame));
    co_await std::move(t);
    co_return;
  }
  if (type == "pair-request") {
    Task<void> t = handle_pair_request(conn, std::move(frame));
    co_await std::move(t);
    co_return;
  }
  if (type == "req") {
    if (!authed) {
      json id = fields::any_if(frame, "id");
      send_res_error(*conn, id.is_string() || id.is_number_integer() ? id : json(), "UNAUTHORIZED",
                     "send hello first");
      co_return;
    }
    Task<void> t = handle_req(conn, std::move(frame));
    co_await std::move(t);
    co_return;
  }
  if (type == "event" || type == "invoke-res") {
    if (!authed) {
      send_error(*conn, "UNAUTHORIZED", "send hello first");
      co_return;
    }
    if (type == "invoke-res") {
      handle_invoke_res(*conn, frame);
    } else {
      Task<void> t = handle_event(conn, std::move(frame));
      co_await std::move(t);
    }
    co_return;
  }
  if (type == "res" || type == "invoke" || type == "hello-ok" || type == "pair-ok") {
    refuse(*conn, "INVALID_REQUEST",
           "\"" + type + "\" frames are sent by the gateway, not by nodes");
    co_return;
  }
  refuse(*conn, authed ? "INVALID_REQUEST" : "UNAUTHORIZED",
         authed ? "unknown frame type \"" + type + "\"" : "send hello first");
}

// Events have no answer in bridge.v1: one the gateway cannot use is logged and dropped, as the
// reference server does. An `error` frame here would make the node drop its connection.
Task<void> BridgeDialect::handle_event(std::shared_ptr<Connection> conn, json frame) {
  auto* s = static_cast<Session*>(conn->dialect_state.get());
  const std::string ev = fields::string_if(frame, "event", "?");
  auto ignored = [&](const std::string& why) {
    log::get("core")->info("node {}: event {} ignored: {}", s->node_id, ev, why);
  };
  if (ev != "chat.subscribe" && ev != "chat.unsubscribe") {
    // voice.transcript, agent.request, exec.*: not served by this gateway yet.
    log::get("core")->debug("node {} event {}", s->node_id, ev);
    co_return;
  }
  json p;
  try {
    p = parse_embedded(frame, "payloadJSON");
  } catch (const api::ApiError& e) {
    ignored(e.what());
    co_return;
  }
  const std::string key = session_key_of(p);
  if (ev == "chat.unsubscribe") {
    for (const auto& [sid, k] : std::map<std::string, std::string>(s->chat_subs)) {
      if (k == key || sid == key) unsubscribe_chat(*conn, sid);
    }
    co_return;
  }
  if (sessions_ == nullptr) co_return;
  // Only a session of the node's own org ("main" is made on first use).
  std::string sid;
  try {
    Task<std::string> rt = resolve_session_key(*s, key);
    sid = co_await std::move(rt);
    Task<json> t = sessions_->require_session(
        sessions::SessionService::node_caller(conn->principal, s->node_id), sid);
    co_await std::move(t);
  } catch (const api::ApiError& e) {
    ignored(e.what());
    co_return;
  }
  if (conn->gone) co_return;
  s->chat_subs[sid] = key;
  chat_subs_[sid][conn->id()] = conn;
}

void BridgeDialect::refuse(Connection& conn, const std::string& code, const std::string& message) {
  auto* s = static_cast<Session*>(conn.dialect_state.get());
  send_error(conn, code, message);
  // A bridge node takes any error other than NOT_PAIRED / UNAUTHORIZED as the end of its
  // connection and dials again: an authenticated one is closed with the error, never left open
  // while the node has moved to a new socket.
  if (s != nullptr && s->phase == Session::Phase::Authenticated)
    conn.close(VSP_E_INVALID, "protocol error");
}

// hello and pair-request share their preconditions: not yet authenticated, a valid nodeId.
// Answers the node and returns false when they do not hold.
bool BridgeDialect::handshake_allowed(Connection& conn, const json& frame, const char* what) {
  auto* s = static_cast<Session*>(conn.dialect_state.get());
  if (s->phase == Session::Phase::Authenticated) {
    refuse(conn, "INVALID_REQUEST", "this connection is already authenticated");
    return false;
  }
  if (!valid_node_id(fields::any_if(frame, "nodeId"))) {
    send_error(conn, "INVALID_REQUEST",
               std::string(what) + " needs a nodeId (1 to 128 printable characters, no '/')");
    return false;
  }
  return true;
}

Task<void> BridgeDialect::handle_hello(std::shared_ptr<Connection> conn, json frame) {
  if (!handshake_allowed(*conn, frame, "hello")) co_return;
  int protocol = kProtocolVersion;
  if (auto p = frame.find("protocol"); p != frame.end()) {
    if (!p->is_number_integer() || p->get<int>() < 1) {
      send_error(*conn, "INVALID_REQUEST",
                 "protocol must be a positive integer (this gateway speaks 1)");
      co_return;
    }
    protocol = std::min(p->get<int>(), kProtocolVersion);  // we answer with the version we speak
  }
  std::string node_id = frame["nodeId"];
  std::string token = fields::string_or(frame, "token", "", "hello.token");
  Task<nodes::NodeStore::Check> t = store_.check_token(node_id, token);
  nodes::NodeStore::Check check = co_await std::move(t);
  if (conn->gone) co_return;
  switch (check.verdict) {
    case nodes::NodeStore::Verdict::NotPaired:
      send_error(*conn, "NOT_PAIRED", "node \"" + node_id + "\" is not paired; send pair-request");
      co_return;
    case nodes::NodeStore::Verdict::NodeHost:
      send_error(*conn, "UNAUTHORIZED",
                 "\"" + node_id +
                     "\" is a node host, not a bridge node: node hosts connect to /ws with their "
                     "agent token");
      co_return;
    case nodes::NodeStore::Verdict::Revoked:
      send_error(*conn, "UNAUTHORIZED",
                 "node \"" + node_id + "\" was revoked; send pair-request to pair again");
      co_return;
    case nodes::NodeStore::Verdict::Unauthorized:
      send_error(*conn, "UNAUTHORIZED",
                 token.empty() ? "node \"" + node_id + "\" is paired: hello needs its token"
                               : "wrong token for node \"" + node_id + "\"");
      co_return;
    case nodes::NodeStore::Verdict::Ok:
      break;
  }
  authenticate(conn, *check.node, protocol);
  send(*conn, hello_ok(protocol));
  Task<void> voicewake = send_current_voicewake(conn, check.node->org_id);
  co_await std::move(voicewake);
  Task<void> commands = ask_about_new_commands(conn, std::move(*check.node), std::move(frame));
  co_await std::move(commands);
}

void BridgeDialect::authenticate(const std::shared_ptr<Connection>& conn,
                                 const nodes::NodeRecord& node, int protocol) {
  auto* s = static_cast<Session*>(conn->dialect_state.get());
  s->phase = Session::Phase::Authenticated;
  s->node_id = node.node_id;
  s->org_id = node.org_id;
  s->protocol = protocol;
  release_pairing_slot(*conn, /*withdraw=*/true);  // a pairing connection said hello instead
  deadlines_.cancel(s->handshake_deadline);
  deadlines_.cancel(s->pairing_deadline);
  conn->principal = {Role::Node, "", "", node.org_id};
  s->link = std::make_shared<Link>(conn);
  nodes::ConnectedNode cn;
  cn.node_id = node.node_id;
  cn.org_id = node.org_id;
  cn.commands = std::set<std::string>(node.commands.begin(), node.commands.end());
  cn.kind = "bridge";
  cn.tags = node.tags;
  cn.link = s->link;
  router_.attach(std::move(cn));
  authenticated_.add(conn, node.org_id);
  tick_.node_joined();
  log::get("core")->info("node {} ({}) connected over bridge from {}", node.node_id,
                         node.display_name, conn->peer());
  spawn(
      store_.touch(node.node_id, util::now_iso8601()), [] {}, [](std::exception_ptr) {});
}

Task<void> BridgeDialect::handle_pair_request(std::shared_ptr<Connection> conn, json frame) {
  if (!handshake_allowed(*conn, frame, "pair-request")) co_return;
  auto* s = static_cast<Session*>(conn->dialect_state.get());
  std::string node_id = frame["nodeId"];
  bool silent = fields::bool_or(frame, "silent", false, "pair-request.silent");
  json claims = frame;
  claims.erase("type");
  claims.erase("token");
  if (const size_t size = claims.dump().size(); size > settings_.max_claims_bytes) {
    send_error(*conn, "INVALID_REQUEST",
               "pair-request carries " + std::to_string(size) +
                   " bytes of claims; this gateway takes at most " +
                   std::to_string(settings_.max_claims_bytes) + " (pairing.max_claims_bytes)");
    co_return;
  }
  std::string peer = conn->peer();
  // A pending request belongs to the connection that made it. While that connection is open,
  // another one asking for the same node id is refused: letting it in would re-target the
  // operator's approval (and the token) to whoever asked last. The slot is taken before the
  // storage round trip so that two requests racing for it cannot both pass.
  auto held_it = waiting_.find(node_id);
  if (auto held = held_it == waiting_.end() ? nullptr : held_it->second.lock();
      held && held != conn && !held->gone) {
    send_error(*conn, "UNAVAILABLE",
               "a pairing request for node \"" + node_id +
                   "\" is already waiting on another connection; try again once it is decided "
                   "or expires");
    co_return;
  }
  if (s->pairing_node_id != node_id) {
    // One request per connection: asking for another node id gives up the first.
    release_pairing_slot(*conn, /*withdraw=*/true);
    if (!admit_pairing(*conn)) co_return;
    ++pairing_slots_;
    ++pairing_slots_by_peer_[s->peer_host];
    s->pairing_node_id = node_id;
  }
  waiting_[node_id] = conn;
  nodes::PendingPairing pending;
  std::optional<json> error;
  try {
    Task<nodes::PendingPairing> t =
        store_.request_pairing(node_id, std::move(claims), peer, silent, pairing_owner(*conn));
    pending = co_await std::move(t);
  } catch (const api::ApiError& e) {
    error = json{{"code", e.code()}, {"message", e.what()}};
  } catch (const StorageError& e) {
    error = json{{"code", "UNAVAILABLE"}, {"message", std::string("storage: ") + e.what()}};
  }
  if (error) {
    if (!conn->gone) {
      release_pairing_slot(*conn, /*withdraw=*/false);
      send_error(*conn, (*error)["code"], (*error)["message"]);
    }
    co_return;
  }
  if (conn->gone) {
    // Closed while the request was being stored: on_close's withdrawal may have run first.
    spawn(
        store_.withdraw_pairing(node_id, pairing_owner(*conn)), [] {}, [](std::exception_ptr) {});
    co_return;
  }
  deadlines_.cancel(s->handshake_deadline);
  deadlines_.cancel(s->pairing_deadline);
  s->pairing_request_id = pending.request_id;
  std::weak_ptr<Connection> weak = conn;
  auto ttl =
      std::chrono::milliseconds(std::max<int64_t>(0, pending.expires_at_ms - util::now_ms()));
  s->pairing_deadline = deadlines_.after(ttl, [weak, node_id, this] {
    auto c = weak.lock();
    if (!c || c->gone) return;
    auto* st = static_cast<Session*>(c->dialect_state.get());
    if (st->pairing_node_id != node_id) return;
    release_pairing_slot(*c, /*withdraw=*/true, "expired");
    send_error(*c, "UNAUTHORIZED",
               "pairing request expired without an operator's decision; send pair-request again");
    // Back to an unauthenticated connection: it gets the same deadline as a new one.
    arm_handshake_deadline(c);
  });
  log::get("core")->info(
      "node {} asks to pair from {} (request {}); approve with `vespid nodes approve {} --org ORG`",
      node_id, peer, pending.request_id, pending.request_id);
  announce_(pending);
}

void BridgeDialect::pairing_approved(const nodes::NodeRecord& node, const std::string& token) {
  auto it = waiting_.find(node.node_id);
  if (it == waiting_.end()) return;
  auto conn = it->second.lock();
  if (!conn || conn->gone) return;
  auto* s = static_cast<Session*>(conn->dialect_state.get());
  if (s->pairing_node_id != node.node_id) return;
  release_pairing_slot(*conn, /*withdraw=*/false);  // approval consumed the stored request
  send(*conn, {{"type", "pair-ok"}, {"token", token}});
  authenticate(conn, node, s->protocol);
  send(*conn, hello_ok(s->protocol));
  spawn(
      send_current_voicewake(conn, node.org_id), [] {}, [](std::exception_ptr) {});
}

void BridgeDialect::pairing_rejected(const std::string& node_id) {
  auto it = waiting_.find(node_id);
  if (it == waiting_.end()) return;
  auto conn = it->second.lock();
  if (!conn || conn->gone) return;
  auto* s = static_cast<Session*>(conn->dialect_state.get());
  if (s->pairing_node_id != node_id) return;
  release_pairing_slot(*conn, /*withdraw=*/false);  // the rejection deleted it
  deadlines_.cancel(s->pairing_deadline);
  send_error(*conn, "UNAUTHORIZED", "pairing was rejected by an operator");
  arm_handshake_deadline(conn);
}

Task<void> BridgeDialect::handle_req(std::shared_ptr<Connection> conn, json frame) {
  auto* s = static_cast<Session*>(conn->dialect_state.get());
  json id = fields::any_if(frame, "id");
  if (!(id.is_string() || id.is_number_integer())) {
    send_res_error(*conn, nullptr, "INVALID_REQUEST", "req needs an \"id\" (string or integer)");
    co_return;
  }
  if (!frame.contains("method") || !frame["method"].is_string()) {
    send_res_error(*conn, id, "INVALID_REQUEST", "req needs a string \"method\"");
    co_return;
  }
  std::string method = frame["method"];
  if (!allowed_for_nodes(method)) {
    send_res_error(*conn, id, "FORBIDDEN", "Method not allowed", {{"method", method}});
    co_return;
  }
  std::optional<json> error;
  try {
    json params = parse_embedded(frame, "paramsJSON");
    Task<json> t = call_node_method(*s, method, std::move(params));
    json payload = co_await std::move(t);
    if (conn->gone) co_return;
    send(*conn, {{"type", "res"}, {"id", id}, {"ok", true}, {"payloadJSON", payload.dump()}});
    co_return;
  } catch (const api::ApiError& e) {
    error = json{{"code", e.code()}, {"message", e.what()}, {"details", e.details()}};
  } catch (const StorageError& e) {
    error = json{{"code", "UNAVAILABLE"},
                 {"message", std::string("storage: ") + e.what()},
                 {"details", nullptr}};
  }
  send_res_error(*conn, id, (*error)["code"], (*error)["message"], (*error)["details"]);
}

Task<json> BridgeDialect::call_node_method(Session& s, std::string method, json params) {
  if (method == "health") {
    co_return json{{"ok", true}, {"ts", util::now_ms()}, {"serverName", settings_.server_name}};
  }
  if (method == "config.get") {
    // Only the gateway's public settings: a node never sees secrets or operator config.
    json cfg = {{"serverName", settings_.server_name}, {"protocol", s.protocol}};
    if (!settings_.canvas_host_url.empty()) cfg["canvasHostUrl"] = settings_.canvas_host_url;
    co_return cfg;
  }
  // Voice wake triggers belong to the node's org (the reference keeps one list per gateway):
  // a change reaches every node of the org, the one that made it included, before its answer.
  if (method == "voicewake.get") {
    Task<json> t = store_.voicewake(s.org_id);
    json v = co_await std::move(t);
    co_return v;
  }
  if (method == "voicewake.set") {
    Task<json> t = store_.set_voicewake(s.org_id, std::move(params));
    json v = co_await std::move(t);
    if (announce_voicewake_) {
      announce_voicewake_(s.org_id, v);
    } else {
      push_voicewake(s.org_id, v);
    }
    co_return v;
  }
  if (sessions_ == nullptr) {
    throw api::unavailable("\"" + method + "\" is not available on this gateway");
  }
  sessions::Caller caller =
      sessions::SessionService::node_caller(Principal{Role::Node, "", "", s.org_id}, s.node_id);
  if (method == "sessions.list") {
    const int limit =
        static_cast<int>(fields::int_or(params, "limit", 50, 0, INT32_MAX, "params.limit"));
    Task<json> t = sessions_->list(std::move(caller), limit, "");
    json v = co_await std::move(t);
    Task<std::optional<std::string>> mt = sessions_->find_node_main_session(s.node_id);
    const std::optional<std::string> main_id = co_await std::move(mt);
    // The reference's session rows are addressed by `key` (what chat.* take as sessionKey):
    // the node's own main session is "main", any other its id.
    for (auto& row : v["sessions"]) {
      const std::string id = row.value("id", "");
      row["key"] = main_id && *main_id == id ? std::string(kMainSessionKey) : id;
    }
    co_return v;
  }
  const std::string key = session_key_of(params);
  try {
    Task<std::string> rt = resolve_session_key(s, key);
    const std::string sid = co_await std::move(rt);
    if (method == "sessions.resolve") {
      Task<json> t = sessions_->require_session(std::move(caller), sid);
      json r = co_await std::move(t);
      co_return json{{"sessionKey", key}, {"session", sessions::session_view(r)}};
    }
    if (method == "chat.abort") {
      // The reference's answer: {ok, aborted, runIds}; subscribers get chat state "aborted".
      const std::string run_id = fields::string_if(params, "runId");
      Task<json> t = sessions_->cancel(std::move(caller), sid, "rpc", run_id);
      json r = co_await std::move(t);
      const bool aborted = r.value("cancelled", false);
      json run_ids = json::array();
      if (aborted) run_ids.push_back(r["runId"]);
      co_return json{{"ok", true}, {"aborted", aborted}, {"runIds", run_ids}};
    }
    if (method == "chat.history") {
      const int limit =
          static_cast<int>(fields::int_or(params, "limit", 200, 0, INT32_MAX, "params.limit"));
      Task<std::vector<json>> t = sessions_->tail(std::move(caller), sid, limit);
      std::vector<json> events = co_await std::move(t);
      // The reference's transcript form (what its chat screens render) beside the events.
      co_return json{{"sessionKey", key},
                     {"sessionId", sid},
                     {"messages", chat_messages(events)},
                     {"thinkingLevel", "off"},
                     {"events", events}};
    }
    // chat.send
    json body = {{"message", fields::any_if(params, "message")}};
    if (params.contains("idempotencyKey")) body["idempotencyKey"] = params["idempotencyKey"];
    Task<json> t = sessions_->send(std::move(caller), sid, std::move(body));
    json r = co_await std::move(t);
    // The run is what its chat events carry: the idempotency key when the node sent one (the
    // reference's clientRunId), else the turn's request id.
    json run_id = params.contains("idempotencyKey") && params["idempotencyKey"].is_string() &&
                          !params["idempotencyKey"].get_ref<const std::string&>().empty()
                      ? params["idempotencyKey"]
                  : r.contains("requestId") && r["requestId"].is_string()
                      ? r["requestId"]
                      : fields::any_if(r, "seq");
    co_return json{{"runId", run_id}, {"status", "started"}};
  } catch (const api::ApiError& e) {
    if (e.code() == "SESSION_NOT_FOUND") throw api::not_found(e.what());
    throw;
  }
}

std::string BridgeDialect::session_key_of(const json& params) {
  std::string key = fields::string_if(params, "sessionKey");
  return key.empty() ? std::string(kMainSessionKey) : key;
}

Task<std::string> BridgeDialect::resolve_session_key(const Session& s, std::string key) {
  if (key != kMainSessionKey) co_return key;
  Task<std::string> t = sessions_->node_main_session(
      sessions::SessionService::node_caller(Principal{Role::Node, "", "", s.org_id}, s.node_id),
      s.node_id);
  std::string id = co_await std::move(t);
  co_return id;
}

json BridgeDialect::chat_messages(const std::vector<json>& events) {
  json out = json::array();
  for (const auto& ev : events) {
    const std::string type = fields::string_if(ev, "eventType");
    const json payload = fields::any_if(ev, "payload");
    if (!payload.is_object()) continue;
    std::string role, text;
    if (type == "user_message") {
      role = "user";
      text = fields::string_if(payload, "message");
    } else if (type == "agent_final") {
      role = "assistant";
      text = fields::string_if(payload, "text");
    } else {
      continue;
    }
    out.push_back({{"role", role},
                   {"content", json::array({{{"type", "text"}, {"text", text}}})},
                   {"timestamp", util::parse_iso8601_ms(fields::string_if(ev, "createdAt"))}});
  }
  return out;
}

void BridgeDialect::unsubscribe_chat(Connection& conn, const std::string& session_id) {
  auto* s = static_cast<Session*>(conn.dialect_state.get());
  if (s != nullptr) s->chat_subs.erase(session_id);
  auto it = chat_subs_.find(session_id);
  if (it == chat_subs_.end()) return;
  it->second.erase(conn.id());
  if (it->second.empty()) {
    chat_subs_.erase(it);
    chat_text_.erase(session_id);
  }
}

void BridgeDialect::publish_chat(const std::string& session_id, const std::vector<json>& events) {
  auto it = chat_subs_.find(session_id);
  if (it == chat_subs_.end()) return;
  std::vector<json> frames;
  for (const auto& ev : events) {
    const std::string type = fields::string_if(ev, "eventType");
    const json payload = fields::any_if(ev, "payload");
    // A cancelled turn ends in an error event TURN_CANCELED: the reference's "aborted".
    const bool aborted = type == "error" && fields::string_if(payload, "code") == "TURN_CANCELED";
    const char* state = type == "agent_delta"   ? "delta"
                        : type == "agent_final" ? "final"
                        : aborted               ? "aborted"
                        : type == "error"       ? "error"
                                                : nullptr;
    if (state == nullptr) continue;
    // The run is the sender's idempotency key (the reference's clientRunId), else the turn's
    // request id; events stored before runIds were stamped carry neither.
    json run_id = payload.is_object() && payload.contains("runId")
                      ? payload["runId"]
                      : fields::any_if(ev, "requestId");
    if (payload.is_object() && run_id.is_null() && payload.contains("requestId"))
      run_id = payload["requestId"];
    json p = {{"runId", run_id},
              {"sessionKey", session_id},
              {"seq", fields::any_if(ev, "seq")},
              {"state", state}};
    const std::string piece =
        payload.is_object() ? fields::string_if(payload, "text") : std::string();
    if (payload.is_object() && payload.contains("text")) p["text"] = payload["text"];
    if (payload.is_object() && payload.contains("code")) p["code"] = payload["code"];
    ChatRunText& run = chat_text_[session_id];
    const std::string run_key = run_id.is_string() ? run_id.get<std::string>() : run_id.dump();
    if (run.run_id != run_key) run = ChatRunText{run_key, {}};
    const int64_t now = util::now_ms();
    auto assistant = [now](const std::string& text) {
      return json{{"role", "assistant"},
                  {"content", json::array({{{"type", "text"}, {"text", text}}})},
                  {"timestamp", now}};
    };
    if (std::string_view(state) == "delta") {
      if (run.text.size() + piece.size() <= kMaxChatTextBytes) run.text += piece;
      p["message"] = assistant(run.text);
    } else if (std::string_view(state) == "final") {
      const std::string whole = piece.empty() ? run.text : piece;
      if (!whole.empty()) p["message"] = assistant(whole);
      chat_text_.erase(session_id);
    } else if (aborted) {
      p.erase("code");
      p["stopReason"] = fields::string_if(payload, "stopReason");
      chat_text_.erase(session_id);
    } else {
      const std::string code = payload.is_object() ? fields::string_if(payload, "code") : "";
      const std::string message =
          payload.is_object() ? fields::string_if(payload, "message") : std::string();
      p["errorMessage"] = code.empty() ? message : code + ": " + message;
      chat_text_.erase(session_id);
    }
    frames.push_back({{"type", "event"}, {"event", "chat"}, {"payloadJSON", p.dump()}});
  }
  if (frames.empty()) return;
  std::vector<uint64_t> drop;
  for (auto& [cid, weak] : it->second) {
    auto c = weak.lock();
    if (!c || c->gone || c->closing()) {
      drop.push_back(cid);
      continue;
    }
    // The transport bounds each connection's queue (send_queue_bytes) and closes a reader that
    // falls behind it; such a subscriber is dropped here too, never buffered for.
    // The key the node subscribed with ("main" or the id) is the one its events carry.
    const auto* sub = static_cast<const Session*>(c->dialect_state.get());
    std::string key = session_id;
    if (sub != nullptr) {
      auto k = sub->chat_subs.find(session_id);
      if (k != sub->chat_subs.end()) key = k->second;
    }
    for (const auto& f : frames) {
      std::string text;
      if (key == session_id) {
        text = json_write::dump(f, json::error_handler_t::replace);
      } else {
        json p = json::parse(f["payloadJSON"].get<std::string>());
        p["sessionKey"] = key;
        json keyed = f;
        keyed["payloadJSON"] = json_write::dump(p, json::error_handler_t::replace);
        text = json_write::dump(keyed, json::error_handler_t::replace);
      }
      if (c->send(text) != VSP_OK) {
        log::get("core")->warn(
            "bridge node connection {} cannot keep up with session {}; unsubscribed", cid,
            session_id);
        drop.push_back(cid);
        break;
      }
    }
  }
  for (auto cid : drop) it->second.erase(cid);
  if (it->second.empty()) {
    chat_subs_.erase(it);
    chat_text_.erase(session_id);
  }
}

void BridgeDialect::handle_invoke_res(Connection& conn, json& frame) {
  auto* s = static_cast<Session*>(conn.dialect_state.get());
  if (!frame.contains("id") || !frame["id"].is_string()) {
    // No invoke to settle; an error frame would cost the node its connection (see refuse()).
    log::get("core")->warn("node {}: invoke-res without a string id ignored", s->node_id);
    return;
  }
  nodes::InvokeResult r;
  // A malformed answer still completes the invoke, as an error naming what was wrong: the
  // caller hears back now rather than at its deadline, and the node is told as well.
  if (auto ok = frame.find("ok"); ok != frame.end() && !ok->is_boolean()) {
    r.ok = false;
    r.error_code = "INVALID_REQUEST";
    r.error_message = "the node's invoke-res had a non-boolean \"ok\"";
    log::get("core")->warn("node {}: invoke-res {} with a non-boolean ok", s->node_id,
                           frame["id"].get<std::string>());
    router_.complete(s->link.get(), frame["id"].get_ref<const std::string&>(), std::move(r));
    return;
  }
  r.ok = fields::bool_if(frame, "ok");
  if (r.ok) {
    try {
      r.payload_json = take_embedded_text(frame, "payloadJSON");
    } catch (const api::ApiError& e) {
      r.ok = false;
      r.error_code = "INVALID_REQUEST";
      r.error_message = std::string("the node's payloadJSON was not valid: ") + e.what();
    }
  } else {
    const json err = fields::any_if(frame, "error");
    r.error_code = fields::string_if(err, "code", "NODE_ERROR");
    r.error_message = fields::string_if(err, "message", "the node reported an error");
  }
  router_.complete(s->link.get(), frame["id"].get_ref<const std::string&>(), std::move(r));
}

void BridgeDialect::on_protocol_error(Connection& conn, int, const std::string& message) {
  refuse(conn, "INVALID_REQUEST", message);
}

void BridgeDialect::on_overload(Connection& conn, const std::string& message) {
  refuse(conn, "UNAVAILABLE", message);
}

void BridgeDialect::on_frame_failed(Connection& conn, const std::string& code,
                                    const std::string& message) {
  refuse(conn, code, message);
}

void BridgeDialect::on_close(Connection& conn) {
  auto* s = static_cast<Session*>(conn.dialect_state.get());
  if (s == nullptr) return;
  deadlines_.cancel(s->handshake_deadline);
  deadlines_.cancel(s->liveness_deadline);
  deadlines_.cancel(s->pairing_deadline);
  authenticated_.remove(conn.id());
  const std::map<std::string, std::string> subs = s->chat_subs;
  for (const auto& [sid, key] : subs) unsubscribe_chat(conn, sid);
  if (s->link) {
    router_.detach(s->node_id, s->link.get(),
                   conn.close_reason.empty() ? "connection closed" : conn.close_reason);
    log::get("core")->info("node {} disconnected", s->node_id);
  }
  release_pairing_slot(conn, /*withdraw=*/true);
}

bool BridgeDialect::admit_pairing(Connection& conn) {
  auto* s = static_cast<Session*>(conn.dialect_state.get());
  if (pairing_slots_ >= settings_.max_pending) {
    send_error(conn, "UNAVAILABLE",
               "too many pairing requests are waiting on this gateway (pairing.max_pending = " +
                   std::to_string(settings_.max_pending) + "); try again later");
    return false;
  }
  auto it = pairing_slots_by_peer_.find(s->peer_host);
  if (it != pairing_slots_by_peer_.end() && it->second >= settings_.max_pending_per_peer) {
    log::get("core")->warn("bridge: pairing request from {} refused: {} already waiting from it",
                           conn.peer(), it->second);
    send_error(conn, "UNAVAILABLE",
               "too many pairing requests are waiting from " + s->peer_host +
                   " (pairing.max_pending_per_peer = " +
                   std::to_string(settings_.max_pending_per_peer) + "); try again later");
    return false;
  }
  return true;
}

void BridgeDialect::release_pairing_slot(Connection& conn, bool withdraw, const char* how) {
  auto* s = static_cast<Session*>(conn.dialect_state.get());
  if (s == nullptr || s->pairing_node_id.empty()) return;
  const std::string node_id = std::move(s->pairing_node_id);
  const std::string request_id = std::move(s->pairing_request_id);
  s->pairing_node_id.clear();
  s->pairing_request_id.clear();
  if (auto w = waiting_.find(node_id); w != waiting_.end()) {
    auto c = w->second.lock();
    if (!c || c.get() == &conn) waiting_.erase(w);
  }
  --pairing_slots_;
  if (auto p = pairing_slots_by_peer_.find(s->peer_host);
      p != pairing_slots_by_peer_.end() && --p->second == 0)
    pairing_slots_by_peer_.erase(p);
  if (withdraw && !keep_pairing_requests_) {
    metrics::instruments()
        .pairing_requests[metrics::PairingKind::Bridge]
                         [std::string_view(how) == "expired" ? metrics::PairingDecision::Expired
                                                             : metrics::PairingDecision::Withdrawn]
        .inc();
    spawn(
        store_.withdraw_pairing(node_id, pairing_owner(conn)), [] {},
        [](std::exception_ptr) { /* the request expires on its own (pairing.ttl_ms) */ });
    // Operators watching the request hear that it is gone (a stopping gateway keeps it).
    if (announce_end_ && !request_id.empty()) announce_end_(node_id, request_id, how);
  }
}

std::string BridgeDialect::pairing_owner(const Connection& conn) const {
  return instance_nonce_ + ":" + std::to_string(conn.id());
}

}  // namespace vespid::core
