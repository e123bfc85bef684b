// vespid.client.v1 on /ws/client (docs/sessions.md): control clients join sessions, get their
// stored events replayed and then live, and send messages.
//   client -> gateway: client_hello, session_join {sessionId, afterSeq?},
//                      session_send {sessionId, message, idempotencyKey?},
//                      session_reset_agent {sessionId}
//   gateway -> client: client_hello_ok, session_joined, session_event, session_accepted,
//                      session_agent_reset, session_error {sessionId?, code, message}
// Authentication: Authorization: Bearer <access token> on the upgrade, else the web session
// cookie with an Origin of the gateway's own pages (401/403 JSON refusal before it completes);
// the org from x-org-id or ?orgId= (the transport's org hint), else the org the token or
// session is bound to; membership is checked at the upgrade and again on every frame.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "host/connections/dialect.hpp"

namespace vespid::repo {
class Repository;
}
namespace vespid::core {
class WebCookieAuth;
}

namespace vespid::sessions {

class SessionService;

class ClientDialect final : public core::Dialect {
 public:
  // Live events held for one subscriber while its replay streams or its transport drains; more
  // closes it as a slow consumer.
  static constexpr size_t kMaxHeld = 4096;
  // A replay reads stored events a page at a time, each page sized from the last one's events
  // to hold about kReplayPageBytes: memory for a join is one page plus the transport's bounded
  // send queue, however long the session and however large its events.
  static constexpr size_t kReplayPageBytes = 1 << 20;
  static constexpr int kReplayFirstPageEvents = 16;
  static constexpr size_t kReplayMaxPageEvents = 200;  // sessions.max_page caps it too

  // `cookies`: how a session cookie is checked; null when upgrades must carry a bearer token.
  ClientDialect(repo::Repository& repo, SessionService& sessions,
                const core::WebCookieAuth* cookies = nullptr);

  std::string_view name() const noexcept override { return "vespid.client.v1"; }
  core::Task<void> on_open(std::shared_ptr<core::Connection> conn) override;
  core::Task<void> on_message(std::shared_ptr<core::Connection> conn, std::string message) override;
  void on_protocol_error(core::Connection& conn, int status, const std::string& message) override;
  void on_overload(core::Connection& conn, const std::string& message) override;
  void on_frame_failed(core::Connection& conn, const std::string& code,
                       const std::string& message) override;
  void on_close(core::Connection& conn) override;

  // Stored events of a session, in seq order, to every connection that joined it.
  void publish(const std::string& session_id, const std::vector<nlohmann::json>& events);
  // Whether a connection here joined the session (events written elsewhere are read for it).
  bool watches(const std::string& session_id) const { return subscribers_.count(session_id) != 0; }

 private:
  struct State;
  struct Subscriber {
    std::weak_ptr<core::Connection> conn;
    bool replaying = true;  // join() is streaming stored events; live ones wait in `held`
    bool parked = false;    // the transport is above its high-water mark; drain() will resume
    uint64_t sent_upto = 0;
    std::deque<nlohmann::json> held;  // at most kMaxHeld
  };
  enum class Sent { Ok, AboveHighWater, Dead };
  core::Task<void> join(std::shared_ptr<core::Connection> conn, nlohmann::json frame);
  // Sends `events` in order to one subscriber, waiting for the transport whenever it is above
  // its high-water mark; counts what it sent in *counted and its bytes in *bytes (if given).
  core::Task<bool> stream(std::shared_ptr<core::Connection> conn, std::string session_id,
                          std::vector<nlohmann::json> events, uint64_t* counted, size_t* bytes);
  // Sends the events held for a parked subscriber as the transport drains.
  core::Task<void> drain(std::shared_ptr<core::Connection> conn, std::string session_id);
  // Sequencer only; null once the subscriber is gone. Looked up again after every suspension.
  Subscriber* find_subscriber(const std::string& session_id, uint64_t conn_id);
  // Sends one session_event, adding its size to *bytes (if given).
  static Sent deliver(core::Connection& c, const nlohmann::json& event, size_t* bytes);
  void unsubscribe(const std::string& session_id, uint64_t conn_id);

  repo::Repository& repo_;
  SessionService& sessions_;
  const core::WebCookieAuth* cookies_;
  std::unordered_map<std::string, std::map<uint64_t, Subscriber>> subscribers_;
};

}  // namespace vespid::sessions
