#include "protocols/operator/event_audience.hpp"

#include "services/identity/org_access.hpp"
#include "storage/repository.hpp"

namespace vespid::core {

bool sees_org_events(const EventAudience& a, const std::string& org_id) {
  return a.local_admin || (!org_id.empty() && a.orgs.count(org_id) != 0);
}

bool manages_org(const EventAudience& a, const std::string& org_id) {
  if (a.local_admin) return true;
  auto it = a.orgs.find(org_id);
  return it != a.orgs.end() && auth::role_at_least(it->second, repo::OrgRole::Admin);
}

bool sees_pairing(const EventAudience& a, bool reapproval, const std::string& org_id) {
  if (a.local_admin) return true;
  return reapproval ? manages_org(a, org_id) : a.gateway_admin;
}

Task<EventAudience> load_audience(repo::Repository& repo, Principal who) {
  EventAudience a;
  if (who.role == Role::LocalAdmin) {
    a.local_admin = true;
    co_return a;
  }
  if (who.role != Role::Operator || who.user_id.empty()) co_return a;
  Task<bool> admin_t = repo.is_gateway_admin(who.user_id);
  a.gateway_admin = co_await std::move(admin_t);
  Task<std::vector<repo::Membership>> orgs_t = repo.orgs_of(who.user_id);
  std::vector<repo::Membership> memberships = co_await std::move(orgs_t);
  for (const auto& m : memberships) {
    if (!who.org_id.empty() && m.org_id != who.org_id) continue;  // bound to one org
    a.orgs[m.org_id] = m.role;
  }
  co_return a;
}

}  // namespace vespid::core
