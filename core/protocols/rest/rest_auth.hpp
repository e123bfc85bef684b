// Credentials and bodies of rest.v1 requests. Every request carries its own credentials: an
// access token (Authorization: Bearer) or the web session cookie (vespid_session) for /v1, the
// gateway service token (x-gateway-token) for /internal/v1.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "protocols/rest/rest_dialect.hpp"
#include "services/identity/principal.hpp"

namespace vespid::repo {
class Repository;
}

namespace vespid::core {

// The operator behind the request's access token, or, when it has no Authorization header,
// behind its session cookie (docs/web-ui.md). A cookie-authenticated request that changes
// state (any method but GET, HEAD, OPTIONS) must carry an Origin matching its Host. Throws
// api::ApiError UNAUTHORIZED, FORBIDDEN (cross-origin).
Task<Principal> rest_principal(repo::Repository& repo, RestRequest req);

// Checks x-gateway-token against the configured service token in constant time (both sides are
// hashed first, so neither length nor content leaks). Throws UNAUTHORIZED, or
// INTERNAL_ROUTES_DISABLED when no service token is configured (configured_sha256 empty).
void require_service_token(const std::string& configured_sha256, const RestRequest& req);

// The request body as a JSON object. Throws api::ApiError INVALID_REQUEST.
nlohmann::json json_body(const RestRequest& req);

// A header's value ("" when absent). Names are lowercase.
std::string header(const RestRequest& req, const char* name);

}  // namespace vespid::core
