// Who is on the other end of a connection, fixed at its handshake (or its `auth` call).
#pragma once

#include <cstdint>
#include <string>

namespace vespid::core {

enum class Role {
  Anonymous,   // not yet authenticated: may only authenticate and ask for health
  Operator,    // a user with an access token, scoped to the orgs they belong to
  LocalAdmin,  // whoever could open the gateway's 0600 Unix socket
  Internal,    // a worker holding the gateway's service token
  Node,        // a paired node host
};

const char* role_name(Role r) noexcept;

struct Principal {
  Role role = Role::Anonymous;
  std::string user_id;        // Operator
  std::string token_id;       // Operator: the access token used, or "web-session/<id>"
  std::string org_id;         // Operator: the org the token is bound to, if any; Node: its org
  int64_t expires_at_ms = 0;  // Operator: when the access token expires (wall clock; 0: never)
  // Operator through a web session opened with an access token: that token, so that revoking
  // it also closes the session's connections (auth::WebSessions).
  std::string parent_token_id;
};

}  // namespace vespid::core
