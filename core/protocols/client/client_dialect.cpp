#include "protocols/client/client_dialect.hpp"

#include <algorithm>
#include <set>

#include "host/connections/connection.hpp"
#include "json_write.hpp"
#include "protocols/cookie_auth.hpp"
#include "protocols/typed_frame.hpp"
#include "runtime/api_error.hpp"
#include "runtime/json_fields.hpp"
#include "runtime/logging.hpp"
#include "services/identity/org_access.hpp"
#include "services/sessions/session_service.hpp"
#include "storage/repository.hpp"
#include "storage/storage_service.hpp"

namespace vespid::sessions {

using core::Connection;
using core::Task;
namespace fields = core::fields;
using nlohmann::json;

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("sessions");
}

int send_json(Connection& c, const json& frame) {
  return c.send(json_write::dump(frame, json::error_handler_t::replace));
}

json error_frame(const std::string& session_id, const std::string& code, const std::string& message,
                 const json& id = nullptr) {
  json f = {{"type", "session_error"}, {"code", code}, {"message", message}};
  if (!session_id.empty()) f["sessionId"] = session_id;
  if (!id.is_null()) f["id"] = id;
  return f;
}

// The wire's code for an ApiError (the other dialects say INVALID_REQUEST).
std::string client_code(const std::string& code) {
  return code == "INVALID_REQUEST" ? "BAD_REQUEST" : code;
}

std::string session_id_of(const json& frame) {
  auto it = frame.find("sessionId");
  if (it == frame.end() || !it->is_string() || it->get_ref<const std::string&>().empty() ||
      it->get_ref<const std::string&>().size() > 128) {
    throw api::invalid("\"sessionId\" is required (a string)", {{"field", "sessionId"}});
  }
  return *it;
}

}  // namespace

struct ClientDialect::State {
  std::string org_id;
  std::set<std::string> joined;
};

ClientDialect::ClientDialect(repo::Repository& repo, SessionService& sessions,
                             const core::WebCookieAuth* cookies)
    : repo_(repo), sessions_(sessions), cookies_(cookies) {}

Task<void> ClientDialect::on_open(std::shared_ptr<Connection> conn) {
  auto st = std::make_shared<State>();
  conn->dialect_state = st;
  conn->principal.role = core::Role::Anonymous;
  std::string code = "UNAUTHORIZED", message;
  int http_status = 401;
  try {
    // Who: the bearer token, else the web session cookie (whose upgrade must come from the
    // gateway's own pages: upgrade_principal checks the Origin).
    std::optional<core::Principal> who;
    if (!conn->bearer_token().empty()) {
      auto token = co_await repo_.verify_access_token(conn->bearer_token());
      if (!token)
        throw api::unauthorized("the access token is not valid (unknown, revoked or expired)");
      who = core::Principal{core::Role::Operator, token->user_id, token->id, token->org_id,
                            token->expires_at_ms};
    } else if (cookies_ != nullptr) {
      Task<std::optional<core::Principal>> t = cookies_->upgrade_principal(conn->headers_json());
      who = co_await std::move(t);
    }
    if (!who) {
      throw api::unauthorized(
          "control clients connect with Authorization: Bearer <access token>, or with the web "
          "session cookie");
    }
    std::string org = !conn->org_hint().empty() ? conn->org_hint() : who->org_id;
    if (org.empty()) {
      code = "BAD_REQUEST";
      http_status = 400;
      message = "name the org: x-org-id header or ?orgId= query parameter";
    } else {
      Task<auth::OrgAccess> t = auth::require_org_access(repo_, *who, org, repo::OrgRole::Member);
      auth::OrgAccess access = co_await std::move(t);
      // The connection acts in this one org from now on: a principal bound to it is what
      // a membership removal finds (CredentialEvents).
      who->org_id = access.org_id;
      conn->principal = *who;
      st->org_id = access.org_id;
      L()->info("client connection {} from {}: user {} in org {}", conn->id(), conn->peer(),
                who->user_id, access.org_id);
      co_return;
    }
  } catch (const api::ApiError& e) {
    code = e.code();
    message = e.what();
    http_status = code == "UNAUTHORIZED" ? 401 : code == "NOT_FOUND" ? 404 : 403;
  }
  L()->info("client connection {} from {} refused: {}", conn->id(), conn->peer(), code);
  if (conn->wants_admission()) {
    conn->refusal =
        Connection::Refusal{http_status, json{{"code", code}, {"message", message}}.dump()};
  } else {
    send_json(*conn, error_frame("", code, message));
    conn->close(VSP_E_PERMISSION, code.c_str());
  }
}

