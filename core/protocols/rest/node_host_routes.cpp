#include "protocols/rest/node_host_routes.hpp"

#include "protocols/rest/rest_auth.hpp"
#include "runtime/api_error.hpp"
#include "runtime/logging.hpp"
#include "runtime/time.hpp"
#include "services/identity/org_access.hpp"
#include "services/node_hosts/node_host_store.hpp"
#include "services/nodes/node_router.hpp"
#include "services/nodes/node_store.hpp"
#include "storage/repository.hpp"

namespace vespid::node_hosts {

using core::RestRequest;
using core::RestResponse;
using core::Task;
using nlohmann::json;

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("agents");
}

// The reference's agent view, plus what this gateway knows beyond it (kind, transport).
json agent_view(const nodes::NodeRecord& n, const nodes::NodeRouter& router) {
  const auto* live = router.find(n.node_id);
  std::string status = n.revoked ? "revoked" : live ? "online" : "offline";
  json j = {{"id", n.node_id},
            {"name", n.display_name},
            {"kind", n.kind},
            {"status", status},
            {"tags", n.tags},
            {"createdAt", n.paired_at},
            {"lastSeenAt", n.last_seen_at.empty() ? json() : json(n.last_seen_at)},
            {"revokedAt", n.revoked_at.empty() ? json() : json(n.revoked_at)}};
  if (!n.version.empty()) j["agentVersion"] = n.version;
  if (!n.capabilities.empty()) j["capabilities"] = n.capabilities;
  if (live) j["remoteAddress"] = live->link->remote_address();
  return j;
}

std::vector<std::string> string_list(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return {};
  if (!it->is_array())
    throw api::invalid(std::string("\"") + field + "\" must be an array of strings");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string())
      throw api::invalid(std::string("\"") + field + "\" must be an array of strings");
    out.push_back(v);
  }
  return out;
}

class AgentRoutes {
 public:
  explicit AgentRoutes(NodeHostRouteServices s) : s_(std::move(s)) {}

  Task<RestResponse> create_pairing_token(RestRequest req) {
    Task<Caller> caller_t = authorize(req, repo::OrgRole::Admin);
    Caller caller = co_await std::move(caller_t);
    const core::Principal& who = caller.who;
    const auth::OrgAccess& access = caller.access;
    Task<PairingToken> t = s_.agents.create_pairing_token(access.org_id, who.user_id);
    PairingToken pt = co_await std::move(t);
    L()->info("pairing token created for org {} by user {} (expires {})", access.org_id,
              who.user_id, util::iso8601(pt.expires_at_ms));
    co_return RestResponse{201,
                           {{"token", pt.token}, {"expiresAt", util::iso8601(pt.expires_at_ms)}}};
  }

  Task<RestResponse> pair(RestRequest req) {
    json body = core::json_body(req);
    PairRequest pr;
    if (!body.contains("pairingToken") || !body["pairingToken"].is_string()) {
      throw api::invalid("\"pairingToken\" is required (a string)", {{"field", "pairingToken"}});
    }
    pr.pairing_token = body["pairingToken"];
    if (body.contains("name") && !body["name"].is_string())
      throw api::invalid("\"name\" must be a string", {{"field", "name"}});
    pr.name = body.value("name", "");
    if (body.contains("agentVersion") && !body["agentVersion"].is_string())
      throw api::invalid("\"agentVersion\" must be a string", {{"field", "agentVersion"}});
    pr.agent_version = body.value("agentVersion", "");
    if (body.contains("capabilities") && !body["capabilities"].is_null()) {
      if (!body["capabilities"].is_object() || body["capabilities"].dump().size() > 16384) {
        throw api::invalid("\"capabilities\" must be an object (at most 16 KiB)",
                           {{"field", "capabilities"}});
      }
      pr.capabilities = body["capabilities"];
    }
    pr.tags = string_list(body, "tags");
    Task<Paired> t = s_.agents.pair(std::move(pr));
    Paired p = co_await std::move(t);
    L()->info("node host {} (\"{}\") paired into org {}", p.agent.node_id, p.agent.display_name,
              p.agent.org_id);
    co_return RestResponse{201,
                           {{"agentId", p.agent.node_id},
                            {"agentToken", p.agent_token},
                            {"organizationId", p.agent.org_id},
                            {"gatewayWsUrl", s_.gateway_ws_url(req)}}};
  }

