#include "protocols/operator/dispatch_methods.hpp"

#include "protocols/params.hpp"
#include "runtime/api_error.hpp"
#include "runtime/time.hpp"
#include "services/dispatch/dispatcher.hpp"
#include "services/identity/org_access.hpp"
#include "services/node_hosts/node_host_store.hpp"
#include "storage/repository.hpp"

namespace vespid::core {

using nlohmann::json;

namespace {

CallResult ok(json payload) {
  return {std::move(payload), std::nullopt};
}

class DispatchMethods {
 public:
  explicit DispatchMethods(DispatchMethodServices s) : s_(s) {}

  Task<CallResult> pairing_token(CallContext c, json p) {
    std::string org_ref = params::required_string(p, "org");
    Task<repo::Org> org_t = s_.repo.require_org(org_ref);  // names work as well as ids
    repo::Org org = co_await std::move(org_t);
    Task<auth::OrgAccess> access_t =
        auth::require_org_access(s_.repo, c.principal, org.id, repo::OrgRole::Admin);
    co_await std::move(access_t);
    std::string by = c.principal.user_id.empty() ? "local-admin" : c.principal.user_id;
    Task<node_hosts::PairingToken> t = s_.agents.create_pairing_token(org.id, by);
    node_hosts::PairingToken pt = co_await std::move(t);
    co_return ok(
        {{"token", pt.token}, {"orgId", org.id}, {"expiresAt", util::iso8601(pt.expires_at_ms)}});
  }

  Task<CallResult> submit(CallContext c, json p) {
    // The org and the user may be named; the dispatch itself always carries their ids.
    std::string org_ref = params::required_string(p, "organizationId");
    Task<repo::Org> org_t = s_.repo.require_org(org_ref);
    repo::Org org = co_await std::move(org_t);
    p["organizationId"] = org.id;
    Task<json> user_t = requesting_user(c.principal, p.value("requestedByUserId", json()), org);
    json user_id = co_await std::move(user_t);
    p["requestedByUserId"] = std::move(user_id);
    dispatch::RequestLimits limits;
    limits.max_timeout_ms = s_.max_timeout_ms;
    dispatch::DispatchRequest r = dispatch::parse_dispatch_request(std::move(p), limits);
    Task<dispatch::Dispatcher::Submitted> t = s_.dispatcher.submit(std::move(r));
    dispatch::Dispatcher::Submitted sub = co_await std::move(t);
    Task<void> d = s_.dispatcher.durable(sub);
    co_await std::move(d);
    json out = {{"requestId", sub.request_id},
                {"dispatched", sub.outcome != dispatch::Dispatcher::Outcome::Cached}};
    if (sub.outcome == dispatch::Dispatcher::Outcome::Cached) out["cached"] = true;
    if (!sub.agent_id.empty()) out["agentId"] = sub.agent_id;
    co_return ok(out);
  }

  Task<CallResult> result(CallContext c, json p) {
    (void)c;
    std::string id = params::required_string(p, "requestId");
    Task<std::optional<json>> t = s_.dispatcher.result(id);
    std::optional<json> r = co_await std::move(t);
    json out = {{"requestId", id}, {"ready", r.has_value()}};
    if (r) out["result"] = *r;
    co_return ok(out);
  }

 private:
  // Who the work is done for (the execute's userId): the user named in requestedByUserId, by id
  // or name, else the caller when the caller is a user; either way a member of the org. The
  // local admin socket acts for no user, so there the user must be named (a dispatch for nobody
  // would carry no uuid a reference node agent accepts).
  Task<json> requesting_user(Principal caller, json given, repo::Org org) {
    if (!given.is_null() && !given.is_string()) {
      co_return given;  // not an id nor a name: parse_dispatch_request names the field
    }
    std::string ref = given.is_string() ? given.get<std::string>() : "";
    if (ref.empty()) ref = caller.user_id;
    if (ref.empty()) {
      throw api::invalid(
          "invalid dispatch payload: \"requestedByUserId\" is required: this caller acts for no "
          "user (the local admin socket), so name the member of the org the work is done for, "
          "by id or name",
          {{"field", "requestedByUserId"}});
    }
    Task<std::optional<repo::User>> user_t = s_.repo.find_user(ref);
    std::optional<repo::User> user = co_await std::move(user_t);
    if (!user) {
      throw api::ApiError("NOT_FOUND", "no user \"" + ref + "\"", {{"field", "requestedByUserId"}});
    }
    Task<std::optional<repo::OrgRole>> role_t = s_.repo.role_in(org.id, user->id);
    std::optional<repo::OrgRole> role = co_await std::move(role_t);
    if (!role) {
      throw api::invalid("invalid dispatch payload: \"requestedByUserId\": user \"" + user->name +
                             "\" is not a member of org \"" + org.name + "\"",
                         {{"field", "requestedByUserId"}});
    }
    co_return json(user->id);
  }

  DispatchMethodServices s_;
};

}  // namespace

void register_dispatch_methods(MethodTable& table, DispatchMethodServices services) {
  auto m = std::make_shared<DispatchMethods>(services);
  table.add({"agents.pairingToken",
             {Role::LocalAdmin, Role::Operator},
             "Create a single-use pairing token for a node host (org admins)",
             [m](CallContext c, json p) { return m->pairing_token(std::move(c), std::move(p)); }});
  table.add({"dispatch.submit",
             {Role::LocalAdmin},
             "Dispatch work to a node host (the body of POST /internal/v1/dispatch-async; the "
             "org and requestedByUserId, the member it is for, also by name)",
             [m](CallContext c, json p) { return m->submit(std::move(c), std::move(p)); }});
  table.add({"dispatch.result",
             {Role::LocalAdmin},
             "The stored result of a dispatch, if ready",
             [m](CallContext c, json p) { return m->result(std::move(c), std::move(p)); }});
}

}  // namespace vespid::core
