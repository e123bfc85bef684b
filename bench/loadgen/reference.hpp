// The reference gateways (issue 17): the Node.js implementations this gateway is wire-compatible
// with, started by hand from their public sources (docs/performance.md, "The reference
// gateways, side by side"). `dispatch --reference vespid-v1` and `invoke --reference clawdbot`
// drive the same load against one of them as against this gateway, back to back in one run,
// and list this gateway's figures next to the reference's with the ratios. The bench only
// connects to them, on 127.0.0.1; it neither builds nor starts them.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "baselines.hpp"
#include "options.hpp"

namespace vespid::bench {

struct ReferenceOptions {
  std::string name;  // "" (none), "vespid-v1" (dispatch) or "clawdbot" (invoke)
  // vespid-v1: its gateway's one port (HTTP and /ws); clawdbot: its gateway WebSocket's port.
  int port = 0;
  // vespid-v1: GATEWAY_SERVICE_TOKEN (sent as x-gateway-token); clawdbot: gateway.auth.token.
  std::string token;
  // vespid-v1: a file with one node-host token per line (<orgId>.<secret>, made as the doc
  // says); the org of the dispatches is the first token's prefix.
  std::string agent_tokens;
  // clawdbot: the bridge's TCP port, and a file where the bench keeps the tokens of the bridge
  // nodes it paired (pair-request, then node.pair.approve over the gateway WebSocket), so later
  // runs reuse them.
  int bridge_port = 0;
  std::string node_tokens = "/tmp/vespid-bench-clawdbot-nodes.txt";
  // The reference's server process (its CPU and memory), and processes whose CPU, with their
  // descendants', counts too (its PostgreSQL postmaster and Redis).
  pid_t pid = -1;
  std::vector<int> cpu_trees;

  bool any() const { return !name.empty(); }
};

// The reference's CPU seconds beyond its main process: the summed CPU of `cpu_trees` (NaN
// when one of them is gone); empty when there are none.
std::function<double()> reference_more_cpu(const ReferenceOptions& r);

// This gateway's figures next to the reference's (target `ref`), run by run: throughput, p50,
// p99 and the servers' CPU per request.
void add_reference_ratios(Report& report, const std::string& ref, const std::vector<RunPlan>& plan);

// `dispatch` and `invoke` with a reference beside the gateway.
int run_reference_dispatch(const CommonOptions& c, const DispatchOptions& o,
                           const ReferenceOptions& r);
int run_reference_invoke(const CommonOptions& c, const InvokeOptions& o, const ReferenceOptions& r);

}  // namespace vespid::bench
