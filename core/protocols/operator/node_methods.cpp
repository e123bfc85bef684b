#include "protocols/operator/node_methods.hpp"

#include <unordered_map>

#include "json_scan.hpp"
#include "json_write.hpp"
#include "protocols/operator/event_audience.hpp"
#include "protocols/operator/node_events.hpp"
#include "protocols/operator/node_view.hpp"
#include "protocols/params.hpp"
#include "runtime/api_error.hpp"
#include "runtime/json_input.hpp"
#include "runtime/time.hpp"
#include "services/identity/org_access.hpp"
#include "services/nodes/node_router.hpp"
#include "services/nodes/node_store.hpp"
#include "services/nodes/pairing_decisions.hpp"
#include "storage/repository.hpp"

namespace vespid::core {

using nlohmann::json;

namespace {

// Every node method is open to operators; each checks the caller's org role itself.
const std::set<Role> kPeople = {Role::Operator, Role::LocalAdmin};

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
  // nodes.invoke read typed from the request's text (MethodSpec::text_handler): the local admin
  // invoking a bridge node, which needs no registry read, answered with no coroutine. False for
  // anything else, which invoke() then reads.
  bool invoke_text(const Principal& who, const json_scan::Object& p, TextReply& reply);
  Task<CallResult> remove(CallContext c, json p);

 private:
  json view(const nodes::NodeRecord& n) const { return node_view(n, s_.router, s_.instance_id); }
  // Both ways of nodes.invoke end here: the node id resolved, the params one checked JSON text
  // (empty: none).
  Task<CallResult> send_invoke(std::string id, std::string command, std::string params_json,
                               int64_t timeout_ms);
  // What a node's pending re-approval asks, on its node.list / node.describe entry.
  static json reapproval_view(const nodes::PendingPairing& r) {
    json full = nodes::to_public_json(r);
    return {{"requestId", r.request_id},
            {"addedCommands", r.added_commands},
            {"requestedAt", full["requestedAt"]},
            {"expiresAt", full["expiresAt"]}};
  }
  // What the caller may see and do, read from storage now (never a connection's cache).
  Task<EventAudience> access(const CallContext& c) {
    Task<EventAudience> t = load_audience(s_.repo, c.principal);
    EventAudience a = co_await std::move(t);
    co_return a;
  }
  // params.node: an id, a name or a unique id prefix (NodeStore::resolve), among the nodes of
  // the orgs the caller belongs to (every node for the local admin).
  Task<nodes::NodeRecord> require(const json& p, const EventAudience& a) {
    std::optional<std::set<std::string>> orgs;
    if (!a.local_admin) {
      orgs.emplace();
      for (const auto& [org, role] : a.orgs) orgs->insert(org);
    }
    Task<nodes::NodeRecord> t = s_.store.resolve(params::required_string(p, "node"), orgs);
    nodes::NodeRecord n = co_await std::move(t);
    co_return n;
  }
  // The node named by params.node, which the caller must be able to change (owner or admin of
  // its org): `what` completes "an owner or admin of the node's org can ...".
  Task<nodes::NodeRecord> require_managed(const CallContext& c, const json& p, const char* what) {
    Task<EventAudience> who_t = access(c);
    EventAudience who = co_await std::move(who_t);
    Task<nodes::NodeRecord> found = require(p, who);
    nodes::NodeRecord n = co_await std::move(found);
    if (!manages_org(who, n.org_id)) {
      std::string message = "only an owner or admin of the node's org can ";
      message += what;
      message += " node ";
      message += n.node_id;
      message += "; you are a member: ask one of them";
      throw api::forbidden(message, {{"node", n.node_id}, {"orgId", n.org_id}, {"role", "member"}});
    }
    co_return n;
  }
  // A pairing request that may be decided now by the caller; NOT_FOUND saying what became of
  // it otherwise, FORBIDDEN when the caller may not decide it.
  // `org_ref` by value: callers pass literals, and a coroutine's reference parameter to a
  // temporary dangles once the calling expression ends (docs/coding-notes.md).
  Task<nodes::PendingPairing> decidable(const CallContext& c, const std::string& request_id,
                                        std::string org_ref, const char* verb);
  api::ApiError gone_request(const std::string& request_id) const;
  // node.pair.resolved to whoever saw the request, on every instance.
  void resolved(const nodes::PendingPairing& r, const char* decision, const std::string& org_id,
                const json& node) {
    json out = {{"requestId", r.request_id},
                {"nodeId", r.node_id},
                {"decision", decision},
                {"reapproval", r.reapproval}};
    if (!org_id.empty()) out["orgId"] = org_id;
    if (!node.is_null()) out["node"] = node;
    if (s_.announce_resolved) s_.announce_resolved(out);
  }

