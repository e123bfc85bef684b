#include "protocols/operator/node_methods.hpp"

#include <unordered_map>

#include "protocols/params.hpp"
#include "runtime/api_error.hpp"
#include "services/nodes/node_router.hpp"
#include "services/nodes/node_store.hpp"
#include "services/nodes/pairing_decisions.hpp"
#include "storage/repository.hpp"

namespace vespid::core {

using nlohmann::json;

namespace {

const std::set<Role> kAdmin = {Role::LocalAdmin};

CallResult ok(json payload) {
  return {std::move(payload), std::nullopt};
}

// Node hosts declare no invokable commands: the gateway hands them work by dispatch (and session
// turns). Saying so, with the command that does it, beats "did not declare the command".
api::ApiError node_host_invoked(const nodes::NodeRecord& n, const std::string& org,
                                const std::string& command) {
  const std::string use = "vespid dispatch send --org " + org + " --user USER --agent " +
                          n.node_id +
                          " --payload '{\"engine\":\"vespid.echo.v1\",\"message\":\"hi\"}' --wait";
  return api::invalid(
      "node " + n.node_id + " (" + n.display_name +
          ") is a node host (vespid-agent): node hosts take work through dispatch "
          "and sessions, not invokes; invokes are for bridge nodes and the "
          "commands they declared. Try: " +
          use,
      {{"node", n.node_id}, {"command", command}, {"kind", "node host"}, {"use", use}});
}

class NodeMethods {
 public:
  explicit NodeMethods(NodeServices s) : s_(s) {}

  Task<CallResult> pending(CallContext c, json p);
  Task<CallResult> approve(CallContext c, json p);
  Task<CallResult> reject(CallContext c, json p);
  Task<CallResult> list(CallContext c, json p);
  Task<CallResult> describe(CallContext c, json p);
  Task<CallResult> rename(CallContext c, json p);
  Task<CallResult> tag(CallContext c, json p);
  Task<CallResult> revoke(CallContext c, json p);
  Task<CallResult> invoke(CallContext c, json p);
  Task<CallResult> remove(CallContext c, json p);

 private:
  json view(const nodes::NodeRecord& n) const {
    std::string status = n.revoked ? "revoked" : s_.router.online(n.node_id) ? "online" : "offline";
    json j = nodes::to_public_json(n, status);
    if (const auto* live = s_.router.find(n.node_id)) {
      j["transport"] = live->link->transport_name();
      j["remoteAddress"] = live->link->remote_address();
    }
    return j;
  }
  // What a node's pending re-approval asks, on its node.list / node.describe entry.
  static json reapproval_view(const nodes::PendingPairing& r) {
    json full = nodes::to_public_json(r);
    return {{"requestId", r.request_id},
            {"addedCommands", r.added_commands},
            {"requestedAt", full["requestedAt"]},
            {"expiresAt", full["expiresAt"]}};
  }
  // params.node: an id, a name or a unique id prefix (NodeStore::resolve).
  Task<nodes::NodeRecord> require(const json& p) {
    Task<nodes::NodeRecord> t = s_.store.resolve(params::required_string(p, "node"));
    nodes::NodeRecord n = co_await std::move(t);
    co_return n;
  }

