// rest.v1 routes for sessions (docs/sessions.md). Every call authenticates with the access token
// and checks membership of the org in the path (auth::require_org_access, inside the service).
#pragma once

#include <map>
#include <string>

#include "protocols/rest/rest_dialect.hpp"

namespace vespid::repo {
class Repository;
}

namespace vespid::sessions {

class SessionService;

void register_session_routes(core::RestDialect& rest, repo::Repository& repo,
                             SessionService& sessions);

// "a=1&b=x%20y" -> {a:"1", b:"x y"} ('+' is a space; the last of repeated names wins).
std::map<std::string, std::string> parse_query(const std::string& query);

}  // namespace vespid::sessions
