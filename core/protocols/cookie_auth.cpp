#include "protocols/cookie_auth.hpp"

#include <nlohmann/json.hpp>

#include "protocols/session_cookie.hpp"
#include "protocols/web_origin.hpp"
#include "runtime/api_error.hpp"
#include "services/identity/web_sessions.hpp"

namespace vespid::core {

using nlohmann::json;

namespace {

std::string string_field(const json& headers, const char* name) {
  auto it = headers.find(name);
  return it != headers.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Task<Principal> WebCookieAuth::principal(std::string cookie_value) const {
  Task<std::optional<auth::WebSession>> t = sessions_.verify(std::move(cookie_value));
  std::optional<auth::WebSession> session = co_await std::move(t);
  if (!session) {
    throw api::unauthorized(
        "your web session is not valid (signed out, expired or ended); sign in again with a "
        "new link: `vespid web login --user <name>` on the gateway's machine");
  }
  co_return auth::WebSessions::principal_of(*session);
}

void WebCookieAuth::require_same_origin(const std::string& origin, const std::string& host,
                                        const std::string& what) const {
  if (origin_allowed(origin, host, allowed_origins_)) return;
  const std::string named = origin.empty() ? "no Origin header" : "Origin \"" + origin + "\"";
  throw api::forbidden(what + " refused: a request signed in with the session cookie must come " +
                           "from the gateway's own pages, and this one has " + named +
                           " for Host \"" + host +
                           "\" (trusted other origins go in web.allowed_origins)",
                       {{"reason", "ORIGIN_MISMATCH"}, {"origin", origin}, {"host", host}});
}

Task<std::optional<Principal>> WebCookieAuth::upgrade_principal(std::string headers_json) const {
  const json headers = json::parse(headers_json.empty() ? "{}" : headers_json, nullptr, false);
  if (!headers.is_object()) co_return std::nullopt;
  std::string cookie = session_cookie_in(string_field(headers, "cookie"));
  if (cookie.empty()) co_return std::nullopt;
  // Before the session is looked at: a cross-origin page learns nothing about it.
  require_same_origin(string_field(headers, "origin"), string_field(headers, "host"),
                      "a cross-origin WebSocket upgrade");
  Task<Principal> t = principal(std::move(cookie));
  Principal who = co_await std::move(t);
  co_return who;
}

}  // namespace vespid::core
