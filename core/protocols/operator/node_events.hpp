// The node events operators hear on operator.v1, and who hears them (event_audience.hpp):
//
//   node.pair.requested  a nodes.pending entry            first-time: gateway administrators;
//   node.pair.resolved   {requestId, nodeId, decision,    re-approval: the org's owners and
//                         reapproval, orgId?, node?,      admins (and always the local admin)
//                         reason?}
//   node.presence        {nodeId, orgId, kind, status,    members of the node's org (and the
//                         statusReason, instance?,        local admin)
//                         connectedAt?}
//   node.updated         {node}                           the same
//   node.removed         {nodeId, orgId}                  the same
//
// Presence comes from the local router (nodes connected here) and from cluster presence (nodes
// other instances hold); pairing events come through the cluster fan-out, so operators on every
// instance hear them. It also remembers how recent requests ended, so that deciding on one that
// is gone says what happened to it instead of a bare "unknown requestId".
//
// Thread: the Sequencer.
#pragma once

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>

#include "services/nodes/node_record.hpp"
#include "services/nodes/node_router.hpp"

namespace vespid::core {

class OperatorDialect;

class NodeEvents final : public nodes::NodeRouterObserver {
 public:
  NodeEvents(OperatorDialect& ops, const nodes::NodeRouter& router, std::string instance_id)
      : ops_(ops), router_(router), instance_id_(std::move(instance_id)) {}

  // NodeRouterObserver (the local router): presence of nodes connected here.
  void node_attached(const nodes::ConnectedNode& node) override;
  void node_detached(const std::string& node_id) override { (void)node_id; }
  void node_left(const nodes::ConnectedNode& node, const nodes::Departure& why) override;
  void node_updated(const nodes::ConnectedNode& node) override { (void)node; }
  // Cluster presence: `node` is now held by `instance`, or by nobody (`instance` empty).
  void remote_presence(const nodes::ConnectedNode& node, const std::string& instance);

  // After an operator changed a node (its operator view, node_view.hpp).
  void updated(const nlohmann::json& node_view);
  void removed(const std::string& node_id, const std::string& org_id);
  void revoked(const nodes::NodeRecord& node);

  // From the cluster fan-out: this instance's and the other instances' pairing news.
  void pairing_requested(const nlohmann::json& request);
  void pairing_resolved(const nlohmann::json& resolved);

  // How a request that is no longer pending ended, if it ended recently (the last few hundred):
  // its node.pair.resolved payload plus `at` (ISO 8601).
  std::optional<nlohmann::json> resolution(const std::string& request_id) const;

 private:
  void to_org(const std::string& event, const nlohmann::json& payload, const std::string& org_id);

  static constexpr size_t kRemembered = 512;
  OperatorDialect& ops_;
  const nodes::NodeRouter& router_;
  const std::string instance_id_;
  std::unordered_map<std::string, nlohmann::json> resolved_;
  std::deque<std::string> resolved_order_;  // oldest first, to forget beyond kRemembered
};

// The node.pair.resolved payload for a request that ended without a decision: "expired"
// (pairing.ttl_ms passed) or "withdrawn" (the node disconnected or asked again under another
// id), both as decision "expired" with `reason` saying which.
nlohmann::json pairing_ended(const std::string& node_id, const std::string& request_id,
                             const std::string& how);

}  // namespace vespid::core
