// Operator methods for node hosts and dispatch, so the local CLI (`vespid dispatch`,
// `vespid agents pairing-token`) reaches the same services as the REST API and the workers.
//
// agents.pairingToken (org admins, local admin)
//   {org} -> {token, orgId, expiresAt}
// dispatch.submit (local admin)
//   {<dispatch-async body>} -> {requestId, dispatched, cached?, agentId?}; organizationId and
//   requestedByUserId may be names; requestedByUserId must be a member of the org and may be
//   left out only by a caller that is a user (the local admin socket is none)
// dispatch.result (local admin)
//   {requestId} -> {requestId, ready, result?}
#pragma once

#include "protocols/method_table.hpp"

namespace vespid::repo {
class Repository;
}
namespace vespid::node_hosts {
class NodeHostStore;
}
namespace vespid::dispatch {
class Dispatcher;
struct RequestLimits;
}  // namespace vespid::dispatch

namespace vespid::core {

struct DispatchMethodServices {
  repo::Repository& repo;
  node_hosts::NodeHostStore& agents;
  dispatch::Dispatcher& dispatcher;
  int64_t max_timeout_ms;
};

void register_dispatch_methods(MethodTable& table, DispatchMethodServices services);

}  // namespace vespid::core