  Task<RestResponse> list(RestRequest req) {
    Task<Caller> caller_t = authorize(req, repo::OrgRole::Member);
    Caller caller = co_await std::move(caller_t);
    const auth::OrgAccess& access = caller.access;
    Task<std::vector<nodes::NodeRecord>> t = s_.nodes.list(access.org_id);
    std::vector<nodes::NodeRecord> all = co_await std::move(t);
    json out = json::array();
    for (const auto& n : all) out.push_back(agent_view(n, s_.router));
    co_return RestResponse{200, {{"agents", out}}};
  }

  Task<RestResponse> revoke(RestRequest req) {
    Task<nodes::NodeRecord> owned_t = require_owned(req, repo::OrgRole::Admin);
    nodes::NodeRecord owned = co_await std::move(owned_t);
    Task<nodes::NodeRecord> t = s_.nodes.revoke(owned.node_id);
    nodes::NodeRecord n = co_await std::move(t);
    // The token is gone from storage first, then the open sockets close: a reconnect cannot
    // slip in between.
    int closed = s_.router.disconnect(n.node_id, "revoked");
    L()->info("node {} revoked over REST; {} open connection(s) closed", n.node_id, closed);
    co_return RestResponse{200, {{"agent", agent_view(n, s_.router)}}};
  }

  Task<RestResponse> set_tags(RestRequest req) {
    Task<nodes::NodeRecord> owned_t = require_owned(req, repo::OrgRole::Admin);
    nodes::NodeRecord owned = co_await std::move(owned_t);  // credentials before the body
    json body = core::json_body(req);
    if (!body.contains("tags")) throw api::invalid("\"tags\" is required (an array of strings)");
    std::vector<std::string> tags = string_list(body, "tags");
    Task<nodes::NodeRecord> t = s_.nodes.set_tags(owned.node_id, std::move(tags));
    nodes::NodeRecord n = co_await std::move(t);
    s_.router.update_tags(n.node_id, n.tags);
    co_return RestResponse{200, {{"agent", agent_view(n, s_.router)}}};
  }

 private:
  struct Caller {
    core::Principal who;
    auth::OrgAccess access;
  };
  // The request's access token, and its rights in the org named by the path's first parameter.
  Task<Caller> authorize(RestRequest req, repo::OrgRole minimum) {
    Task<core::Principal> who_t = core::rest_principal(s_.repo, req);
    core::Principal who = co_await std::move(who_t);
    Task<auth::OrgAccess> access_t =
        auth::require_org_access(s_.repo, who, req.params.at(0), minimum);
    auth::OrgAccess access = co_await std::move(access_t);
    co_return Caller{std::move(who), std::move(access)};
  }

  // The node named in the path, if the caller may act on the org in the path and the node is in
  // it (another org's node is "not found", never "forbidden": ids are not to be probed).
  Task<nodes::NodeRecord> require_owned(RestRequest req, repo::OrgRole minimum) {
    Task<Caller> caller_t = authorize(req, minimum);
    Caller caller = co_await std::move(caller_t);
    const auth::OrgAccess& access = caller.access;
    Task<std::optional<nodes::NodeRecord>> t = s_.nodes.get(req.params.at(1));
    std::optional<nodes::NodeRecord> n = co_await std::move(t);
    if (!n || n->org_id != access.org_id) {
      throw api::not_found("no agent \"" + req.params.at(1) + "\" in this org");
    }
    co_return *n;
  }

  NodeHostRouteServices s_;
};

}  // namespace

void register_node_host_routes(core::RestDialect& rest, NodeHostRouteServices services) {
  auto r = std::make_shared<AgentRoutes>(std::move(services));
  rest.route("POST", "/v1/orgs/:orgId/agents/pairing-tokens",
             [r](RestRequest q) { return r->create_pairing_token(std::move(q)); });
  rest.route("POST", "/v1/agents/pair", [r](RestRequest q) { return r->pair(std::move(q)); });
  rest.route("GET", "/v1/orgs/:orgId/agents", [r](RestRequest q) { return r->list(std::move(q)); });
  rest.route("POST", "/v1/orgs/:orgId/agents/:agentId/revoke",
             [r](RestRequest q) { return r->revoke(std::move(q)); });
  rest.route("PUT", "/v1/orgs/:orgId/agents/:agentId/tags",
             [r](RestRequest q) { return r->set_tags(std::move(q)); });
}

}  // namespace vespid::node_hosts