Task<void> ClientDialect::on_message(std::shared_ptr<Connection> conn, std::string message) {
  auto st = std::static_pointer_cast<State>(conn->dialect_state);
  if (!st || st->org_id.empty()) co_return;  // refused at open
  std::string bad;
  std::optional<json> parsed = core::parse_typed_frame(message, bad);
  if (!parsed) {
    send_json(*conn, error_frame("", "BAD_REQUEST", bad));
    co_return;
  }
  json frame = std::move(*parsed);
  const std::string type = frame["type"];
  const json id = fields::echoable_id(frame);
  std::string sid;
  if (frame.contains("sessionId") && frame["sessionId"].is_string()) sid = frame["sessionId"];
  std::optional<json> error;
  try {
    Caller caller{conn->principal, st->org_id};
    if (type == "client_hello") {
      Task<auth::OrgAccess> t =
          auth::require_org_access(repo_, conn->principal, st->org_id, repo::OrgRole::Member);
      co_await std::move(t);
      json ok = {{"type", "client_hello_ok"},
                 {"protocol", "vespid.client.v1"},
                 {"organizationId", st->org_id},
                 {"userId", conn->principal.user_id}};
      if (!id.is_null()) ok["id"] = id;
      send_json(*conn, ok);
    } else if (type == "session_join") {
      Task<void> t = join(conn, frame);
      co_await std::move(t);
    } else if (type == "session_send") {
      sid = session_id_of(frame);
      Task<json> t = sessions_.send(std::move(caller), sid, frame);
      json r = co_await std::move(t);
      r["type"] = "session_accepted";
      if (!id.is_null()) r["id"] = id;
      if (!conn->gone) send_json(*conn, r);
    } else if (type == "session_reset_agent") {
      sid = session_id_of(frame);
      Task<json> t = sessions_.reset(std::move(caller), sid);
      json r = co_await std::move(t);
      json ok = {{"type", "session_agent_reset"}, {"sessionId", sid}, {"session", r["session"]}};
      if (!id.is_null()) ok["id"] = id;
      if (!conn->gone) send_json(*conn, ok);
    } else if (type == "session_cancel") {
      // The reference's later frame: stops the session's running turn (its events end with an
      // `error` TURN_CANCELED); answered with whether there was one.
      sid = session_id_of(frame);
      Task<json> t = sessions_.cancel(std::move(caller), sid, "session_cancel");
      json r = co_await std::move(t);
      r["type"] = "session_cancelled";
      if (!id.is_null()) r["id"] = id;
      if (!conn->gone) send_json(*conn, r);
    } else {
      throw api::invalid("unknown message type \"" + type + "\"");
    }
  } catch (const api::ApiError& e) {
    error = error_frame(sid, client_code(e.code()), e.what(), id);
  } catch (const core::StorageError& e) {
    error = error_frame(sid, "UNAVAILABLE", std::string("storage: ") + e.what(), id);
  } catch (const json::exception& e) {
    error = error_frame(sid, "BAD_REQUEST",
                        std::string("a field has the wrong type or shape: ") + e.what(), id);
  } catch (const std::exception& e) {
    L()->error("client frame {} failed: {}", type, e.what());
    error = error_frame(sid, "INTERNAL", std::string("internal error: ") + e.what(), id);
  }
  if (error && !conn->gone) send_json(*conn, *error);
}

