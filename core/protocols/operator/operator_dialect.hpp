// operator.v1: the gateway's own control dialect, on any transport.
//   req   {type:"req", id, method, params?}
//   res   {type:"res", id, ok, payload? | error{code, message, details?}}
//   event {type:"event", event, payload, seq}
// Authentication: the local admin socket; a bearer token on the upgrade; on a WebSocket upgrade,
// the web session cookie from the gateway's own pages (protocols/cookie_auth.hpp); or `auth`.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "host/connections/dialect.hpp"
#include "protocols/method_table.hpp"
#include "protocols/operator/event_audience.hpp"
#include "runtime/deadlines.hpp"

namespace vespid::repo {
class Repository;
}

namespace vespid::core {

class WebCookieAuth;

class OperatorDialect final : public Dialect {
 public:
  // `auth_timeout`: how long a socket may stay unauthenticated (limits.anonymous_timeout_ms).
  // `cookies`: how a WebSocket upgrade's session cookie is checked (null: not accepted).
  OperatorDialect(const MethodTable& methods, repo::Repository& repo, Deadlines& deadlines,
                  std::chrono::milliseconds auth_timeout, const WebCookieAuth* cookies = nullptr)
      : methods_(methods),
        repo_(repo),
        deadlines_(deadlines),
        auth_timeout_(auth_timeout),
        cookies_(cookies) {}

  std::string_view name() const noexcept override { return "operator.v1"; }
  Task<void> on_open(std::shared_ptr<Connection> conn) override;
  Task<void> on_message(std::shared_ptr<Connection> conn, std::string message) override;
  // A plain `req` of a concurrent method that takes its params as text (nodes.invoke): started
  // here, its answer sent when it ends.
  bool on_message_now(Connection& conn, std::string_view message) override;
  void on_protocol_error(Connection& conn, int status, const std::string& message) override;
  void on_overload(Connection& conn, const std::string& message) override;
  void on_frame_failed(Connection& conn, const std::string& code,
                       const std::string& message) override;
  void on_close(Connection& conn) override;

  // Sequencer only. Sends {type:"event", event, payload, seq} to every open, authenticated
  // operator connection that `to` accepts; seq counts per connection, from 1, without gaps.
  // `to` sees the connection's principal and its cached audience (event_audience.hpp): it runs
  // for every connection on every event, so it never reads storage.
  using AudienceCheck = std::function<bool(const Principal&, const EventAudience&)>;
  void publish(const std::string& event, const nlohmann::json& payload, const AudienceCheck& to);
  // Sequencer only. One event to one connection (its seq counted as publish does).
  void send_event(Connection& conn, const std::string& event, const nlohmann::json& payload);
  // Sequencer only. The connection's cached audience (null if it is not an operator.v1 one).
  const EventAudience* audience_of(const Connection& conn) const;
  // Sequencer only. What `user_id` may see changed: their connections read their audience
  // again (a removed gateway administrator stops hearing pairing requests and log lines).
  void user_rights_changed(const std::string& user_id);

 private:
  // Reads the connection's audience for its current principal; a failure leaves it empty.
  Task<void> refresh_audience(std::shared_ptr<Connection> conn);
  // Runs `call` (the method, started by the caller) and sends its `res`, or the error's.
  // `id_json`: the request's id as JSON text (a string or an integer).
  Task<void> answer(std::shared_ptr<Connection> conn, std::string id_json, std::string method,
                    Task<CallResult> call);

  const MethodTable& methods_;
  repo::Repository& repo_;
  Deadlines& deadlines_;
  const std::chrono::milliseconds auth_timeout_;
  const WebCookieAuth* cookies_;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> open_;
};

}  // namespace vespid::core
