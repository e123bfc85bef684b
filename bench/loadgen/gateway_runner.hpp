// The gateway under test: started by the bench with a bench config in a state directory (kept,
// so paired nodes and their tokens are reused by later runs), or attached to when one is
// already running on that directory. What the bench learned (ports, org, internal token, node
// tokens) is kept in <state_dir>/bench.json.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bridge_fleet.hpp"
#include "child_process.hpp"

namespace vespid::bench {

struct GatewayOptions {
  std::string gateway_bin;  // empty: vespid-gateway next to this binary
  std::string plugin_dir;   // empty: <bin>/../lib/vespid/plugins
  std::string state_dir;    // empty: a fresh temporary directory, removed at the end
  std::string log_level = "warn";
  int io_threads = 1;    // `threads` of the bridge and ws listeners (the shipped default: 1)
  int busy_poll_us = 0;  // `busy_poll_us` of the bridge listeners (the shipped default: 0)
  bool attach = false;   // use the gateway already running on state_dir
  // The storage instance's plugin and config; default: SQLite in the state directory. The
  // cluster and storage scenarios point it at the bench's PostgreSQL instead.
  std::string storage_plugin = "sqlite";
  nlohmann::json storage_config = nlohmann::json::object();
  // The SQLite plugin's `synchronous` ("full", its default, or "normal": the WAL is not synced
  // at each commit, so a power loss can lose the last commits but a crash of the gateway
  // cannot); empty: the plugin's default. Ignored for another storage plugin.
  std::string sqlite_synchronous;
  // A bus instance ({"plugin", "config"}); null: none, so the gateway uses its in-process
  // local bus (a gateway alone). The cluster scenario gives its gateways one nats-server.
  nlohmann::json bus = nullptr;
  // Also a TLS bridge listener and a TLS (https/wss) ws listener with the /ws routes, both on
  // the gateway's own certificate (generated into <state_dir>/tls on first start).
  bool tls_listeners = false;
  // Merged into the bench config (RFC 7386) by the scenarios that need more than the defaults
  // (the soak keeps dispatch results for as long as it runs).
  nlohmann::json config_patch = nlohmann::json::object();
};

struct WsCred {
  std::string agent_id;
  std::string token;
};

class GatewayRunner {
 public:
  explicit GatewayRunner(GatewayOptions opts);
  ~GatewayRunner();

  // Starts (or attaches to) the gateway and makes sure org "bench" exists.
  void start();
  void stop();

  pid_t pid() const noexcept { return pid_; }
  const std::string& state_dir() const noexcept { return state_dir_; }
  std::string socket_path() const { return state_dir_ + "/gateway.sock"; }
  int bridge_port() const { return state_["bridgePort"]; }
  int api_port() const { return state_["apiPort"]; }
  int ws_port() const { return state_["wsPort"]; }
  // The TLS listeners (tls_listeners only).
  int bridge_tls_port() const { return state_["bridgeTlsPort"]; }
  int wss_port() const { return state_["wssPort"]; }
  // The certificate the TLS listeners serve: the gateway's default one in its state directory.
  std::string tls_cert_file() const { return state_dir_ + "/tls/gateway.crt"; }
  std::string org_id() const { return state_["orgId"]; }
  std::string internal_token() const { return state_["internalToken"]; }

  // Node credentials kept from earlier runs; pairing more adds to them.
  std::vector<NodeCred> bridge_nodes() const;
  void add_bridge_nodes(const std::vector<NodeCred>& more);
  std::vector<WsCred> ws_hosts() const;
  void add_ws_hosts(const std::vector<WsCred>& more);

 private:
  void write_config(const std::string& path);
  nlohmann::json storage_config() const;  // opts_.storage_config with sqlite_synchronous
  void save();
  void wait_ready();

  GatewayOptions opts_;
  std::string state_dir_;
  bool temp_ = false;
  ChildProcess proc_;
  pid_t pid_ = -1;
  nlohmann::json state_;
};

// The directory this executable lives in.
std::string self_dir();

}  // namespace vespid::bench
