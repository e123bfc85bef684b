#include "scenario_common.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "operator_client.hpp"

namespace vespid::bench {

void note(const std::string& what) {
  std::fprintf(stderr, "vespid-bench: %s\n", what.c_str());
}

std::vector<NodeCred> ensure_bridge_creds(GatewayRunner& gw, IoPool& pool, int n) {
  auto have = gw.bridge_nodes();
  if (static_cast<int>(have.size()) < n) {
    note("pairing " + std::to_string(n - have.size()) + " bridge nodes");
    BridgeFleet pairing(pool, gw.bridge_port());
    // In batches, each saved as it is paired, so an interrupted run keeps what it paired
    // (pairing itself is linear: `vespid-bench pairing` measures it all at once).
    constexpr int kBatch = 500;
    for (int first = static_cast<int>(have.size()); first < n; first += kBatch) {
      std::vector<std::string> ids;
      for (int i = first; i < std::min(n, first + kBatch); ++i) {
        ids.push_back("bench-" + std::to_string(i));
      }
      gw.add_bridge_nodes(pairing.pair(ids, gw.socket_path(), gw.org_id()));
    }
    pairing.close_all();
    have = gw.bridge_nodes();
  }
  have.resize(static_cast<std::size_t>(n));
  return have;
}

std::vector<WsCred> ensure_ws_creds(GatewayRunner& gw, int n) {
  auto have = gw.ws_hosts();
  if (static_cast<int>(have.size()) < n) {
    note("pairing " + std::to_string(n - have.size()) + " node hosts");
    // In batches of 100 (tokens made, then used), each saved as it is paired.
    constexpr int kBatch = 100;
    while (static_cast<int>(have.size()) < n) {
      const int batch = std::min(kBatch, n - static_cast<int>(have.size()));
      gw.add_ws_hosts(WsFleet::pair(batch, gw.socket_path(), gw.org_id(), gw.api_port()));
      have = gw.ws_hosts();
    }
  }
  have.resize(static_cast<std::size_t>(n));
  return have;
}

namespace {
void check(const ConnectStats& st, const std::string& what) {
  if (st.online == st.wanted) return;
  std::string why;
  for (const auto& [r, k] : st.reasons) why += " " + r + " ×" + std::to_string(k) + ";";
  throw std::runtime_error(what + ": only " + std::to_string(st.online) + " of " +
                           std::to_string(st.wanted) + " came online;" + why);
}
}  // namespace

void connect_or_throw(BridgeFleet& fleet, const std::vector<NodeCred>& creds) {
  check(fleet.connect_all(creds, 120, 512), "connecting bridge nodes");
}

void connect_or_throw(WsFleet& fleet, const std::vector<WsCred>& creds) {
  check(fleet.connect_all(creds, 120, 512), "connecting node hosts");
}

RunDir::RunDir(const CommonOptions& c, const std::string& name) {
  if (c.gateway.attach) throw std::runtime_error("--attach: this scenario starts its own gateways");
  std::string parent = "/tmp";
  if (!c.gateway.state_dir.empty()) {
    parent = std::filesystem::absolute(c.gateway.state_dir).string();
    std::filesystem::create_directories(parent);
    keep_ = true;
  }
  std::string tmpl = parent + "/vespid-bench-" + name + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp(" + tmpl + ") failed");
  path_ = tmpl;
}

RunDir::~RunDir() {
  if (keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void use_postgres(GatewayOptions& g, const std::string& conninfo, const std::string& schema) {
  g.storage_plugin = "postgres";
  g.storage_config = {{"conninfo", conninfo}, {"schema", schema}};
}

std::string member_token(const GatewayRunner& gw, const std::string& user) {
  auto admin = cli::OperatorClient::connect(gw.socket_path());
  try {
    admin.call("users.create", {{"name", user}, {"org", gw.org_id()}, {"role", "member"}});
  } catch (const cli::OperatorError& e) {
    if (e.code != "CONFLICT") throw;  // made by an earlier run on this state directory
  }
  return admin.call("tokens.create", {{"user", user}, {"name", user}})["token"];
}

nlohmann::json setup_facts(const CommonOptions& c) {
  double load[3] = {0, 0, 0};
  if (std::ifstream in("/proc/loadavg"); in) in >> load[0] >> load[1] >> load[2];
  nlohmann::json facts = {{"clientThreads", c.threads},
                          {"payloadBytes", c.size},
                          {"warmupS", c.warmup_s},
                          {"durationS", c.duration_s},
                          {"cpus", sysconf(_SC_NPROCESSORS_ONLN)},
                          {"loadAvg1m", load[0]}};
  if (!c.client_cpus.empty()) facts["clientCpus"] = c.client_cpus;
  if (!c.server_cpus.empty()) facts["serverCpus"] = c.server_cpus;
  return facts;
}

int finish(const Report& r, const CommonOptions& c, bool failed) {
  if (c.json) {
    std::printf("%s\n", r.json_text().c_str());
  } else {
    r.print_text();
  }
  return failed ? 1 : 0;
}

}  // namespace vespid::bench
