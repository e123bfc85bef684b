// The commands of vespid-agent. Each returns the process exit code.
//
// Exit codes: 0 ok; 1 failed (pairing refused, an exec that failed); 2 usage; 3 configuration
// or credentials problem, or the API unreachable; 4 the gateway refused the agent token.
#pragma once

#include <string>
#include <vector>

#include "mdns_browse.hpp"

namespace vespid::agent {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitConfig = 3;
inline constexpr int kExitRefused = 4;

struct CommonOptions {
  std::string config;  // --config; empty: $VESPID_AGENT_CONFIG, else ~/.vespid/agent.json
};

// How to browse for gateways (`discover`, `connect --discover`).
struct BrowseOptions {
  std::string type = "_vespid-gw._tcp";
  int timeout_ms = 3000;
  Browser browser = default_browser();  // --browser / VESPID_AGENT_BROWSER
};

struct DiscoverOptions {
  BrowseOptions browse;
  bool json = false;
};

struct ConnectOptions {
  std::string pairing_token, api, name;
  std::vector<std::string> gateways;  // --gateway: URLs to save instead of the announced one
  std::vector<std::string> tags;
  int max_in_flight = 10;
  bool discover = false;     // find the API by Bonjour instead of --api
  std::string gateway_name;  // --gateway-name: which discovered gateway
  BrowseOptions browse;
  // Pair again although credentials are saved: a new node host replaces the saved one (the old
  // entry stays on the gateway until `vespid nodes rm`).
  bool force = false;
};

// Where `connect` pairs, and which TLS pins come with it (tls_pin.hpp).
struct PairingTarget {
  std::string api_url;
  std::string api_pin;            // SHA-256 for api_url (https); empty: CA verification
  std::string gateway_pin;        // SHA-256 of the discovered /ws listener; empty: none
  std::string discovered_ws_url;  // that listener's URL: the pin is kept only for it
};

struct StartOptions {
  std::vector<std::string> gateways;  // --gateway: URLs instead of the saved ones
  std::string name;
  std::vector<std::string> tags;
  bool tags_given = false;
  int max_in_flight = 10;
  int ping_interval_ms = 15'000;
  int idle_timeout_ms = 45'000;
  int reconnect_min_ms = 500;
  int reconnect_max_ms = 30'000;
  int echo_delay_ms = -1;  // -1: $VESPID_AGENT_ECHO_DELAY_MS, else 20
};

struct ExecOptions {
  std::string payload;  // a file, or "-" for stdin
  std::string kind = "agent.run";
  std::string request_id = "local-1";
  int echo_delay_ms = -1;
};

int cmd_connect(const CommonOptions& common, const ConnectOptions& opts);
int cmd_discover(const DiscoverOptions& opts);
// connect --discover (discover_commands.cpp): finds the target, then pair_and_save.
int cmd_connect_discovered(const CommonOptions& common, const ConnectOptions& opts);
// The pairing half of `connect`, with or without discovery.
int pair_and_save(const CommonOptions& common, const ConnectOptions& opts,
                  const PairingTarget& target);
int cmd_start(const CommonOptions& common, const StartOptions& opts);
struct StatusOptions {
  bool json = false;
};

int cmd_status(const CommonOptions& common, const StatusOptions& opts);

// `vespid-agent node start`: this machine as a bridge.v1 node (node_command.cpp, docs/agent.md).
struct NodeStartOptions {
  std::string state_file;  // --state-file; empty: next to the credentials file
  std::string host;        // empty: --discover, else the saved gateway, else 127.0.0.1
  int port = 18790;
  bool port_given = false;
  bool tls = false;
  std::string tls_fingerprint;
  std::string tls_ca_file;
  bool discover = false;
  std::string gateway_name;
  BrowseOptions browse{"_vespid-bridge._tcp", 3000};
  std::string name;                // display name; default: saved, else the host name
  std::vector<std::string> allow;  // executables system.run may start (with the file's "allow")
  bool pair_again = false;         // forget the saved token and ask to pair
  int max_output_bytes = 200'000;
  int default_timeout_ms = 30'000;
  int max_timeout_ms = 300'000;
  int max_concurrent = 4;
  int ping_interval_ms = 30'000;
  int idle_timeout_ms = 75'000;
  int reconnect_min_ms = 500;
  int reconnect_max_ms = 30'000;
};

struct NodeStatusOptions {
  std::string state_file;
  bool json = false;
};

int cmd_node_start(const CommonOptions& common, const NodeStartOptions& opts);
int cmd_node_status(const CommonOptions& common, const NodeStatusOptions& opts);
int cmd_exec(const ExecOptions& opts);

// The version this node host reports (agentVersion).
const char* agent_version();

}  // namespace vespid::agent