  NodeServices s_;
};

api::ApiError NodeMethods::gone_request(const std::string& request_id) const {
  std::string message = "pairing request \"";
  message += request_id;
  message += "\" ";
  json details = {{"requestId", request_id}};
  if (auto r = s_.events.resolution(request_id)) {
    const std::string decision = r->value("decision", "");
    const std::string at = r->value("at", "");
    details["decision"] = decision;
    details["nodeId"] = r->value("nodeId", "");
    if (decision == "approved") {
      message += "was already approved (" + at + "): node " + r->value("nodeId", "") +
                 " is paired; nothing more to do";
    } else if (decision == "rejected") {
      message += "was already rejected (" + at + "); the node must send a new pair-request";
    } else {
      message += "ended without a decision (" + at + "): " + r->value("reason", "it expired") +
                 "; the node must send a new pair-request";
    }
  } else {
    message +=
        "is not waiting: it was decided by another operator, expired (pairing.ttl_ms) or the "
        "node gave up; `vespid nodes pending` (nodes.pending) lists the requests that wait, "
        "and a node that still wants to pair sends a new pair-request";
  }
  return api::ApiError("NOT_FOUND", message, details);
}

Task<nodes::PendingPairing> NodeMethods::decidable(const CallContext& c,
                                                   const std::string& request_id,
                                                   std::string org_ref, const char* verb) {
  Task<std::optional<nodes::PendingPairing>> find = s_.store.find_pending(request_id);
  std::optional<nodes::PendingPairing> r = co_await std::move(find);
  if (!r) throw gone_request(request_id);
  if (r->expires_at_ms <= util::now_ms()) {
    throw api::ApiError("NOT_FOUND",
                        "pairing request \"" + request_id + "\" expired at " +
                            util::iso8601(r->expires_at_ms) +
                            " without a decision (pairing.ttl_ms); the node must send a new "
                            "pair-request",
                        {{"requestId", request_id}, {"decision", "expired"}});
  }
  if (c.principal.role == Role::LocalAdmin) co_return *r;
  if (r->reapproval) {
    // New commands of a paired node: its org decides.
    Task<EventAudience> who_t = access(c);
    EventAudience who = co_await std::move(who_t);
    if (!manages_org(who, r->org_id)) {
      std::string message = "only an owner or admin of the node's org can ";
      message += verb;
      message += " its new commands";
      throw api::forbidden(message, {{"requestId", request_id}});
    }
    co_return *r;
  }
  // A first-time request: a gateway administrator decides, into an org they own or administer.
  std::string what = verb;
  what += " first-time pairing requests";
  Task<void> admin = auth::require_gateway_admin(s_.repo, c.principal, what);
  co_await std::move(admin);
  if (!org_ref.empty()) {
    Task<auth::OrgAccess> org_t =
        auth::require_org_access(s_.repo, c.principal, org_ref, repo::OrgRole::Admin);
    co_await std::move(org_t);
  }
  co_return *r;
}

Task<CallResult> NodeMethods::pending(CallContext c, json p) {
  (void)p;
  Task<EventAudience> who_t = access(c);
  EventAudience who = co_await std::move(who_t);
  json list = json::array();
  Task<std::vector<nodes::PendingPairing>> listed = s_.store.list_pending();
  std::vector<nodes::PendingPairing> requests = co_await std::move(listed);
  for (const auto& r : requests) {
    // Not an error for others: they simply have nothing to decide.
    if (sees_pairing(who, r.reapproval, r.org_id)) list.push_back(nodes::to_public_json(r));
  }
  co_return ok({{"pending", list}});
}

Task<CallResult> NodeMethods::approve(CallContext c, json p) {
  std::string request_id = params::required_string(p, "requestId");
  // Required for a pairing request (the store says so); a re-approval keeps the node's org.
  std::string org_ref = params::optional_string(p, "org");
  Task<nodes::PendingPairing> check = decidable(c, request_id, org_ref, "approve");
  nodes::PendingPairing request = co_await std::move(check);
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
    json node = view(a.node);
    resolved(request, "approved", a.node.org_id, node);
    s_.events.updated(node);
    co_return ok({{"node", node}, {"reapproval", true}, {"addedCommands", a.added_commands}});
  }
  // A re-paired node that is connected right now keeps no session on its old token.
  s_.router.disconnect(a.node.node_id, "re-paired: the previous token was replaced");
  s_.decisions.pairing_approved(a.node, a.token);
  json node = view(a.node);
  resolved(request, "approved", a.node.org_id, node);
  s_.events.updated(node);
  co_return ok({{"node", node}});
}

