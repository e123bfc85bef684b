#include "protocols/operator/node_events.hpp"

#include "protocols/operator/node_view.hpp"
#include "protocols/operator/operator_dialect.hpp"
#include "runtime/time.hpp"

namespace vespid::core {

using nlohmann::json;

void NodeEvents::to_org(const std::string& event, const json& payload, const std::string& org_id) {
  ops_.publish(event, payload, [&org_id](const Principal&, const EventAudience& a) {
    return sees_org_events(a, org_id);
  });
}

void NodeEvents::node_attached(const nodes::ConnectedNode& node) {
  to_org("node.presence", presence_online(node, instance_id_, instance_id_), node.org_id);
}

void NodeEvents::node_left(const nodes::ConnectedNode& node, const nodes::Departure& why) {
  to_org("node.presence", presence_offline(node, why.reason), node.org_id);
}

void NodeEvents::remote_presence(const nodes::ConnectedNode& node, const std::string& instance) {
  if (!instance.empty()) {
    to_org("node.presence", presence_online(node, instance, instance_id_), node.org_id);
    return;
  }
  // Dropped from cluster presence because it connected here: already announced as online.
  if (router_.online(node.node_id)) return;
  to_org("node.presence", presence_offline(node, ""), node.org_id);
}

void NodeEvents::updated(const json& node_view) {
  to_org("node.updated", {{"node", node_view}}, node_view.value("orgId", ""));
}

void NodeEvents::removed(const std::string& node_id, const std::string& org_id) {
  to_org("node.removed", {{"nodeId", node_id}, {"orgId", org_id}}, org_id);
}

void NodeEvents::revoked(const nodes::NodeRecord& node) {
  to_org("node.presence", presence_revoked(node), node.org_id);
}

void NodeEvents::pairing_requested(const json& request) {
  const bool reapproval = request.value("reapproval", false);
  const std::string org_id = request.value("orgId", "");
  ops_.publish("node.pair.requested", request,
               [reapproval, &org_id](const Principal&, const EventAudience& a) {
                 return sees_pairing(a, reapproval, org_id);
               });
}

void NodeEvents::pairing_resolved(const json& resolved) {
  const std::string request_id = resolved.value("requestId", "");
  if (!request_id.empty() && !resolved_.count(request_id)) {
    json remembered = resolved;
    remembered["at"] = util::now_iso8601();
    resolved_[request_id] = std::move(remembered);
    resolved_order_.push_back(request_id);
    if (resolved_order_.size() > kRemembered) {
      resolved_.erase(resolved_order_.front());
      resolved_order_.pop_front();
    }
  }
  const bool reapproval = resolved.value("reapproval", false);
  // A re-approval's audience is its node's org; a first-time request had none until approved.
  const std::string org_id = reapproval ? resolved.value("orgId", "") : std::string();
  ops_.publish("node.pair.resolved", resolved,
               [reapproval, &org_id](const Principal&, const EventAudience& a) {
                 return sees_pairing(a, reapproval, org_id);
               });
}

std::optional<json> NodeEvents::resolution(const std::string& request_id) const {
  auto it = resolved_.find(request_id);
  if (it == resolved_.end()) return std::nullopt;
  return it->second;
}

json pairing_ended(const std::string& node_id, const std::string& request_id,
                   const std::string& how) {
  return {
      {"requestId", request_id},
      {"nodeId", node_id},
      {"decision", "expired"},
      {"reapproval", false},
      {"reason", how == "expired" ? "no operator decided within pairing.ttl_ms"
                                  : "the node disconnected (or asked again) before a decision"}};
}

}  // namespace vespid::core
