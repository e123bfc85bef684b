#include "protocols/node/node_host_dialect.hpp"

#include "host/connections/connection.hpp"
#include "json_write.hpp"
#include "protocols/node/execute_result_frame.hpp"
#include "protocols/typed_frame.hpp"
#include "runtime/json_fields.hpp"
#include "runtime/logging.hpp"
#include "runtime/time.hpp"
#include "services/dispatch/dispatcher.hpp"
#include "services/node_hosts/node_host_store.hpp"
#include "services/nodes/node_router.hpp"
#include "storage/storage_service.hpp"

namespace vespid::node_hosts {

using core::Connection;
using core::Task;
namespace fields = core::fields;
using nlohmann::json;

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("agents");
}

void send(Connection& c, const json& frame) {
  c.send(json_write::dump(frame, json::error_handler_t::replace));
}

void send_error(Connection& c, const std::string& code, const std::string& message,
                const json& details = nullptr) {
  json f = {{"type", "error"}, {"code", code}, {"message", message}};
  if (!details.is_null()) f["details"] = details;
  send(c, f);
}

std::string refusal(const std::string& code, const std::string& message) {
  return json{{"code", code}, {"message", message}}.dump();
}

// {"requestId":<id>,"type":"execute_ack"}, written as dump() writes it (ids are from a parsed
// frame, so valid UTF-8).
std::string execute_ack(const std::string& request_id) {
  std::string f = "{";
  json_write::append_string_member(f, "requestId", request_id);
  f += R"(,"type":"execute_ack"})";
  return f;
}

}  // namespace

struct NodeHostDialect::Session {
  std::string agent_id;
  std::string org_id;
  std::shared_ptr<Link> link;
};

class NodeHostDialect::Link final : public nodes::NodeLink {
 public:
  explicit Link(std::weak_ptr<Connection> conn) : conn_(std::move(conn)) {}
  void send_invoke(std::string_view, std::string_view, std::string_view) override {
    // Node hosts take work as `execute`; the router never invokes commands on them (they
    // declare none), so there is nothing to send.
  }
  bool send_frame(const std::string& frame) override {
    auto c = conn_.lock();
    if (!c || c->gone || c->closing()) return false;
    int rc = c->send(frame);
    return rc == VSP_OK || rc == VSP_E_BUSY;  // BUSY: queued; the peer is slow
  }
  void close(const std::string& reason) override {
    if (auto c = conn_.lock()) c->close(VSP_E_CLOSED, reason.c_str());
  }
  std::string transport_name() const override { return "ws"; }
  std::string remote_address() const override {
    auto c = conn_.lock();
    return c ? c->peer() : "";
  }

 private:
  std::weak_ptr<Connection> conn_;
};

NodeHostDialect::NodeHostDialect(NodeHostStore& store, nodes::LocalNodeRouter& router,
                                 dispatch::Dispatcher& dispatcher, AgentDialectLimits limits)
    : store_(store), router_(router), dispatcher_(dispatcher), limits_(limits) {}

Task<void> NodeHostDialect::on_open(std::shared_ptr<Connection> conn) {
  auto s = std::make_shared<Session>();
  conn->dialect_state = s;
  conn->principal.role = core::Role::Anonymous;

  std::string code, message;
  if (conn->bearer_token().empty()) {
    code = "UNAUTHORIZED";
    message = "node hosts connect with Authorization: Bearer <agentToken> (from pairing)";
  } else {
    Task<NodeHostStore::Check> t = store_.check_token(conn->bearer_token());
    NodeHostStore::Check check = co_await std::move(t);
    if (check.verdict == NodeHostStore::Verdict::Revoked) {
      code = "AGENT_REVOKED";
      message = "this node host was revoked; pair it again with a new pairing token";
    } else if (check.verdict != NodeHostStore::Verdict::Ok) {
      code = "UNAUTHORIZED";
      message = "the agent token is not valid";
    } else {
      const nodes::NodeRecord& a = *check.agent;
      s->agent_id = a.node_id;
      s->org_id = a.org_id;
      conn->principal = {core::Role::Node, "", "", a.org_id};
      s->link = std::make_shared<Link>(conn);
      nodes::ConnectedNode cn;
      cn.node_id = a.node_id;
      cn.org_id = a.org_id;
      cn.kind = "agent";
      cn.tags = a.tags;
      cn.capabilities = nodes::HostCapabilities(a.capabilities);
      cn.link = s->link;
      router_.attach(std::move(cn));
      L()->info("node host {} ({}) connected from {}", a.node_id, a.display_name, conn->peer());
      co_return;
    }
  }
  L()->info("connection {} from {} refused: {}", conn->id(), conn->peer(), code);
  if (conn->wants_admission()) {
    conn->refusal = Connection::Refusal{401, refusal(code, message)};
  } else {
    send_error(*conn, code, message);
    conn->close(VSP_E_PERMISSION, code.c_str());
  }
}

