#include "protocols/operator/operator_dialect.hpp"

#include "host/connections/connection.hpp"
#include "json_write.hpp"
#include "protocols/cookie_auth.hpp"
#include "protocols/operator/request_view.hpp"
#include "runtime/api_error.hpp"
#include "runtime/json_fields.hpp"
#include "runtime/json_input.hpp"
#include "runtime/logging.hpp"
#include "storage/repository.hpp"
#include "storage/storage_service.hpp"

namespace vespid::core {

using nlohmann::json;

namespace {

void send_json(Connection& c, const json& frame) {
  c.send(json_write::dump(frame, json::error_handler_t::replace));
}

json error_frame(const json& id, const std::string& code, const std::string& message,
                 const json& details = nullptr) {
  json err = {{"code", code}, {"message", message}};
  if (!details.is_null()) err["details"] = details;
  return {{"type", "res"}, {"id", id}, {"ok", false}, {"error", err}};
}

// A hot method's answers (TextReply), in this dialect's form.
void send_text_payload(Connection& c, std::string_view id_json,
                       std::initializer_list<std::string_view> parts) {
  constexpr std::string_view head = R"({"type":"res","id":)";
  constexpr std::string_view ok = R"(,"ok":true,"payload":)";
  size_t size = head.size() + id_json.size() + ok.size() + 1;
  for (std::string_view part : parts) size += part.size();
  // Sized once, so that a large payload is copied once.
  std::string frame;
  frame.reserve(size);
  frame.append(head).append(id_json).append(ok);
  for (std::string_view part : parts) frame.append(part);
  frame += '}';
  // Answers completed in one turn (a node's lines of one read) leave in one write.
  c.send_batched(std::move(frame));
}

void send_text_error(Connection& c, std::string_view id_json, const api::ApiError& e) {
  send_json(c, error_frame(json::parse(id_json), e.code(), e.what(), e.details()));
}

constexpr TextReply::Form kTextReplyForm{&send_text_payload, &send_text_error};

}  // namespace

namespace {
struct ApiRefusal {
  int http_status;
  std::string code, message;
};

struct OperatorSession {
  uint64_t event_seq = 0;
  Deadlines::Id auth_deadline = 0;  // armed while the socket is unauthenticated
  EventAudience audience;
  // Bumped by every refresh: a slower, older read never overwrites a newer one.
  uint64_t audience_generation = 0;
};
}  // namespace

void OperatorDialect::publish(const std::string& event, const json& payload,
                              const AudienceCheck& to) {
  for (auto it = open_.begin(); it != open_.end();) {
    auto conn = it->second.lock();
    if (!conn || conn->gone) {
      it = open_.erase(it);
      continue;
    }
    ++it;
    // A connection demoted by a revoked credential hears nothing more, whatever it cached.
    if (conn->principal.role == Role::Anonymous) continue;
    auto* s = static_cast<OperatorSession*>(conn->dialect_state.get());
    if (!to(conn->principal, s->audience)) continue;
    send_json(*conn,
              {{"type", "event"}, {"event", event}, {"payload", payload}, {"seq", ++s->event_seq}});
  }
}

void OperatorDialect::send_event(Connection& conn, const std::string& event, const json& payload) {
  auto* s = static_cast<OperatorSession*>(conn.dialect_state.get());
  if (s == nullptr || conn.gone) return;
  send_json(conn,
            {{"type", "event"}, {"event", event}, {"payload", payload}, {"seq", ++s->event_seq}});
}

const EventAudience* OperatorDialect::audience_of(const Connection& conn) const {
  if (conn.dialect != this) return nullptr;
  auto* s = static_cast<OperatorSession*>(conn.dialect_state.get());
  return s == nullptr ? nullptr : &s->audience;
}

void OperatorDialect::user_rights_changed(const std::string& user_id) {
  for (auto& [id, weak] : open_) {
    auto conn = weak.lock();
    if (!conn || conn->gone || conn->principal.user_id != user_id) continue;
    spawn(
        refresh_audience(conn), [] {}, [](std::exception_ptr) {});
  }
}

Task<void> OperatorDialect::refresh_audience(std::shared_ptr<Connection> conn) {
  auto* s = static_cast<OperatorSession*>(conn->dialect_state.get());
  const uint64_t generation = ++s->audience_generation;
  EventAudience fresh;
  try {
    Task<EventAudience> t = load_audience(repo_, conn->principal);
    fresh = co_await std::move(t);
  } catch (const std::exception& e) {
    // Safe side: no events until the next refresh, rather than another user's.
    log::get("core")->warn("operator connection {}: could not read its event audience: {}",
                           conn->id(), e.what());
  }
  if (conn->gone || generation != s->audience_generation) co_return;
  s->audience = std::move(fresh);
}

void OperatorDialect::on_close(Connection& conn) {
  open_.erase(conn.id());
  if (auto* s = static_cast<OperatorSession*>(conn.dialect_state.get()))
    deadlines_.cancel(s->auth_deadline);
}

Task<void> OperatorDialect::on_open(std::shared_ptr<Connection> conn) {
  conn->dialect_state = std::make_shared<OperatorSession>();
  open_[conn->id()] = conn;
  if (conn->flags() & VSP_CONN_LOCAL_ADMIN) {
    conn->principal.role = Role::LocalAdmin;
  } else if (!conn->bearer_token().empty()) {
    auto token = co_await repo_.verify_access_token(conn->bearer_token());
    if (token) {
      conn->principal = {Role::Operator, token->user_id, token->id, token->org_id,
                         token->expires_at_ms};
    } else if (conn->wants_admission()) {
      // A handshake that carried a wrong token is refused before it completes (HTTP 401).
      conn->refusal = Connection::Refusal{
          401,
          R"J({"code":"UNAUTHORIZED","message":"the access token is not valid (unknown, revoked or expired)"})J"};
    } else {
      log::get("core")->info("connection {}: bearer token refused; connection stays anonymous",
                             conn->id());
    }
  } else if (cookies_ != nullptr && conn->wants_admission()) {
    // A browser's upgrade with the web session cookie (from the gateway's own pages only). One
    // without a cookie stays anonymous and may still call `auth`.
    std::optional<ApiRefusal> refused;
    try {
      Task<std::optional<Principal>> t = cookies_->upgrade_principal(conn->headers_json());
      std::optional<Principal> who = co_await std::move(t);
      if (who) conn->principal = *who;
    } catch (const api::ApiError& e) {
      refused = ApiRefusal{e.code() == "FORBIDDEN" ? 403 : 401, e.code(), e.what()};
    }
    if (refused) {
      conn->refusal =
          Connection::Refusal{refused->http_status,
                              json{{"code", refused->code}, {"message", refused->message}}.dump()};
    }
  }
  if (conn->principal.role != Role::Anonymous && !conn->refusal) {
    Task<void> audience = refresh_audience(conn);
    co_await std::move(audience);
  }
  if (conn->principal.role == Role::Anonymous && !conn->refusal) {
    // An unauthenticated socket holds a connection slot: it has this long to call `auth`.
    auto* s = static_cast<OperatorSession*>(conn->dialect_state.get());
    std::weak_ptr<Connection> weak = conn;
    s->auth_deadline = deadlines_.after(auth_timeout_, [weak, this] {
      auto c = weak.lock();
      if (!c || c->gone || c->principal.role != Role::Anonymous) return;
      log::get("core")->info("operator connection {} from {} closed: not authenticated in time",
                             c->id(), c->peer());
      send_json(*c,
                error_frame(nullptr, "UNAUTHORIZED",
                            "not authenticated within " + std::to_string(auth_timeout_.count()) +
                                " ms (limits.anonymous_timeout_ms)"));
      c->close(VSP_E_PERMISSION, "authentication timeout");
    });
  }
  co_return;
}

bool OperatorDialect::on_message_now(Connection& conn, std::string_view message) {
  // The hot methods (nodes.invoke) are read typed, without a DOM, and started at once; whatever
  // they do not take goes to on_message, whose DOM way owns every error.
  std::optional<RequestView> req = view_request(message, json_input::max_depth());
  if (!req) return false;
  const MethodSpec* spec = methods_.find(req->method);
  if (spec == nullptr || !spec->concurrent || !spec->text_handler ||
      !spec->roles.count(conn.principal.role))
    return false;
  // The handler keeps what it needs: the frame's text is the transport's only until this returns.
  TextReply reply(conn.shared_from_this(), req->id_json(), kTextReplyForm);
  return spec->text_handler(conn.principal, req->params_members, reply);
}

// A frame on_message_now did not take: the DOM way, which owns every error.
Task<void> OperatorDialect::on_message(std::shared_ptr<Connection> conn, std::string message) {
  json frame;
  try {
    frame = json_input::parse(message);
  } catch (const json::parse_error& e) {
    send_json(*conn,
              error_frame(nullptr, "INVALID_REQUEST", std::string("invalid JSON: ") + e.what()));
    co_return;
  }
  if (!frame.is_object() || !frame.contains("type") || !frame["type"].is_string()) {
    send_json(*conn,
              error_frame(nullptr, "INVALID_REQUEST",
                          "expected an object {\"type\":\"req\", \"id\", \"method\", \"params\"}"));
    co_return;
  }
  json id = fields::echoable_id(frame);
  if (frame["type"] != "req") {
    send_json(*conn, error_frame(id, "INVALID_REQUEST",
                                 "unknown frame type \"" + frame["type"].get<std::string>() +
                                     "\" (clients send \"req\")"));
    co_return;
  }
  if (!(id.is_string() || id.is_number_integer())) {
    send_json(*conn,
              error_frame(nullptr, "INVALID_REQUEST", "\"id\" must be a string or an integer"));
    co_return;
  }
  if (!frame.contains("method") || !frame["method"].is_string()) {
    send_json(*conn, error_frame(id, "INVALID_REQUEST", "\"method\" must be a string"));
    co_return;
  }
  auto given = frame.find("params");
  json params = given == frame.end() ? json::object() : std::move(*given);
  if (params.is_null()) params = json::object();
  if (!params.is_object()) {
    send_json(*conn, error_frame(id, "INVALID_REQUEST", "\"params\" must be an object"));
    co_return;
  }

  std::string method = frame["method"];
  // Named arguments and task: GCC 12 destroys a braced-init argument of a coroutine call inside
  // a co_await expression twice (docs/coding-notes.md).
  CallContext ctx{conn, conn->principal};
  Task<CallResult> call = methods_.call(std::move(ctx), method, std::move(params));
  Task<void> answering = answer(conn, id.dump(), method, std::move(call));
  if (methods_.concurrent(method)) {
    // Started now, in frame order; answered whenever it finishes.
    spawn(
        std::move(answering), [] {}, [](std::exception_ptr) {});
    co_return;
  }
  co_await std::move(answering);
}

Task<void> OperatorDialect::answer(std::shared_ptr<Connection> conn, std::string id_json,
                                   std::string method, Task<CallResult> call) {
  // The id is parsed back to a value only for an answer built as a DOM (an error, a payload
  // that is not text); a success with text splices it.
  std::optional<json> error;
  try {
    CallResult result = co_await std::move(call);
    if (result.new_principal) {
      conn->principal = *result.new_principal;
      // Before the answer: once `auth` has answered, the connection hears its events.
      Task<void> audience = refresh_audience(conn);
      co_await std::move(audience);
    }
    if (conn->gone) co_return;
    if (!result.payload_json.empty()) {
      // Spliced, not re-built: the text was checked where it came in.
      send_text_payload(*conn, id_json, {result.payload_json});
      co_return;
    }
    send_json(
        *conn,
        {{"type", "res"}, {"id", json::parse(id_json)}, {"ok", true}, {"payload", result.payload}});
    co_return;
  } catch (const api::ApiError& e) {
    send_text_error(*conn, id_json, e);
    co_return;
  } catch (const StorageError& e) {
    error = error_frame(json::parse(id_json), "UNAVAILABLE",
                        e.status() == VSP_E_FULL ? std::string("storage is full: ") + e.what()
                                                 : std::string("storage: ") + e.what());
  } catch (const json::exception& e) {
    error = error_frame(json::parse(id_json), "INVALID_REQUEST",
                        std::string("a parameter has the wrong type or shape: ") + e.what());
  } catch (const std::exception& e) {
    log::get("core")->error("method {} failed: {}", method, e.what());
    error =
        error_frame(json::parse(id_json), "INTERNAL", std::string("internal error: ") + e.what());
  }
  send_json(*conn, *error);
}

void OperatorDialect::on_protocol_error(Connection& conn, int /*status*/,
                                        const std::string& message) {
  send_json(conn, error_frame(nullptr, "INVALID_REQUEST", message));
}

void OperatorDialect::on_overload(Connection& conn, const std::string& message) {
  send_json(conn, error_frame(nullptr, "UNAVAILABLE", message));
}

void OperatorDialect::on_frame_failed(Connection& conn, const std::string& code,
                                      const std::string& message) {
  send_json(conn, error_frame(nullptr, code, message));
}

}  // namespace vespid::core
