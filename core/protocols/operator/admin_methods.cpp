#include "protocols/operator/admin_methods.hpp"

#include "protocols/params.hpp"
#include "runtime/api_error.hpp"
#include "services/identity/credential_events.hpp"
#include "services/identity/org_access.hpp"
#include "storage/repository.hpp"

namespace vespid::core {

using nlohmann::json;
using repo::OrgRole;

namespace {

const std::set<Role> kEveryone = {Role::Anonymous, Role::Operator, Role::LocalAdmin, Role::Internal,
                                  Role::Node};
const std::set<Role> kAdmin = {Role::LocalAdmin};
const std::set<Role> kPeople = {Role::Operator, Role::LocalAdmin};

CallResult ok(json payload) {
  return {std::move(payload), std::nullopt};
}

json membership_json(const repo::Membership& m) {
  return {{"orgId", m.org_id}, {"userId", m.user_id}, {"role", repo::role_text(m.role)}};
}

OrgRole role_param(const json& p, OrgRole fallback) {
  std::string text = params::optional_string(p, "role");
  if (text.empty()) return fallback;
  auto role = repo::parse_role(text);
  if (!role) throw api::invalid("params.role must be owner, admin or member", {{"param", "role"}});
  return *role;
}

// The handlers are member coroutines reached through plain forwarding lambdas, so each one is
// an ordinary named function in a backtrace.
class AdminMethods {
 public:
  explicit AdminMethods(AdminServices s)
      : repo_(s.repo), credentials_(s.credentials), status_(std::move(s.status)) {}

  Task<CallResult> health(CallContext c, json p);
  Task<CallResult> status(CallContext c, json p);
  Task<CallResult> auth(CallContext c, json p);
  Task<CallResult> whoami(CallContext c, json p);
  Task<CallResult> orgs_create(CallContext c, json p);
  Task<CallResult> orgs_list(CallContext c, json p);
  Task<CallResult> users_create(CallContext c, json p);
  Task<CallResult> users_list(CallContext c, json p);
  Task<CallResult> users_set_gateway_admin(CallContext c, json p);
  Task<CallResult> members_add(CallContext c, json p);
  Task<CallResult> members_remove(CallContext c, json p);
  Task<CallResult> tokens_create(CallContext c, json p);
  Task<CallResult> tokens_list(CallContext c, json p);
  Task<CallResult> tokens_revoke(CallContext c, json p);

