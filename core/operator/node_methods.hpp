// Operator methods over nodes: pairing decisions, the registry, invoke.
#pragma once

#include <chrono>

#include "operator/method_table.hpp"

namespace vespid::nodes {
class NodeStore;
class NodeRouter;
}  // namespace vespid::nodes
namespace vespid::repo {
class Repository;
}

namespace vespid::core {

class BridgeDialect;

struct NodeServices {
  repo::Repository& repo;
  nodes::NodeStore& store;
  nodes::NodeRouter& router;
  BridgeDialect& bridge;  // told about pairing decisions so a waiting node hears at once
  std::chrono::milliseconds default_invoke_timeout;
  std::chrono::milliseconds max_invoke_timeout;
};

void register_node_methods(MethodTable& table, NodeServices services);

}  // namespace vespid::core
