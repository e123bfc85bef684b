// Operator methods over nodes: pairing decisions, the registry, invoke.
#pragma once

#include <chrono>

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

struct NodeServices {
  repo::Repository& repo;
  nodes::NodeStore& store;
  nodes::NodeRouter& router;
  nodes::PairingDecisions& decisions;  // so a node waiting for the decision hears it at once
  std::chrono::milliseconds default_invoke_timeout;
  std::chrono::milliseconds max_invoke_timeout;
};

void register_node_methods(MethodTable& table, NodeServices services);

}  // namespace vespid::core