  NodeServices s_;
};

Task<CallResult> NodeMethods::pending(CallContext c, json p) {
  (void)c, (void)p;
  json list = json::array();
  for (const auto& r : co_await s_.store.list_pending()) list.push_back(nodes::to_public_json(r));
  co_return ok({{"pending", list}});
}

Task<CallResult> NodeMethods::approve(CallContext c, json p) {
  (void)c;
  std::string request_id = params::required_string(p, "requestId");
  // Required for a pairing request (the store says so); a re-approval keeps the node's org.
  std::string org_ref = params::optional_string(p, "org");
  std::string org_id;
  if (!org_ref.empty()) {
    Task<repo::Org> find = s_.repo.require_org(org_ref);
    repo::Org org = co_await std::move(find);
    org_id = org.id;
  }
  Task<nodes::NodeStore::Approved> t = s_.store.approve(request_id, org_id);
  nodes::NodeStore::Approved a = co_await std::move(t);
  if (a.reapproval) {
    // Same token, same connection: the live node may be invoked with the added commands now.
    s_.router.update_commands(
        a.node.node_id, std::set<std::string>(a.node.commands.begin(), a.node.commands.end()));
    co_return ok(
        {{"node", view(a.node)}, {"reapproval", true}, {"addedCommands", a.added_commands}});
  }
  // A re-paired node that is connected right now keeps no session on its old token.
  s_.router.disconnect(a.node.node_id, "re-paired: the previous token was replaced");
  s_.decisions.pairing_approved(a.node, a.token);
  co_return ok({{"node", view(a.node)}});
}

Task<CallResult> NodeMethods::reject(CallContext c, json p) {
  (void)c;
  std::string request_id = params::required_string(p, "requestId");
  Task<nodes::PendingPairing> t = s_.store.reject(request_id);
  nodes::PendingPairing r = co_await std::move(t);
  // A re-approval has no connection waiting on it: the node goes on with its approved commands.
  if (r.reapproval) co_return ok({{"rejected", true}, {"nodeId", r.node_id}, {"reapproval", true}});
  s_.decisions.pairing_rejected(r.node_id);
  co_return ok({{"rejected", true}, {"nodeId", r.node_id}});
}

Task<CallResult> NodeMethods::list(CallContext c, json p) {
  (void)c;
  std::string org_id;
  if (auto ref = params::optional_string(p, "org"); !ref.empty()) {
    org_id = (co_await s_.repo.require_org(ref)).id;
  }
  Task<std::vector<nodes::NodeRecord>> listed = s_.store.list(org_id);
  std::vector<nodes::NodeRecord> records = co_await std::move(listed);
  Task<std::vector<nodes::PendingPairing>> pending = s_.store.list_pending();
  std::vector<nodes::PendingPairing> requests = co_await std::move(pending);
  std::unordered_map<std::string, const nodes::PendingPairing*> reapprovals;
  for (const auto& r : requests) {
    if (r.reapproval) reapprovals[r.node_id] = &r;
  }
  json out = json::array();
  for (const auto& n : records) {
    json j = view(n);
    if (auto it = reapprovals.find(n.node_id); it != reapprovals.end())
      j["pendingReapproval"] = reapproval_view(*it->second);
    out.push_back(std::move(j));
  }
  co_return ok({{"nodes", out}});
}

Task<CallResult> NodeMethods::describe(CallContext c, json p) {
  (void)c;
  Task<nodes::NodeRecord> found = require(p);
  nodes::NodeRecord n = co_await std::move(found);
  json j = view(n);
  Task<std::optional<nodes::PendingPairing>> pending = s_.store.pending_for_node(n.node_id);
  std::optional<nodes::PendingPairing> request = co_await std::move(pending);
  if (request && request->reapproval) j["pendingReapproval"] = reapproval_view(*request);
  co_return ok({{"node", j}});
}

Task<CallResult> NodeMethods::rename(CallContext c, json p) {
  (void)c;
  std::string name = params::required_string(p, "name");
  Task<nodes::NodeRecord> found = require(p);
  nodes::NodeRecord target = co_await std::move(found);
  Task<nodes::NodeRecord> renamed = s_.store.rename(target.node_id, name);
  nodes::NodeRecord n = co_await std::move(renamed);
  co_return ok({{"node", view(n)}});
}

Task<CallResult> NodeMethods::tag(CallContext c, json p) {
  (void)c;
  auto it = p.find("tags");
  if (it == p.end() || !it->is_array())
    throw api::invalid("params.tags must be an array of strings", {{"param", "tags"}});
  std::vector<std::string> tags;
  for (const auto& t : *it) {
    if (!t.is_string())
      throw api::invalid("params.tags must be an array of strings", {{"param", "tags"}});
    tags.push_back(t);
  }
  Task<nodes::NodeRecord> found = require(p);
  nodes::NodeRecord target = co_await std::move(found);
  Task<nodes::NodeRecord> tagged = s_.store.set_tags(target.node_id, tags);
  nodes::NodeRecord n = co_await std::move(tagged);
  s_.router.update_tags(n.node_id, n.tags);  // routing sees the new tags at once
  co_return ok({{"node", view(n)}});
}

Task<CallResult> NodeMethods::revoke(CallContext c, json p) {
  (void)c;
  Task<nodes::NodeRecord> found = require(p);
  nodes::NodeRecord target = co_await std::move(found);
  Task<nodes::NodeRecord> revoked = s_.store.revoke(target.node_id);
  nodes::NodeRecord n = co_await std::move(revoked);
  // The token is gone from storage first, then the socket: a reconnect in between fails.
  int closed = s_.router.disconnect(n.node_id, "the node was revoked by an operator");
  co_return ok({{"revoked", true}, {"closedConnections", closed}, {"node", view(n)}});
}

Task<CallResult> NodeMethods::invoke(CallContext c, json p) {
  (void)c;
  std::string command = params::required_string(p, "command");
  auto given = p.find("params");
  json args = given == p.end() ? json(nullptr) : std::move(*given);
  int64_t ms = params::optional_int(p, "timeoutMs", s_.default_invoke_timeout.count());
  if (ms <= 0 || ms > s_.max_invoke_timeout.count()) {
    throw api::invalid(
        "timeoutMs must be from 1 to " + std::to_string(s_.max_invoke_timeout.count()),
        {{"param", "timeoutMs"}});
  }
  // The hot path: a bridge node connected here under that very id needs no registry read.
  std::string id = params::required_string(p, "node");
  const nodes::ConnectedNode* live = s_.router.find(id);
  if (live == nullptr || live->kind != "bridge") {
    Task<nodes::NodeRecord> found = require(p);
    nodes::NodeRecord target = co_await std::move(found);
    if (target.kind == "agent") {
      Task<repo::Org> find = s_.repo.require_org(target.org_id);
      repo::Org org = co_await std::move(find);
      throw node_host_invoked(target, org.name, command);
    }
    id = target.node_id;
  }
  Task<nodes::InvokeResult> t =
      s_.router.invoke(id, command, std::move(args), std::chrono::milliseconds(ms));
  nodes::InvokeResult r = co_await std::move(t);
  if (!r.ok) {
    throw api::ApiError(r.error_code.empty() ? "UNAVAILABLE" : r.error_code, r.error_message,
                        {{"node", id}, {"command", command}});
  }
  CallResult answer;
  answer.payload_json.reserve(r.payload_json.size() + 24);
  answer.payload_json.append(R"({"ok":true,"payload":)").append(r.payload_json).push_back('}');
  co_return answer;
}

Task<CallResult> NodeMethods::remove(CallContext c, json p) {
  (void)c;
  auto given = p.find("force");
  if (given != p.end() && !given->is_null() && !given->is_boolean())
    throw api::invalid("params.force must be a boolean", {{"param", "force"}});
  const bool force = given != p.end() && given->is_boolean() && given->get<bool>();
  Task<nodes::NodeRecord> found = require(p);
  nodes::NodeRecord n = co_await std::move(found);
  const bool online = s_.router.online(n.node_id);
  if (online && !force) {
    // Deleting forgets the token too, but a connected node would keep working on a socket the
    // registry no longer knows: the operator decides to cut it off, with revoke or --force.
    throw api::ApiError("CONFLICT",
                        "node " + n.node_id + " (" + n.display_name +
                            ") is online: revoke it first (vespid nodes revoke " + n.node_id +
                            "), or delete it with force (vespid nodes rm --force " + n.node_id +
                            "), which revokes, disconnects and deletes it at once",
                        {{"node", n.node_id}, {"status", "online"}});
  }
  int closed = 0;
  if (online) {
    // Revoked first, as revoke does: a reconnect between the two steps finds no token.
    Task<nodes::NodeRecord> revoking = s_.store.revoke(n.node_id);
    nodes::NodeRecord revoked = co_await std::move(revoking);
    (void)revoked;
    closed = s_.router.disconnect(n.node_id, "the node was deleted by an operator");
  }
  Task<nodes::NodeRecord> removing = s_.store.remove(n.node_id);
  nodes::NodeRecord gone = co_await std::move(removing);
  co_return ok({{"deleted", true},
                {"nodeId", gone.node_id},
                {"displayName", gone.display_name},
                {"kind", gone.kind},
                {"closedConnections", closed}});
}

}  // namespace

void register_node_methods(MethodTable& t, NodeServices s) {
  auto m = std::make_shared<NodeMethods>(s);
  using Fn = Task<CallResult> (NodeMethods::*)(CallContext, json);
  auto bind = [m](Fn fn) -> MethodHandler {
    return [m, fn](CallContext c, json p) { return ((*m).*fn)(std::move(c), std::move(p)); };
  };
  t.add({"nodes.pending", kAdmin, "Pairing requests waiting for a decision.",
         bind(&NodeMethods::pending)});
  t.add({"nodes.approve", kAdmin,
         "Approves a pairing request into an org: {requestId, org}; a re-approval (new commands "
         "of a paired node) keeps the node's org: {requestId, org?}.",
         bind(&NodeMethods::approve)});
  t.add({"nodes.reject", kAdmin, "Rejects a pairing request: {requestId}.",
         bind(&NodeMethods::reject)});
  t.add({"nodes.list", kAdmin, "Paired nodes, online or not: {org?}.", bind(&NodeMethods::list)});
  t.add({"nodes.describe", kAdmin, "One node: {node}.", bind(&NodeMethods::describe)});
  t.add({"nodes.rename", kAdmin, "Sets a node's display name: {node, name}.",
         bind(&NodeMethods::rename)});
  t.add({"nodes.tag", kAdmin, "Replaces a node's operator tags: {node, tags}.",
         bind(&NodeMethods::tag)});
  t.add({"nodes.revoke", kAdmin,
         "Revokes a node: its token stops working and its sockets close: {node}.",
         bind(&NodeMethods::revoke)});
  t.add({"nodes.invoke", kAdmin,
         "Runs a command the node declared: {node, command, params?, timeoutMs?}.",
         bind(&NodeMethods::invoke), /*concurrent=*/true});
  t.add({"nodes.delete", kAdmin,
         "Deletes a node from the registry (its token with it): {node, force?}; an online node "
         "only with force (revoked, disconnected, then deleted).",
         bind(&NodeMethods::remove)});
}

}  // namespace vespid::core
