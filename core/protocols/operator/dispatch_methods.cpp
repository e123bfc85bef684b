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
    (void)c;
    // The org may be named; the dispatch itself always carries the id.
    std::string org_ref = params::required_string(p, "organizationId");
    Task<repo::Org> org_t = s_.repo.require_org(org_ref);
    repo::Org org = co_await std::move(org_t);
    p["organizationId"] = org.id;
    dispatch::RequestLimits limits;
    limits.max_timeout_ms = s_.max_timeout_ms;
    dispatch::DispatchRequest r = dispatch::parse_dispatch_request(p, limits);
    Task<dispatch::Dispatcher::Submitted> t = s_.dispatcher.submit(std::move(r));
    dispatch::Dispatcher::Submitted sub = co_await std::move(t);
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
             "Dispatch work to a node host (the body of POST /internal/v1/dispatch-async)",
             [m](CallContext c, json p) { return m->submit(std::move(c), std::move(p)); }});
  table.add({"dispatch.result",
             {Role::LocalAdmin},
             "The stored result of a dispatch, if ready",
             [m](CallContext c, json p) { return m->result(std::move(c), std::move(p)); }});
}

}  // namespace vespid::core