Task<void> ClientDialect::join(std::shared_ptr<Connection> conn, json frame) {
  auto st = std::static_pointer_cast<State>(conn->dialect_state);
  const std::string sid = session_id_of(frame);
  std::optional<uint64_t> after;
  if (auto it = frame.find("afterSeq"); it != frame.end() && !it->is_null()) {
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
      throw api::invalid("\"afterSeq\" must be a non-negative integer", {{"field", "afterSeq"}});
    }
    after = it->get<uint64_t>();
  }
  const json id_of_join = fields::echoable_id(frame);
  Caller caller{conn->principal, st->org_id};
  {
    Task<json> t = sessions_.require_session(caller, sid);  // access, before anything is seen
    co_await std::move(t);
  }
  // Subscribe first and hold live events while the replay streams, so none falls between.
  const uint64_t cid = conn->id();
  {
    Subscriber s;
    s.conn = conn;
    s.sent_upto = after.value_or(0);
    subscribers_[sid][cid] = std::move(s);
    st->joined.insert(sid);
  }
  uint64_t replayed = 0;
  bool alive = true;
  try {
    if (after) {
      uint64_t from = *after;
      int page_events = kReplayFirstPageEvents;
      for (;;) {
        Task<json> t = sessions_.events(caller, sid, from, page_events);
        json page = co_await std::move(t);
        std::vector<json> events;
        for (auto& ev : page["events"]) events.push_back(std::move(ev));
        const size_t count = events.size();
        size_t bytes = 0;
        Task<bool> sent = stream(conn, sid, std::move(events), &replayed, &bytes);
        alive = co_await std::move(sent);
        if (!alive || !page["nextCursor"].is_number_unsigned()) break;
        from = page["nextCursor"].get<uint64_t>();
        // The next page holds about kReplayPageBytes of events the size these were.
        const size_t average = std::max<size_t>(1, bytes / std::max<size_t>(1, count));
        page_events = static_cast<int>(
            std::clamp<size_t>(kReplayPageBytes / average, 1, kReplayMaxPageEvents));
      }
    } else {
      Task<std::vector<json>> t = sessions_.tail(caller, sid, sessions_.settings().replay_default);
      std::vector<json> events = co_await std::move(t);
      Task<bool> sent = stream(conn, sid, std::move(events), &replayed, nullptr);
      alive = co_await std::move(sent);
    }
    // Live events that arrived meanwhile, including any that arrive while these are sent.
    while (alive) {
      Subscriber* sub = find_subscriber(sid, cid);
      if (sub == nullptr || conn->gone) {
        alive = false;
        break;
      }
      if (sub->held.empty()) {
        sub->replaying = false;
        break;
      }
      std::vector<json> held(std::make_move_iterator(sub->held.begin()),
                             std::make_move_iterator(sub->held.end()));
      sub->held.clear();
      Task<bool> sent =
          stream(conn, sid, std::move(held), nullptr, nullptr);  // live: not "replayed"
      alive = co_await std::move(sent);
    }
  } catch (...) {
    unsubscribe(sid, cid);
    st->joined.erase(sid);
    throw;
  }
  Subscriber* sub = find_subscriber(sid, cid);
  if (!alive || sub == nullptr || conn->gone) {
    unsubscribe(sid, cid);
    co_return;
  }
  json ok = {{"type", "session_joined"},
             {"sessionId", sid},
             {"replayed", replayed},
             {"lastSeq", sub->sent_upto}};
  if (!id_of_join.is_null()) ok["id"] = id_of_join;
  send_json(*conn, ok);
}

// The replay streams: one page in memory at a time, the next read only once the transport has
// taken this one below its high-water mark. A reader that falls behind slows its own replay and
// nobody else's. False when the subscriber is gone.
Task<bool> ClientDialect::stream(std::shared_ptr<Connection> conn, std::string session_id,
                                 std::vector<json> events, uint64_t* counted, size_t* bytes) {
  const uint64_t cid = conn->id();
  for (const auto& ev : events) {
    Subscriber* sub = find_subscriber(session_id, cid);
    if (sub == nullptr || conn->gone) co_return false;
    const uint64_t seq = fields::uint_if(ev, "seq");
    if (seq <= sub->sent_upto) continue;
    const Sent sent = deliver(*conn, ev, bytes);
    if (sent == Sent::Dead) co_return false;
    sub->sent_upto = seq;
    if (counted != nullptr) ++*counted;
    if (sent == Sent::AboveHighWater) co_await conn->writable();
  }
  co_return true;
}

ClientDialect::Subscriber* ClientDialect::find_subscriber(const std::string& session_id,
                                                          uint64_t conn_id) {
  auto it = subscribers_.find(session_id);
  if (it == subscribers_.end()) return nullptr;
  auto sub = it->second.find(conn_id);
  return sub == it->second.end() ? nullptr : &sub->second;
}

