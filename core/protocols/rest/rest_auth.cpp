#include "protocols/rest/rest_auth.hpp"

#include "protocols/cookie_auth.hpp"
#include "protocols/session_cookie.hpp"
#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "runtime/json_input.hpp"
#include "storage/repository.hpp"

namespace vespid::core {

using nlohmann::json;

std::string header(const RestRequest& req, const char* name) {
  const std::string* value = req.headers.find(name);
  return value != nullptr ? *value : std::string();
}

namespace {

// Methods that change something: a cookie-authenticated one must come from the gateway's pages.
bool changes_state(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace

Task<Principal> rest_principal(repo::Repository& repo, RestRequest req) {
  std::string auth = header(req, "authorization");
  // The Authorization header wins: a request that has one is judged by it alone.
  if (auth.empty() && req.cookies != nullptr) {
    std::string cookie = session_cookie_in(header(req, "cookie"));
    if (!cookie.empty()) {
      if (changes_state(req.method)) {
        req.cookies->require_same_origin(header(req, "origin"), header(req, "host"),
                                         "a cross-origin " + req.method + " request");
      }
      Task<Principal> t = req.cookies->principal(std::move(cookie));
      Principal who = co_await std::move(t);
      co_return who;
    }
  }
  constexpr std::string_view kScheme = "bearer ";
  std::string scheme = auth.substr(0, kScheme.size());
  for (auto& ch : scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (scheme != kScheme || auth.size() <= kScheme.size()) {
    throw api::unauthorized(
        "send Authorization: Bearer <access token> (vespid token create), or sign in to the "
        "web client (vespid web login)");
  }
  std::string presented = auth.substr(kScheme.size());
  auto token = co_await repo.verify_access_token(presented);
  if (!token)
    throw api::unauthorized("the access token is not valid (unknown, revoked or expired)");
  co_return Principal{Role::Operator, token->user_id, token->id, token->org_id,
                      token->expires_at_ms};
}

void require_service_token(const std::string& configured_sha256, const RestRequest& req) {
  if (configured_sha256.empty()) {
    throw api::ApiError("INTERNAL_ROUTES_DISABLED",
                        "internal routes are off: set internal.token (or VESPID_INTERNAL_TOKEN) "
                        "on the gateway, and give workers the same token");
  }
  std::string presented = header(req, "x-gateway-token");
  if (presented.empty() || !crypto::equal_ct(crypto::sha256_hex(presented), configured_sha256)) {
    throw api::unauthorized("Invalid gateway service token");
  }
}

json json_body(const RestRequest& req) {
  if (req.body().empty()) throw api::invalid("the request needs a JSON body");
  try {
    json j = json_input::parse(req.body());
    if (!j.is_object()) throw api::invalid("the request body must be a JSON object");
    return j;
  } catch (const json::parse_error& e) {
    throw api::invalid(std::string("the request body is not valid JSON: ") + e.what());
  }
}

}  // namespace vespid::core
