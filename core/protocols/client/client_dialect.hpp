// vespid.client.v1 on /ws/client (docs/sessions.md): control clients join sessions, get their
// stored events replayed and then live, and send messages.
//   client -> gateway: client_hello, session_join {sessionId, afterSeq?},
//                      session_send {sessionId, message, idempotencyKey?},
//                      session_reset_agent {sessionId}
//   gateway -> client: client_hello_ok, session_joined, session_event, session_accepted,
//                      session_agent_reset, session_error {sessionId?, code, message}
// Authentication: Authorization: Bearer <access token> on the upgrade (401 JSON refusal before
// it completes); the org from x-org-id or ?orgId= (the transport's org hint), else the org the
// token is bound to; membership is checked at the upgrade and again on every frame.
#pragma once

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

namespace vespid::sessions {

class SessionService;

class ClientDialect final : public core::Dialect {
 public:
  // Live events held for one subscriber while its replay is being read; more closes it.
  static constexpr size_t kMaxHeld = 4096;

  ClientDialect(repo::Repository& repo, SessionService& sessions);

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

 private:
  struct State;
  struct Subscriber {
    std::weak_ptr<core::Connection> conn;
    bool replaying = true;
    uint64_t sent_upto = 0;
    std::vector<nlohmann::json> held;
  };
  core::Task<void> join(std::shared_ptr<core::Connection> conn, nlohmann::json frame);
  // Sends one session_event; false if the subscriber must be dropped.
  static bool deliver(core::Connection& c, const nlohmann::json& event);
  void unsubscribe(const std::string& session_id, uint64_t conn_id);

  repo::Repository& repo_;
  SessionService& sessions_;
  std::unordered_map<std::string, std::map<uint64_t, Subscriber>> subscribers_;
};

}  // namespace vespid::sessions