ClientDialect::Sent ClientDialect::deliver(Connection& c, const json& event, size_t* bytes) {
  json f = event;
  f["type"] = "session_event";
  const std::string text = json_write::dump(f, json::error_handler_t::replace);
  if (bytes != nullptr) *bytes += text.size();
  const int rc = c.send(text);
  if (rc == VSP_OK) return Sent::Ok;
  // BUSY: queued above the transport's high-water mark; the sender waits for conn_writable
  // before the next. Anything else: the connection is closing (its hard limit, or gone).
  return rc == VSP_E_BUSY ? Sent::AboveHighWater : Sent::Dead;
}

void ClientDialect::publish(const std::string& session_id, const std::vector<json>& events) {
  auto it = subscribers_.find(session_id);
  if (it == subscribers_.end()) return;
  std::vector<uint64_t> drop;
  for (auto& [cid, sub] : it->second) {
    auto c = sub.conn.lock();
    if (!c || c->gone || c->closing()) {
      drop.push_back(cid);
      continue;
    }
    if (sub.replaying || sub.parked) {
      // Held for the replay or the drain to send; bounded, past it the reader is too slow.
      if (sub.held.size() + events.size() > kMaxHeld) {
        L()->warn("client connection {} is {} events behind on session {}; closing", cid,
                  sub.held.size() + events.size(), session_id);
        c->close(VSP_E_OVERFLOW, "slow consumer");
        drop.push_back(cid);
        continue;
      }
      sub.held.insert(sub.held.end(), events.begin(), events.end());
      continue;
    }
    for (size_t i = 0; i < events.size(); ++i) {
      const uint64_t seq = fields::uint_if(events[i], "seq");
      if (seq <= sub.sent_upto) continue;
      const Sent sent = deliver(*c, events[i], nullptr);
      if (sent == Sent::Dead) {
        drop.push_back(cid);
        break;
      }
      sub.sent_upto = seq;
      if (sent == Sent::AboveHighWater) {
        // Park: the rest waits in `held` until the transport drains, instead of piling into
        // its queue until the hard limit drops the reader.
        sub.parked = true;
        sub.held.insert(sub.held.end(), events.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                        events.end());
        spawn(
            drain(c, session_id), [] {}, [](std::exception_ptr) {});
        break;
      }
    }
  }
  for (auto cid : drop) it->second.erase(cid);
  if (it->second.empty()) subscribers_.erase(it);
}

Task<void> ClientDialect::drain(std::shared_ptr<Connection> conn, std::string session_id) {
  const uint64_t cid = conn->id();
  for (;;) {
    co_await conn->writable();
    Subscriber* sub = find_subscriber(session_id, cid);
    if (sub == nullptr || conn->gone) co_return;
    bool busy = false;
    while (!sub->held.empty() && !busy) {
      json ev = std::move(sub->held.front());
      sub->held.pop_front();
      const uint64_t seq = fields::uint_if(ev, "seq");
      if (seq <= sub->sent_upto) continue;
      const Sent sent = deliver(*conn, ev, nullptr);
      if (sent == Sent::Dead) {
        unsubscribe(session_id, cid);
        co_return;
      }
      sub->sent_upto = seq;
      busy = sent == Sent::AboveHighWater;
    }
    if (!busy) {
      sub->parked = false;
      co_return;
    }
  }
}

void ClientDialect::unsubscribe(const std::string& session_id, uint64_t conn_id) {
  auto it = subscribers_.find(session_id);
  if (it == subscribers_.end()) return;
  it->second.erase(conn_id);
  if (it->second.empty()) subscribers_.erase(it);
}

void ClientDialect::on_close(Connection& conn) {
  auto st = std::static_pointer_cast<State>(conn.dialect_state);
  if (!st) return;
  for (const auto& sid : st->joined) unsubscribe(sid, conn.id());
  st->joined.clear();
}

void ClientDialect::on_protocol_error(Connection& conn, int, const std::string& message) {
  send_json(conn, error_frame("", "BAD_REQUEST", message));
}

void ClientDialect::on_overload(Connection& conn, const std::string& message) {
  send_json(conn, error_frame("", "UNAVAILABLE", message));
}

void ClientDialect::on_frame_failed(Connection& conn, const std::string& code,
                                    const std::string& message) {
  // This dialect says BAD_REQUEST where the others say INVALID_REQUEST.
  send_json(conn, error_frame("", code == "INVALID_REQUEST" ? "BAD_REQUEST" : code, message));
}

}  // namespace vespid::sessions
