// Setup that several scenarios share: paired and connected nodes, the run's facts.
#pragma once

#include <string>
#include <vector>

#include "bridge_fleet.hpp"
#include "gateway_runner.hpp"
#include "options.hpp"
#include "report.hpp"
#include "ws_fleet.hpp"

namespace vespid::bench {

// The first n bridge nodes' credentials, pairing those the state directory does not have yet.
// Newly paired nodes are closed again, so every node is offline afterwards.
std::vector<NodeCred> ensure_bridge_creds(GatewayRunner& gw, IoPool& pool, int n);
// The same for /ws node hosts.
std::vector<WsCred> ensure_ws_creds(GatewayRunner& gw, int n);

// Connects the nodes (at most 512 connects in flight: setup, not what is measured) and throws
// unless all of them came online.
void connect_or_throw(BridgeFleet& fleet, const std::vector<NodeCred>& creds);
void connect_or_throw(WsFleet& fleet, const std::vector<WsCred>& creds);

// Machine and run facts for the report header.
nlohmann::json setup_facts(const CommonOptions& c);

// Prints (text or JSON) and returns the exit code: 0, or 1 when `failed`.
int finish(const Report& r, const CommonOptions& c, bool failed);

void note(const std::string& what);

}  // namespace vespid::bench
