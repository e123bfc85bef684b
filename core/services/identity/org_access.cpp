#include "services/identity/org_access.hpp"

#include "runtime/api_error.hpp"
#include "storage/repository.hpp"

namespace vespid::auth {

namespace {
int rank(repo::OrgRole r) noexcept {
  switch (r) {
    case repo::OrgRole::Owner:
      return 3;
    case repo::OrgRole::Admin:
      return 2;
    case repo::OrgRole::Member:
      return 1;
  }
  return 0;
}
}  // namespace

bool role_at_least(repo::OrgRole have, repo::OrgRole need) noexcept {
  return rank(have) >= rank(need);
}

core::Task<OrgAccess> require_org_access(repo::Repository& repo, core::Principal who,
                                         std::string org_id, repo::OrgRole minimum) {
  if (org_id.empty()) throw api::invalid("an org id is required");
  if (who.role == core::Role::LocalAdmin) {
    auto org = co_await repo.find_org(org_id);
    if (!org) throw api::not_found("no org \"" + org_id + "\"");
    co_return OrgAccess{org->id, std::nullopt, true};
  }
  if (who.role != core::Role::Operator) {
    if (who.role == core::Role::Anonymous) {
      throw api::unauthorized("authenticate first: Authorization: Bearer <access token>");
    }
    throw api::forbidden(std::string("a ") + core::role_name(who.role) +
                         " connection cannot act on orgs");
  }
  if (!who.org_id.empty() && who.org_id != org_id) {
    throw api::forbidden("this access token is bound to another org", {{"orgId", org_id}});
  }
  auto role = co_await repo.role_in(org_id, who.user_id);
  // Same answer for "no such org" and "not a member": org ids are not to be probed.
  if (!role) throw api::forbidden("not a member of this org", {{"orgId", org_id}});
  if (!role_at_least(*role, minimum)) {
    throw api::forbidden(std::string("this needs the org role ") + repo::role_text(minimum) +
                             " or higher; you are " + repo::role_text(*role),
                         {{"orgId", org_id}, {"role", repo::role_text(*role)}});
  }
  co_return OrgAccess{org_id, role, false};
}

}  // namespace vespid::auth
