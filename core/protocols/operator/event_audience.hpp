// Who an operator.v1 connection is, as far as events go: which orgs it belongs to (and with
// which role) and whether its user is a gateway administrator.
//
// Events are published inside the Sequencer to every open connection, so the audience check
// must not read storage: each connection caches its audience. It is read when the connection
// authenticates (the upgrade, or `auth`) and read again when what its user may see changes:
// a membership added or removed, the gateway administrator flag set or cleared
// (CredentialEvents::user_rights_changed, on every instance over the bus). Methods never use
// the cache: they read roles and the flag from storage on every call.
#pragma once

#include <map>
#include <string>

#include "runtime/task.hpp"
#include "services/identity/principal.hpp"
#include "storage/model.hpp"

namespace vespid::repo {
class Repository;
}

namespace vespid::core {

struct EventAudience {
  bool local_admin = false;
  bool gateway_admin = false;
  // org id -> the user's role; only the bound org for an org-bound token or web session.
  std::map<std::string, repo::OrgRole> orgs;
};

// Members of the org (any role), and the local admin: node presence, updates, removals.
bool sees_org_events(const EventAudience& a, const std::string& org_id);
// Owners and admins of the org, and the local admin.
bool manages_org(const EventAudience& a, const std::string& org_id);
// A pairing request and its outcome: a first-time request (no org yet) goes to gateway
// administrators and the local admin; a re-approval (`org_id` the node's org) to the org's
// owners and admins and the local admin.
bool sees_pairing(const EventAudience& a, bool reapproval, const std::string& org_id);

// Reads the audience of `who` from storage (memberships, the gateway administrator flag).
Task<EventAudience> load_audience(repo::Repository& repo, Principal who);

}  // namespace vespid::core
