#include "protocols/rest/web_session_routes.hpp"

#include <memory>

#include "protocols/cookie_auth.hpp"
#include "protocols/rest/rest_auth.hpp"
#include "protocols/session_cookie.hpp"
#include "runtime/api_error.hpp"
#include "runtime/logging.hpp"
#include "runtime/time.hpp"
#include "services/identity/credential_events.hpp"
#include "services/identity/web_sessions.hpp"
#include "storage/repository.hpp"

namespace vespid::core {

using nlohmann::json;

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("core");
}

// Whole seconds until `expires_at_ms`, rounded up: the cookie never outlives the session by
// more than the rounding, and never dies before it.
int64_t max_age_seconds(int64_t expires_at_ms) {
  const int64_t left = expires_at_ms - util::now_ms();
  return left <= 0 ? 0 : (left + 999) / 1000;
}

class WebSessionRoutes {
 public:
  explicit WebSessionRoutes(WebSessionRouteServices s) : s_(s) {}

  Task<RestResponse> sign_in(RestRequest req) {
    // Login CSRF: another site's page must not sign this browser in as someone else. Browsers
    // send Origin with every POST; a client without one (curl) is no browser to protect.
    const std::string origin = header(req, "origin");
    if (!origin.empty()) s_.cookies.require_same_origin(origin, header(req, "host"), "sign-in");
    json body = json_body(req);
    const bool by_code = body.contains("loginCode");
    const bool by_token = body.contains("accessToken");
    if (by_code == by_token) {
      throw api::invalid(
          "send either {\"loginCode\"} (from a `vespid web login` link) or "
          "{\"accessToken\"}");
    }
    const std::string secret = body.at(by_code ? "loginCode" : "accessToken").get<std::string>();
    auth::OpenedWebSession opened;
    if (by_code) {
      Task<auth::OpenedWebSession> t = s_.sessions.redeem_login_code(secret);
      opened = co_await std::move(t);
    } else {
      Task<auth::OpenedWebSession> t = s_.sessions.open_with_access_token(secret);
      opened = co_await std::move(t);
    }
    for (const auto& id : opened.displaced_ids) {
      s_.credentials.access_token_revoked(auth::WebSessions::credential_id(id));
    }
    const auth::WebSession& session = opened.session;
    L()->info("web session {} opened for user {} with {}", session.id, session.user_id,
              by_code ? "a login code" : "access token " + session.access_token_id);
    const Principal who = auth::WebSessions::principal_of(session);
    Task<json> described = describe(who);
    json body_out = co_await std::move(described);
    RestResponse r{200, std::move(body_out)};
    r.headers.emplace_back("set-cookie",
                           session_set_cookie(opened.cookie_value,
                                              max_age_seconds(session.expires_at_ms), secure(req)));
    co_return r;
  }

  Task<RestResponse> who_am_i(RestRequest req) {
    Task<Principal> t = rest_principal(s_.repo, req);
    Principal who = co_await std::move(t);
    Task<json> described = describe(who);
    json out = co_await std::move(described);
    co_return RestResponse{200, std::move(out)};
  }

  Task<RestResponse> sign_out(RestRequest req) {
    RestResponse r{200, {{"signedOut", true}, {"ended", false}}};
    r.headers.emplace_back("set-cookie", session_clear_cookie(secure(req)));
    const std::string cookie = session_cookie_in(header(req, "cookie"));
    if (cookie.empty()) co_return r;
    s_.cookies.require_same_origin(header(req, "origin"), header(req, "host"), "sign-out");
    Task<std::optional<auth::WebSession>> verified = s_.sessions.verify(cookie);
    std::optional<auth::WebSession> session = co_await std::move(verified);
    if (!session) co_return r;  // already ended: clearing the cookie is all there is to do
    Task<bool> ended_t = s_.sessions.end(session->id);
    const bool ended = co_await std::move(ended_t);
    // Its open WebSockets close now, on every instance, not when they next send something.
    const int closed =
        s_.credentials.access_token_revoked(auth::WebSessions::credential_id(session->id));
    L()->info("web session {} of user {} signed out ({} connection(s) closed)", session->id,
              session->user_id, closed);
    r.body["ended"] = ended;
    co_return r;
  }

 private:
  bool secure(const RestRequest& req) const { return req.tls || s_.always_secure; }

  // {user, orgs: [{id, name, role}], session?: {id, expiresAt, orgId?}}: what the client
  // needs for its org picker. A principal bound to one org sees only that org.
  Task<json> describe(Principal who) {
    Task<repo::User> user_t = s_.repo.require_user(who.user_id);
    repo::User user = co_await std::move(user_t);
    Task<std::vector<repo::Membership>> orgs_t = s_.repo.orgs_of(who.user_id);
    std::vector<repo::Membership> memberships = co_await std::move(orgs_t);
    json orgs = json::array();
    for (const auto& m : memberships) {
      if (!who.org_id.empty() && m.org_id != who.org_id) continue;
      Task<std::optional<repo::Org>> org_t = s_.repo.find_org(m.org_id);
      std::optional<repo::Org> org = co_await std::move(org_t);
      if (org) {
        orgs.push_back({{"id", org->id}, {"name", org->name}, {"role", repo::role_text(m.role)}});
      }
    }
    json out = {{"user", repo::to_json(user)}, {"orgs", orgs}};
    const std::string prefix = auth::WebSessions::credential_id("");
    if (who.token_id.rfind(prefix, 0) == 0) {
      json session = {{"id", who.token_id.substr(prefix.size())},
                      {"expiresAt", util::iso8601(who.expires_at_ms)}};
      if (!who.org_id.empty()) session["orgId"] = who.org_id;
      out["session"] = session;
    }
    co_return out;
  }

  WebSessionRouteServices s_;
};

}  // namespace

void register_web_session_routes(RestDialect& rest, WebSessionRouteServices services) {
  auto routes = std::make_shared<WebSessionRoutes>(services);
  rest.route("POST", "/v1/web/session",
             [routes](RestRequest req) { return routes->sign_in(std::move(req)); });
  rest.route("GET", "/v1/web/session",
             [routes](RestRequest req) { return routes->who_am_i(std::move(req)); });
  rest.route("DELETE", "/v1/web/session",
             [routes](RestRequest req) { return routes->sign_out(std::move(req)); });
}

}  // namespace vespid::core
