// The web control client's sign-in over rest.v1 (docs/web-ui.md):
//   POST   /v1/web/session {loginCode} | {accessToken}  -> 200 {user, orgs, session} + Set-Cookie
//   GET    /v1/web/session                              -> who is signed in, and their orgs
//   DELETE /v1/web/session                              -> the session ends; the cookie is cleared
#pragma once

#include "protocols/rest/rest_dialect.hpp"

namespace vespid::repo {
class Repository;
}
namespace vespid::auth {
class WebSessions;
}

namespace vespid::core {

class CredentialEvents;
class WebCookieAuth;

struct WebSessionRouteServices {
  repo::Repository& repo;
  auth::WebSessions& sessions;
  const WebCookieAuth& cookies;
  CredentialEvents& credentials;  // closes the sockets of a session that ends
  bool always_secure = false;     // web.secure_cookie "always": Secure even without TLS here
};

void register_web_session_routes(RestDialect& rest, WebSessionRouteServices services);

}  // namespace vespid::core
