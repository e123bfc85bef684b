// Authentication by the web session cookie (docs/web-ui.md), wherever an access token is
// accepted: rest.v1 requests (rest_principal) and the WebSocket upgrades of /ws/client and
// /ws/operator. An Authorization header always wins over the cookie.
//
// Because the browser attaches the cookie by itself, a cookie alone does not prove that the
// gateway's own pages sent the request: cookie-authenticated state-changing REST calls and
// cookie-authenticated upgrades must also carry an Origin that matches their Host (or one of
// web.allowed_origins); see protocols/web_origin.hpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/task.hpp"
#include "services/identity/principal.hpp"

namespace vespid::auth {
class WebSessions;
}

namespace vespid::core {

class WebCookieAuth {
 public:
  WebCookieAuth(auth::WebSessions& sessions, std::vector<std::string> allowed_origins)
      : sessions_(sessions), allowed_origins_(std::move(allowed_origins)) {}

  auth::WebSessions& sessions() const noexcept { return sessions_; }

  // The principal of a session cookie's value. Throws api::ApiError UNAUTHORIZED when the
  // session is not valid (signed out, expired, ended).
  Task<Principal> principal(std::string cookie_value) const;

  // Throws api::ApiError FORBIDDEN (details.reason ORIGIN_MISMATCH) unless the Origin header
  // names the request's own Host or an allowed origin. `what` says what was refused.
  void require_same_origin(const std::string& origin, const std::string& host,
                           const std::string& what) const;

  // A WebSocket upgrade's principal from its session cookie: nullopt when the upgrade carries
  // none. Throws api::ApiError FORBIDDEN (cross-origin) or UNAUTHORIZED (session not valid).
  // `headers_json` is the transport's headers object (lowercased names).
  Task<std::optional<Principal>> upgrade_principal(std::string headers_json) const;

 private:
  auth::WebSessions& sessions_;
  std::vector<std::string> allowed_origins_;
};

}  // namespace vespid::core