Task<CallResult> NodeMethods::reject(CallContext c, json p) {
  std::string request_id = params::required_string(p, "requestId");
  Task<nodes::PendingPairing> check = decidable(c, request_id, "", "reject");
  co_await std::move(check);
  Task<nodes::PendingPairing> t = s_.store.reject(request_id);
  nodes::PendingPairing r = co_await std::move(t);
  resolved(r, "rejected", r.org_id, nullptr);
  // A re-approval has no connection waiting on it: the node goes on with its approved commands.
  if (r.reapproval) co_return ok({{"rejected", true}, {"nodeId", r.node_id}, {"reapproval", true}});
  s_.decisions.pairing_rejected(r.node_id);
  co_return ok({{"rejected", true}, {"nodeId", r.node_id}});
}

Task<CallResult> NodeMethods::list(CallContext c, json p) {
  std::string org_id;
  std::string ref = params::optional_string(p, "org");
  if (c.principal.role != Role::LocalAdmin) {
    // An operator lists one org at a time, one they belong to (any role).
    if (ref.empty()) {
      throw api::invalid("name the org whose nodes to list: params.org (id or name)",
                         {{"param", "org"}});
    }
    Task<auth::OrgAccess> access_t =
        auth::require_org_access(s_.repo, c.principal, ref, repo::OrgRole::Member);
    auth::OrgAccess access = co_await std::move(access_t);
    org_id = access.org_id;
  } else if (!ref.empty()) {
    Task<repo::Org> find = s_.repo.require_org(ref);
    repo::Org org = co_await std::move(find);
    org_id = org.id;
  }
  Task<std::vector<nodes::NodeRecord>> listed = s_.store.list(org_id);
  std::vector<nodes::NodeRecord> records = co_await std::move(listed);
  Task<std::vector<nodes::PendingPairing>> pending = s_.store.list_pending();
  std::vector<nodes::PendingPairing> requests = co_await std::move(pending);
  std::unordered_map<std::string, const nodes::PendingPairing*> reapprovals;
  for (const auto& r : requests) {
    if (r.reapproval) reapprovals[r.node_id] = &r;
  }
  // An operator's answer shows what a member may know of a re-approval: that one waits.
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
  Task<EventAudience> who_t = access(c);
  EventAudience who = co_await std::move(who_t);
  Task<nodes::NodeRecord> found = require(p, who);
  nodes::NodeRecord n = co_await std::move(found);
  json j = view(n);
  Task<std::optional<nodes::PendingPairing>> pending = s_.store.pending_for_node(n.node_id);
  std::optional<nodes::PendingPairing> request = co_await std::move(pending);
  if (request && request->reapproval) j["pendingReapproval"] = reapproval_view(*request);
  co_return ok({{"node", j}});
}

Task<CallResult> NodeMethods::rename(CallContext c, json p) {
  std::string name = params::required_string(p, "name");
  Task<nodes::NodeRecord> found = require_managed(c, p, "rename");
  nodes::NodeRecord target = co_await std::move(found);
  Task<nodes::NodeRecord> renamed = s_.store.rename(target.node_id, name);
  nodes::NodeRecord n = co_await std::move(renamed);
  json node = view(n);
  s_.events.updated(node);
  co_return ok({{"node", node}});
}

Task<CallResult> NodeMethods::tag(CallContext c, json p) {
  auto it = p.find("tags");
  if (it == p.end() || !it->is_array())
    throw api::invalid("params.tags must be an array of strings", {{"param", "tags"}});
  std::vector<std::string> tags;
  for (const auto& t : *it) {
    if (!t.is_string())
      throw api::invalid("params.tags must be an array of strings", {{"param", "tags"}});
    tags.push_back(t);
  }
  Task<nodes::NodeRecord> found = require_managed(c, p, "tag");
  nodes::NodeRecord target = co_await std::move(found);
  Task<nodes::NodeRecord> tagged = s_.store.set_tags(target.node_id, tags);
  nodes::NodeRecord n = co_await std::move(tagged);
  s_.router.update_tags(n.node_id, n.tags);  // routing sees the new tags at once
  json node = view(n);
  s_.events.updated(node);
  co_return ok({{"node", node}});
}

