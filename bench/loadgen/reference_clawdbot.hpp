// The Clawdbot reference gateway as an invoke target (issue 17): its bridge nodes paired through
// its own APIs, and callers on its gateway WebSocket calling node.invoke.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "baselines.hpp"
#include "bridge_fleet.hpp"
#include "io_pool.hpp"
#include "reference.hpp"

namespace vespid::bench {

// The first n bridge nodes' credentials on the reference (ids ref-bench-<i>), pairing those
// that r.node_tokens does not hold yet: each sends pair-request on the bridge, an operator
// connection approves them (node.pair.list, node.pair.approve), and the node gets pair-ok and
// hello-ok. The tokens are appended to r.node_tokens. Newly paired nodes are closed again.
std::vector<NodeCred> clawdbot_bridge_creds(IoPool& pool, const ReferenceOptions& r, int n);

// `callers` operator connections on the reference's gateway WebSocket, each calling node.invoke
// on `nodes` round robin from a different node.
Target clawdbot_invoke_target(IoPool& pool, const ReferenceOptions& r,
                              std::shared_ptr<const std::vector<std::string>> nodes,
                              std::string payload);

}  // namespace vespid::bench
