// The one permission check behind every org-scoped call, whichever dialect carried it (REST,
// operator.v1, vespid.client.v1): the org comes from the request, the principal from the
// connection or the request's credentials, and membership is read from storage every time.
#pragma once

#include <optional>
#include <string>

#include "runtime/task.hpp"
#include "services/identity/principal.hpp"
#include "storage/model.hpp"

namespace vespid::repo {
class Repository;
}

namespace vespid::auth {

struct OrgAccess {
  std::string org_id;
  std::optional<repo::OrgRole> role;  // empty for the local admin, who is not a member
  bool local_admin = false;
};

// `org_ref` is the org's id or its name (the REST path's :orgId, x-org-id, an operator's org);
// OrgAccess::org_id is always the id. Throws api::ApiError: UNAUTHORIZED (no user), FORBIDDEN
// (token bound to another org, naming both; not a member; a role below `minimum`), NOT_FOUND (the
// local admin named an unknown org).
core::Task<OrgAccess> require_org_access(repo::Repository& repo, core::Principal who,
                                         std::string org_ref, repo::OrgRole minimum);

// Whether `who` is a gateway administrator: the local admin always; an operator when their user
// record says so, read from storage on every call (so taking the flag away takes effect on open
// connections at their next call).
core::Task<bool> is_gateway_admin(repo::Repository& repo, core::Principal who);
// FORBIDDEN unless is_gateway_admin; `what` completes "only a gateway administrator can ...".
core::Task<void> require_gateway_admin(repo::Repository& repo, core::Principal who,
                                       std::string what);

// True if `have` is at least `need` (owner > admin > member).
bool role_at_least(repo::OrgRole have, repo::OrgRole need) noexcept;

}  // namespace vespid::auth