Task<CallResult> NodeMethods::revoke(CallContext c, json p) {
  Task<nodes::NodeRecord> found = require_managed(c, p, "revoke");
  nodes::NodeRecord target = co_await std::move(found);
  Task<nodes::NodeRecord> revoked = s_.store.revoke(target.node_id);
  nodes::NodeRecord n = co_await std::move(revoked);
  // The token is gone from storage first, then the socket: a reconnect in between fails.
  int closed = s_.router.disconnect(n.node_id, "the node was revoked by an operator");
  s_.events.revoked(n);
  co_return ok({{"revoked", true}, {"closedConnections", closed}, {"node", view(n)}});
}

Task<CallResult> NodeMethods::invoke(CallContext c, json p) {
  std::string command = params::required_string(p, "command");
  auto given = p.find("params");
  json args = given == p.end() ? json(nullptr) : std::move(*given);
  int64_t ms = params::optional_int(p, "timeoutMs", s_.default_invoke_timeout.count());
  if (ms <= 0 || ms > s_.max_invoke_timeout.count()) {
    throw api::invalid(
        "timeoutMs must be from 1 to " + std::to_string(s_.max_invoke_timeout.count()),
        {{"param", "timeoutMs"}});
  }
  // The hot path: the local admin invoking a bridge node connected under that very id needs no
  // registry read. Operators' org roles are read from storage on every call.
  std::string id = params::required_string(p, "node");
  const bool admin = c.principal.role == Role::LocalAdmin;
  const nodes::ConnectedNode* live = admin ? s_.router.find(id) : nullptr;
  if (live == nullptr || live->kind != "bridge") {
    const EventAudience everything{true, true, {}};  // named: the coroutine holds a reference
    Task<nodes::NodeRecord> found =
        admin ? require(p, everything) : require_managed(c, p, "invoke");
    nodes::NodeRecord target = co_await std::move(found);
    if (target.kind == "agent") {
      Task<repo::Org> find = s_.repo.require_org(target.org_id);
      repo::Org org = co_await std::move(find);
      throw node_host_invoked(target, org.name, command);
    }
    id = target.node_id;
  }
  std::string args_json =
      args.is_null() ? std::string() : json_write::dump(args, json::error_handler_t::replace);
  Task<CallResult> sent = send_invoke(std::move(id), std::move(command), std::move(args_json), ms);
  CallResult answer = co_await std::move(sent);
  co_return answer;
}

// How nodes.invoke answers, the same whichever way it came: a node's answer wrapped as
// {"ok":true,"payload":<the node's text>}, a failure naming the node and the command.
constexpr std::string_view kInvokeOkHead = R"({"ok":true,"payload":)";
api::ApiError invoke_failure(const nodes::InvokeResult& r, const std::string& node_id,
                             const std::string& command) {
  return api::ApiError(r.error_code.empty() ? "UNAVAILABLE" : r.error_code, r.error_message,
                       {{"node", node_id}, {"command", command}});
}

// A hot nodes.invoke waiting for its node: the one allocation such an invoke makes in the core
// for itself. It answers the caller and frees itself when the router tells it the outcome.
class InvokeAnswer final : public nodes::InvokeWaiter {
 public:
  InvokeAnswer(TextReply reply, std::string node_id, std::string command)
      : reply_(std::move(reply)), node_id_(std::move(node_id)), command_(std::move(command)) {}
  const std::string& node_id() const noexcept { return node_id_; }
  const std::string& command() const noexcept { return command_; }

  void invoke_done(nodes::InvokeResult&& r) override {
    std::unique_ptr<InvokeAnswer> self(this);
    if (r.ok) {
      // The node's answer spliced as the text it sent.
      reply_.payload({kInvokeOkHead, r.payload_json, "}"});
      return;
    }
    reply_.error(invoke_failure(r, node_id_, command_));
  }

 private:
  TextReply reply_;
  std::string node_id_;
  std::string command_;
};