 private:
  repo::Repository& repo_;
  CredentialEvents& credentials_;
  std::function<json()> status_;
};

Task<CallResult> AdminMethods::health(CallContext c, json p) {
  (void)c, (void)p;
  co_return ok({{"ok", true}});
}

Task<CallResult> AdminMethods::status(CallContext c, json p) {
  (void)p;
  // Operators reach this only as gateway administrators (read now, not at connect).
  Task<void> check = auth::require_gateway_admin(repo_, c.principal, "see the gateway's status");
  co_await std::move(check);
  co_return ok(status_());
}

Task<CallResult> AdminMethods::auth(CallContext c, json p) {
  (void)c;
  std::string token = params::required_string(p, "token");
  auto rec = co_await repo_.verify_access_token(token);
  if (!rec) throw api::unauthorized("the access token is not valid (unknown, revoked or expired)");
  Principal who{Role::Operator, rec->user_id, rec->id, rec->org_id, rec->expires_at_ms};
  co_return CallResult{{{"userId", rec->user_id}, {"role", "operator"}}, who};
}

Task<CallResult> AdminMethods::whoami(CallContext c, json p) {
  (void)p;
  json out = {{"role", role_name(c.principal.role)}};
  if (!c.principal.user_id.empty()) out["userId"] = c.principal.user_id;
  if (!c.principal.org_id.empty()) out["orgId"] = c.principal.org_id;
  if (c.principal.role == Role::Operator) {
    Task<bool> admin_t = repo_.is_gateway_admin(c.principal.user_id);
    bool admin = co_await std::move(admin_t);
    out["gatewayAdmin"] = admin;
  }
  co_return ok(out);
}

Task<CallResult> AdminMethods::orgs_create(CallContext c, json p) {
  (void)c;
  auto org = co_await repo_.create_org(params::required_string(p, "name"));
  co_return ok({{"org", repo::to_json(org)}});
}

Task<CallResult> AdminMethods::orgs_list(CallContext c, json p) {
  (void)p;
  json list = json::array();
  if (c.principal.role == Role::LocalAdmin) {
    for (const auto& o : co_await repo_.list_orgs()) list.push_back(repo::to_json(o));
  } else {
    for (const auto& m : co_await repo_.orgs_of(c.principal.user_id)) {
      // A token bound to one org sees only that org.
      if (!c.principal.org_id.empty() && m.org_id != c.principal.org_id) continue;
      if (auto o = co_await repo_.find_org(m.org_id)) {
        json j = repo::to_json(*o);
        j["role"] = repo::role_text(m.role);
        list.push_back(j);
      }
    }
  }
  co_return ok({{"orgs", list}});
}

Task<CallResult> AdminMethods::users_create(CallContext c, json p) {
  (void)c;
  std::string org_ref = params::optional_string(p, "org");
  OrgRole role = role_param(p, OrgRole::Member);
  std::string name = params::required_string(p, "name");
  std::optional<repo::Org> org;
  if (!org_ref.empty()) org = co_await repo_.require_org(org_ref);  // before creating anything
  auto user = co_await repo_.create_user(name, params::optional_string(p, "email"));
  json out = {{"user", repo::to_json(user)}};
  if (org) {
    auto m = co_await repo_.add_member(org->id, user.id, role);
    out["membership"] = membership_json(m);
  }
  co_return ok(out);
}

Task<CallResult> AdminMethods::users_set_gateway_admin(CallContext c, json p) {
  (void)c;
  std::string user_ref = params::required_string(p, "user");
  auto given = p.find("admin");
  if (given == p.end() || !given->is_boolean())
    throw api::invalid("params.admin must be true or false", {{"param", "admin"}});
  const bool admin = given->get<bool>();
  Task<repo::User> find = repo_.require_user(user_ref);
  repo::User user = co_await std::move(find);
  Task<repo::User> set = repo_.set_gateway_admin(user.id, admin);
  repo::User changed = co_await std::move(set);
  // Open connections of the user see it at their next call anyway (the flag is read then);
  // this refreshes what their event audience caches and ends a log tail that is no longer
  // allowed.
  credentials_.user_rights_changed(changed.id);
  co_return ok({{"user", repo::to_json(changed)}});
}

Task<CallResult> AdminMethods::users_list(CallContext c, json p) {
  (void)c;
  std::string org_ref = params::optional_string(p, "org");
  json list = json::array();
  if (org_ref.empty()) {
    for (const auto& u : co_await repo_.list_users()) list.push_back(repo::to_json(u));
  } else {
    auto org = co_await repo_.require_org(org_ref);
    for (const auto& m : co_await repo_.members_of(org.id)) {
      if (auto u = co_await repo_.find_user(m.user_id)) {
        json j = repo::to_json(*u);
        j["role"] = repo::role_text(m.role);
        list.push_back(j);
      }
    }
  }
  co_return ok({{"users", list}});
}

Task<CallResult> AdminMethods::members_add(CallContext c, json p) {
  (void)c;
  OrgRole role = role_param(p, OrgRole::Member);
  auto org = co_await repo_.require_org(params::required_string(p, "org"));
  auto user = co_await repo_.require_user(params::required_string(p, "user"));
  auto m = co_await repo_.add_member(org.id, user.id, role);
  credentials_.user_rights_changed(user.id);  // their event audience (operator.v1) grows
  co_return ok({{"membership", membership_json(m)}});
}

Task<CallResult> AdminMethods::members_remove(CallContext c, json p) {
  (void)c;
  auto org = co_await repo_.require_org(params::required_string(p, "org"));
  auto user = co_await repo_.require_user(params::required_string(p, "user"));
  co_await repo_.remove_member(org.id, user.id);
  const int closed = credentials_.membership_removed(org.id, user.id);
  co_return ok({{"removed", true}, {"closedConnections", closed}});
}

Task<CallResult> AdminMethods::tokens_create(CallContext c, json p) {
  (void)c;
  std::string user_ref = params::required_string(p, "user");
  std::string org_ref = params::optional_string(p, "org");
  std::string name = params::optional_string(p, "name");
  int64_t ttl = params::optional_int(p, "ttlSeconds", 0);
  auto user = co_await repo_.require_user(user_ref);
  std::string org_id;
  if (!org_ref.empty()) org_id = (co_await repo_.require_org(org_ref)).id;
  auto issued = co_await repo_.create_access_token(user.id, org_id, name, ttl);
  json out = repo::to_public_json(issued.record);
  out["token"] = issued.secret_token;
  co_return ok(out);
}

Task<CallResult> AdminMethods::tokens_list(CallContext c, json p) {
  std::string user_id;
  if (c.principal.role == Role::Operator) {
    user_id = c.principal.user_id;  // operators see only their own
  } else {
    user_id = (co_await repo_.require_user(params::required_string(p, "user"))).id;
  }
  json list = json::array();
  for (const auto& tok : co_await repo_.tokens_of(user_id))
    list.push_back(repo::to_public_json(tok));
  co_return ok({{"tokens", list}});
}

Task<CallResult> AdminMethods::tokens_revoke(CallContext c, json p) {
  std::string id = params::required_string(p, "tokenId");
  if (c.principal.role == Role::Operator) {
    bool mine = false;
    for (const auto& tok : co_await repo_.tokens_of(c.principal.user_id)) mine |= tok.id == id;
    if (!mine) throw api::not_found("no access token \"" + id + "\"");
  }
  bool changed = co_await repo_.revoke_access_token(id);
  // Sockets that authenticated with it lose it now, not at their next handshake.
  const int closed = credentials_.access_token_revoked(id);
  co_return ok({{"revoked", true}, {"changed", changed}, {"closedConnections", closed}});
}

}  // namespace

void register_admin_methods(MethodTable& t, AdminServices s) {
  // Owned by the table's handlers for the life of the process.
  auto m = std::make_shared<AdminMethods>(std::move(s));
  using Fn = Task<CallResult> (AdminMethods::*)(CallContext, json);
  auto bind = [m](Fn fn) -> MethodHandler {
    return [m, fn](CallContext c, json p) { return ((*m).*fn)(std::move(c), std::move(p)); };
  };
  t.add({"health", kEveryone, "Liveness: answers {ok:true} while the gateway serves.",
         bind(&AdminMethods::health)});
  t.add({"status", kPeople,
         "Version, uptime, plugin instances, connections and storage (gateway administrators "
         "and the local admin).",
         bind(&AdminMethods::status)});
  t.add({"auth",
         {Role::Anonymous, Role::Operator, Role::LocalAdmin},
         "Authenticates this connection as the token's user (a local admin may use it to test a "
         "token): {token}.",
         bind(&AdminMethods::auth)});
  t.add({"whoami", kEveryone, "The role and identity of this connection.",
         bind(&AdminMethods::whoami)});
  t.add({"orgs.create", kAdmin, "Creates an org: {name}.", bind(&AdminMethods::orgs_create)});
  t.add({"orgs.list", kPeople, "Lists orgs (an operator sees the orgs they belong to).",
         bind(&AdminMethods::orgs_list)});
  t.add({"users.create", kAdmin, "Creates a user: {name, email?, org?, role?}.",
         bind(&AdminMethods::users_create)});
  t.add({"users.list", kAdmin, "Lists users, or the members of {org} with their roles.",
         bind(&AdminMethods::users_list)});
  t.add({"users.set_gateway_admin", kAdmin,
         "Makes a user a gateway administrator, or not: {user, admin}. Gateway administrators "
         "decide first-time pairing requests and see the gateway's status and log tail.",
         bind(&AdminMethods::users_set_gateway_admin)});
  t.add({"members.add", kAdmin, "Adds a user to an org or changes their role: {org, user, role}.",
         bind(&AdminMethods::members_add)});
  t.add({"members.remove", kAdmin,
         "Removes a user from an org: {org, user}; their connections in that org close.",
         bind(&AdminMethods::members_remove)});
  t.add({"tokens.create", kAdmin,
         "Issues an access token: {user, org?, name?, ttlSeconds?}. Shown once.",
         bind(&AdminMethods::tokens_create)});
  t.add({"tokens.list", kPeople, "Lists a user's access tokens, never their secrets: {user}.",
         bind(&AdminMethods::tokens_list)});
  t.add({"tokens.revoke", kPeople, "Revokes an access token: {tokenId}.",
         bind(&AdminMethods::tokens_revoke)});
}

}  // namespace vespid::core
