#include "services/identity/org_access.hpp"

#include "runtime/api_error.hpp"
#include "services/identity/web_sessions.hpp"
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

core::Task<bool> is_gateway_admin(repo::Repository& repo, core::Principal who) {
  if (who.role == core::Role::LocalAdmin) co_return true;
  if (who.role != core::Role::Operator) co_return false;
  core::Task<bool> t = repo.is_gateway_admin(who.user_id);
  bool admin = co_await std::move(t);
  co_return admin;
}

core::Task<void> require_gateway_admin(repo::Repository& repo, core::Principal who,
                                       std::string what) {
  core::Task<bool> t = is_gateway_admin(repo, who);
  bool admin = co_await std::move(t);
  if (admin) co_return;
  std::string message = "only a gateway administrator can ";
  message += what;
  message += "; the gateway's local admin makes one with `vespid user gateway-admin <user>`";
  throw api::forbidden(message);
}

core::Task<OrgAccess> require_org_access(repo::Repository& repo, core::Principal who,
                                         std::string org_ref, repo::OrgRole minimum) {
  using core::Task;
  if (org_ref.empty()) throw api::invalid("an org (id or name) is required");
  if (who.role == core::Role::LocalAdmin) {
    auto org = co_await repo.find_org(org_ref);
    if (!org) throw api::not_found("no org \"" + org_ref + "\"");
    co_return OrgAccess{org->id, std::nullopt, true};
  }
  if (who.role != core::Role::Operator) {
    if (who.role == core::Role::Anonymous) {
      throw api::unauthorized("authenticate first: Authorization: Bearer <access token>");
    }
    throw api::forbidden(std::string("a ") + core::role_name(who.role) +
                         " connection cannot act on orgs");
  }
  // The org may be named by id or by name, as everywhere else (`--org acme`).
  Task<std::optional<repo::Org>> org_t = repo.find_org(org_ref);
  std::optional<repo::Org> org = co_await std::move(org_t);
  if (!who.org_id.empty() && (!org || org->id != who.org_id)) {
    Task<std::optional<repo::Org>> bound_t = repo.find_org(who.org_id);
    std::optional<repo::Org> bound = co_await std::move(bound_t);
    const std::string bound_text =
        bound ? "\"" + bound->name + "\" (" + bound->id + ")" : "\"" + who.org_id + "\"";
    // A web session opened with --org (or with an org-bound token) is bound the same way.
    const bool web = who.token_id.rfind(WebSessions::credential_id(""), 0) == 0;
    throw api::forbidden(std::string(web ? "this web session" : "this access token") +
                             " is bound to org " + bound_text + ", not to \"" + org_ref +
                             "\"; use that org, or " + (web ? "a sign-in link" : "a token") +
                             " made without --org",
                         {{"orgId", org_ref}, {"tokenOrgId", who.org_id}});
  }
  // Same answer for "no such org" and "not a member": orgs are not to be probed.
  const std::string not_member = "you are not a member of org \"" + org_ref + "\"";
  if (!org) throw api::forbidden(not_member, {{"orgId", org_ref}});
  Task<std::optional<repo::OrgRole>> role_t = repo.role_in(org->id, who.user_id);
  std::optional<repo::OrgRole> role = co_await std::move(role_t);
  if (!role) throw api::forbidden(not_member, {{"orgId", org_ref}});
  if (!role_at_least(*role, minimum)) {
    throw api::forbidden(std::string("this needs the org role ") + repo::role_text(minimum) +
                             " or higher; you are " + repo::role_text(*role),
                         {{"orgId", org->id}, {"role", repo::role_text(*role)}});
  }
  co_return OrgAccess{org->id, role, false};
}

}  // namespace vespid::auth
