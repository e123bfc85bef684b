// Sign-in for the web control client (docs/web-ui.md): one-time login codes that the local
// admin hands out (`vespid web login`), and the browser sessions that such a code, or a pasted
// access token, opens. A session is what the `vespid_session` cookie names.
//
// As with access tokens, every secret carries a public id, so finding its record never depends
// on the secret, and only the SHA-256 of the secret is stored and compared in constant time.
//
// Expiry is absolute, not sliding: a session ends web.session_ttl_ms after sign-in however
// busy it is. The cookie's Max-Age then states the truth from the start (no Set-Cookie on every
// answer), an open WebSocket closes at the same instant (Principal::expires_at_ms), and a
// stolen cookie is good for a bounded time.
//
// A session is checked again on every use, not only at sign-in: its user must still exist; if
// it is bound to an org, the user must still be a member; if an access token opened it, that
// token must still be valid (its revocation ends the session). A check that fails ends the
// session for good (its record is deleted).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/task.hpp"
#include "services/identity/principal.hpp"

namespace vespid::core {
class StorageService;
}
namespace vespid::repo {
class Repository;
}

namespace vespid::auth {

struct WebSessionSettings {
  int64_t login_code_ttl_ms = 600'000;  // web.login_code_ttl_ms
  int64_t session_ttl_ms = 43'200'000;  // web.session_ttl_ms
  int max_sessions_per_user = 20;       // web.max_sessions_per_user
};

struct WebSession {
  std::string id;
  std::string user_id;
  std::string org_id;           // bound to this one org; "": every org the user belongs to
  std::string access_token_id;  // opened with this access token; "": with a login code
  std::string hash_hex;         // SHA-256 of the cookie value
  int64_t created_ms = 0;
  int64_t expires_at_ms = 0;  // never later than the access token's expiry
};

struct IssuedLoginCode {
  std::string code;  // shown once (in the link), never stored
  std::string user_id;
  std::string org_id;
  int64_t expires_at_ms = 0;
};

struct OpenedWebSession {
  WebSession session;
  std::string cookie_value;                // shown once (in Set-Cookie), never stored
  std::vector<std::string> displaced_ids;  // the user's oldest sessions, ended by the cap
};

class WebSessions {
 public:
  WebSessions(core::StorageService& storage, repo::Repository& repo, WebSessionSettings settings);

  const WebSessionSettings& settings() const noexcept { return settings_; }

  // A single-use login code for the user, bound to `org_id` unless it is empty. Throws
  // api::ApiError NOT_FOUND (no such user), INVALID_REQUEST (not a member of that org).
  core::Task<IssuedLoginCode> issue_login_code(std::string user_id, std::string org_id);

  // Consumes a login code and opens a session in the same transaction, so a code opens at
  // most one session however many try it at once. Throws api::ApiError UNAUTHORIZED (unknown,
  // used, expired; the user or the membership it was made for is gone), details.reason
  // LOGIN_CODE_EXPIRED or LOGIN_CODE_INVALID.
  core::Task<OpenedWebSession> redeem_login_code(std::string code);

  // Opens a session for an access token's user, bound to the token's org (if any), ending no
  // later than the token. Throws api::ApiError UNAUTHORIZED.
  core::Task<OpenedWebSession> open_with_access_token(std::string access_token);

  // The session a cookie value names, if it is still good (see the top of this file).
  core::Task<std::optional<WebSession>> verify(std::string cookie_value);

  // Ends a session (sign-out). False when it was already gone.
  core::Task<bool> end(std::string session_id);

  // Deletes up to `limit` login codes and sessions that expired before `now_ms`; returns how
  // many. Issuing and opening call it, so expired records never pile up.
  core::Task<int> sweep_expired(int64_t now_ms, int limit);

  // What a request or connection authenticated by the session acts as: an operator, bound to
  // the session's org, whose credential expires with the session. Its token_id is
  // "web-session/<id>" (CredentialEvents::access_token_revoked with it closes the session's
  // sockets), its parent_token_id the access token that opened it.
  static core::Principal principal_of(const WebSession& s);
  static std::string credential_id(const std::string& session_id);

 private:
  // Ends the user's oldest sessions so that one more fits under the cap; their ids.
  core::Task<std::vector<std::string>> make_room(std::string user_id);
  // Deletes a session's record and index entries (no compare: ending twice is harmless).
  core::Task<void> forget(std::string session_id);
  // sweep_expired on the way to issuing something, logging rather than failing.
  core::Task<void> sweep_quietly();

  core::StorageService& storage_;
  repo::Repository& repo_;
  WebSessionSettings settings_;
};

}  // namespace vespid::auth