bool NodeMethods::invoke_text(const Principal& who, const json_scan::Object& params,
                              TextReply& reply) {
  if (who.role != Role::LocalAdmin) return false;
  if (params.has_escaped_key() || params.has_duplicate_key()) return false;
  const json_scan::Value* node = params.find("node");
  const json_scan::Value* command = params.find("command");
  if (node == nullptr || command == nullptr) return false;
  const std::optional<std::string_view> node_id = node->plain_string();
  const std::optional<std::string_view> name = command->plain_string();
  if (!node_id || node_id->empty() || !name || name->empty()) return false;
  int64_t ms = s_.default_invoke_timeout.count();
  if (const json_scan::Value* t = params.find("timeoutMs")) {
    const std::optional<int64_t> given = t->int64();
    if (!given || *given <= 0 || *given > s_.max_invoke_timeout.count()) return false;
    ms = *given;
  }
  std::string id(*node_id);
  const nodes::ConnectedNode* live = s_.router.find(id);
  if (live == nullptr || live->kind != "bridge") return false;
  std::string_view params_json;
  if (const json_scan::Value* a = params.find("params");
      a != nullptr && a->kind != json_scan::Kind::Null)
    params_json = a->raw;
  auto* answer = new InvokeAnswer(std::move(reply), std::move(id), std::string(*name));
  s_.router.start_invoke(answer->node_id(), answer->command(), params_json,
                         std::chrono::milliseconds(ms), *answer);
  return true;
}

Task<CallResult> NodeMethods::send_invoke(std::string id, std::string command,
                                          std::string params_json, int64_t timeout_ms) {
  Task<nodes::InvokeResult> t =
      s_.router.invoke(id, command, std::move(params_json), std::chrono::milliseconds(timeout_ms));
  nodes::InvokeResult r = co_await std::move(t);
  if (!r.ok) throw invoke_failure(r, id, command);
  CallResult answer;
  answer.payload_json.reserve(kInvokeOkHead.size() + r.payload_json.size() + 1);
  answer.payload_json.append(kInvokeOkHead).append(r.payload_json).push_back('}');
  co_return answer;
}

Task<CallResult> NodeMethods::remove(CallContext c, json p) {
  auto given = p.find("force");
  if (given != p.end() && !given->is_null() && !given->is_boolean())
    throw api::invalid("params.force must be a boolean", {{"param", "force"}});
  const bool force = given != p.end() && given->is_boolean() && given->get<bool>();
  Task<nodes::NodeRecord> found = require_managed(c, p, "delete");
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
  s_.events.removed(gone.node_id, gone.org_id);
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
  t.add({"nodes.pending", kPeople, "Pairing requests waiting for a decision.",
         bind(&NodeMethods::pending)});
  t.add({"nodes.approve", kPeople,
         "Approves a pairing request into an org: {requestId, org}; a re-approval (new commands "
         "of a paired node) keeps the node's org: {requestId, org?}.",
         bind(&NodeMethods::approve)});
  t.add({"nodes.reject", kPeople, "Rejects a pairing request: {requestId}.",
         bind(&NodeMethods::reject)});
  t.add({"nodes.list", kPeople, "Paired nodes, online or not: {org?}.", bind(&NodeMethods::list)});
  t.add({"nodes.describe", kPeople, "One node: {node}.", bind(&NodeMethods::describe)});
  t.add({"nodes.rename", kPeople, "Sets a node's display name: {node, name}.",
         bind(&NodeMethods::rename)});
  t.add({"nodes.tag", kPeople, "Replaces a node's operator tags: {node, tags}.",
         bind(&NodeMethods::tag)});
  t.add({"nodes.revoke", kPeople,
         "Revokes a node: its token stops working and its sockets close: {node}.",
         bind(&NodeMethods::revoke)});
  t.add({"nodes.invoke", kPeople,
         "Runs a command the node declared: {node, command, params?, timeoutMs?}.",
         bind(&NodeMethods::invoke), /*concurrent=*/true,
         [m](const Principal& who, const json_scan::Object& p, TextReply& reply) {
           return m->invoke_text(who, p, reply);
         }});
  t.add({"nodes.delete", kPeople,
         "Deletes a node from the registry (its token with it): {node, force?}; an online node "
         "only with force (revoked, disconnected, then deleted).",
         bind(&NodeMethods::remove)});
}

}  // namespace vespid::core
