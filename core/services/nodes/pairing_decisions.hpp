// The interface through which an operator's pairing decision reaches the bridge node waiting
// for it. The operator methods that decide live in one dialect (operator.v1), the socket that
// waits in another (bridge.v1); both know this service-level interface, neither knows the other.
#pragma once

#include <string>

#include "services/nodes/node_record.hpp"

namespace vespid::nodes {

class PairingDecisions {
 public:
  virtual ~PairingDecisions() = default;
  // Thread: the Sequencer. The request of `node.node_id` was approved; `token` is shown once.
  virtual void pairing_approved(const NodeRecord& node, const std::string& token) = 0;
  // Thread: the Sequencer. The request of `node_id` was rejected.
  virtual void pairing_rejected(const std::string& node_id) = 0;
};

}  // namespace vespid::nodes
