// How operators see a node: the stored record (nodes::to_public_json) plus what only the live
// gateway knows: how it is connected, since when, on which instance, and in one sentence why it
// is online, offline or revoked (statusReason). Shared by the node methods and node events.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "services/nodes/node_record.hpp"
#include "services/nodes/node_router.hpp"

namespace vespid::core {

// {...to_public_json, transport?, remoteAddress?, statusReason, instance?, connectedAt?}.
// `self` is this gateway's cluster.instance_id (a node held elsewhere says so).
nlohmann::json node_view(const nodes::NodeRecord& n, const nodes::NodeRouter& router,
                         const std::string& self);

// The node.presence payload {nodeId, orgId, kind, status, statusReason, instance?,
// connectedAt?} of a node connected to `instance` (self or another instance).
nlohmann::json presence_online(const nodes::ConnectedNode& live, const std::string& instance,
                               const std::string& self);
// ... of a node whose connection ended (`reason`: the departure's, empty if unknown).
nlohmann::json presence_offline(const nodes::ConnectedNode& node, const std::string& reason);
// ... of a revoked node.
nlohmann::json presence_revoked(const nodes::NodeRecord& n);

}  // namespace vespid::core
