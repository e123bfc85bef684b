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

// The directory a scenario with throwaway services (PostgreSQL, nats-server) runs in: fresh
// every run, since the gateways' state directories must match the fresh database. Under
// --state-dir when given (and then kept, for the logs), else in /tmp and removed at the end.
class RunDir {
 public:
  RunDir(const CommonOptions& c, const std::string& name);
  ~RunDir();
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  bool keep_ = false;
};

// Points a gateway's storage at the bench's PostgreSQL, in `schema`.
void use_postgres(GatewayOptions& g, const std::string& conninfo, const std::string& schema);

// A member of the gateway's org and an access token for it (control clients act as users).
std::string member_token(const GatewayRunner& gw, const std::string& user);

// Machine and run facts for the report header.
nlohmann::json setup_facts(const CommonOptions& c);

// Prints (text or JSON) and returns the exit code: 0, or 1 when `failed`.
int finish(const Report& r, const CommonOptions& c, bool failed);

void note(const std::string& what);

}  // namespace vespid::bench