void NodeHostDialect::on_hello(Connection& conn, const json& frame) {
  auto* s = static_cast<Session*>(conn.dialect_state.get());
  std::string version = fields::string_or(frame, "agentVersion", "", "hello.agentVersion");
  // A hello without capabilities keeps what is stored (from pairing or an earlier hello).
  json caps = fields::any_if(frame, "capabilities");
  if (!caps.is_null() &&
      (!caps.is_object() || caps.dump().size() > limits_.max_capabilities_bytes)) {
    L()->warn("node host {}: hello.capabilities ignored (not an object, or over {} bytes)",
              s->agent_id, limits_.max_capabilities_bytes);
    caps = json();
  }
  if (!caps.is_null()) router_.update_capabilities(s->agent_id, caps);
  core::spawn(
      store_.record_hello(s->agent_id, version, caps), [] {},
      [](std::exception_ptr) { /* a hint and a timestamp; storage errors are logged there */ });
}

Task<void> NodeHostDialect::on_message(std::shared_ptr<Connection> conn, std::string message) {
  auto* s = static_cast<Session*>(conn->dialect_state.get());
  if (s->agent_id.empty()) co_return;  // refused at open; nothing it sends counts
  // The frame on every dispatch's way back, read without a DOM when the scan vouches for it.
  if (std::optional<dispatch::HostResult> result = read_execute_result(message)) {
    Task<void> t = store_result(conn, std::move(*result));
    co_await std::move(t);
    co_return;
  }
  std::string bad;
  std::optional<json> parsed = core::parse_typed_frame(message, bad);
  if (!parsed) {
    send_error(*conn, "INVALID_REQUEST", bad);
    co_return;
  }
  json frame = std::move(*parsed);
  const std::string type = frame["type"];
  if (type == "ping") {
    json ts = fields::any_if(frame, "ts");
    send(*conn, {{"type", "pong"}, {"ts", ts.is_number() ? ts : json(util::now_ms())}});
  } else if (type == "hello") {
    on_hello(*conn, frame);
  } else if (type == "execute_received") {
    std::string id = request_id_of(frame);
    if (!id.empty()) dispatcher_.received(s->agent_id, id);
  } else if (type == "execute_event") {
    std::string id = request_id_of(frame);
    json ev = fields::any_if(frame, "event");
    if (id.empty() || !ev.is_object()) {
      send_error(*conn, "INVALID_REQUEST", "execute_event needs {requestId, event:{...}}");
      co_return;
    }
    dispatcher_.event(s->agent_id, id, ev);
  } else if (type == "execute_result") {
    Task<void> t = on_result(conn, std::move(frame));
    co_await std::move(t);
  } else {
    send_error(*conn, "INVALID_REQUEST", "unknown message type \"" + type + "\"", {{"type", type}});
  }
}

Task<void> NodeHostDialect::on_result(std::shared_ptr<Connection> conn, json frame) {
  bool bad_status = false;
  std::optional<dispatch::HostResult> r = read_execute_result(frame, bad_status);
  if (!r) {
    send_error(*conn, "INVALID_REQUEST",
               "execute_result needs {requestId, status: \"succeeded\"|\"failed\", output?, "
               "error?}");
    co_return;
  }
  if (bad_status) {
    // The host will not send this result any better. Recorded as the request's failure, so its
    // caller hears now, and acknowledged after, so the host stops resending it.
    send_error(*conn, "INVALID_REQUEST",
               "execute_result.status must be \"succeeded\" or \"failed\"; the request is "
               "recorded as failed",
               {{"requestId", r->request_id}});
  }
  Task<void> t = store_result(conn, std::move(*r));
  co_await std::move(t);
}

Task<void> NodeHostDialect::store_result(std::shared_ptr<Connection> conn,
                                         dispatch::HostResult result) {
  auto* s = static_cast<Session*>(conn->dialect_state.get());
  const std::string id = result.request_id;
  dispatch::Dispatcher::Completion done;
  try {
    Task<dispatch::Dispatcher::Completion> t =
        dispatcher_.complete(s->agent_id, s->org_id, std::move(result));
    done = co_await std::move(t);
  } catch (const core::StorageError& e) {
    // Not acknowledged: the host keeps the result and sends it again after a reconnect.
    send_error(*conn, "UNAVAILABLE", std::string("the result could not be stored: ") + e.what(),
               {{"requestId", id}});
    co_return;
  }
  if (done == dispatch::Dispatcher::Completion::Foreign) {
    L()->warn("node host {} sent a result for {}, a request it was not sent; refused", s->agent_id,
              id);
    send_error(*conn, "FORBIDDEN", "this request was not dispatched to this node host",
               {{"requestId", id}});
    co_return;
  }
  if (done == dispatch::Dispatcher::Completion::Unknown) {
    L()->info("node host {} sent a result for unknown request {}; acknowledged, not stored",
              s->agent_id, id);
  }
  if (!conn->gone) conn->send(execute_ack(id));
}

void NodeHostDialect::on_protocol_error(Connection& conn, int, const std::string& message) {
  send_error(conn, "INVALID_REQUEST", message);
}

void NodeHostDialect::on_overload(Connection& conn, const std::string& message) {
  send_error(conn, "UNAVAILABLE", message);
}

void NodeHostDialect::on_frame_failed(Connection& conn, const std::string& code,
                                      const std::string& message) {
  send_error(conn, code, message);
}

void NodeHostDialect::on_close(Connection& conn) {
  auto* s = static_cast<Session*>(conn.dialect_state.get());
  if (s == nullptr || !s->link) return;
  router_.detach(s->agent_id, s->link.get(),
                 conn.close_reason.empty() ? "connection closed" : conn.close_reason);
  L()->info("node host {} disconnected", s->agent_id);
}

}  // namespace vespid::node_hosts
