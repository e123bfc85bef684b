// Operator methods over nodes: pairing decisions, the registry, invoke.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "protocols/method_table.hpp"

namespace vespid::nodes {
class NodeStore;
class NodeRouter;
class PairingDecisions;
}  // namespace vespid::nodes
namespace vespid::repo {
class Repository;
}

namespace vespid::core {

class NodeEvents;

// Who may call what (docs/operator-protocol.md, "Roles"): the local admin everything; an
// operator within the orgs they belong to: members list and describe, owners and admins change,
// revoke, delete and invoke; pairing decisions per node_methods.cpp's pairing rules. A node of an
// org the caller is not in is NOT_FOUND, never FORBIDDEN.
struct NodeServices {
  repo::Repository& repo;
  nodes::NodeStore& store;
  nodes::NodeRouter& router;
  nodes::PairingDecisions& decisions;  // so a node waiting for the decision hears it at once
  std::chrono::milliseconds default_invoke_timeout;
  std::chrono::milliseconds max_invoke_timeout;
  NodeEvents& events;  // node.updated, node.removed, node.presence (revoked)
  // node.pair.resolved, on every instance (the cluster fan-out).
  std::function<void(const nlohmann::json& resolved)> announce_resolved;
  std::string instance_id;  // this gateway's cluster.instance_id, for the node view
};

void register_node_methods(MethodTable& table, NodeServices services);

}  // namespace vespid::core
