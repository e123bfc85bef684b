// The worker's settings from flags and environment, checked, and turned into what the rest
// uses: the gateway endpoint with its token, and the worker's settings.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "gateway_api.hpp"
#include "worker_loop.hpp"

namespace vespid::worker {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitConfig = 3;

// Wrong or missing flags: exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A token file or CA file that cannot be used: exit 3.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct WorkerOptions {
  std::string gateway;     // empty: $VESPID_GATEWAY_URL, else kDefaultGatewayUrl
  std::string ca_file;     // empty: $VESPID_CA_FILE, else the system's CAs
  std::string token_file;  // empty: $VESPID_INTERNAL_TOKEN
  std::string id;          // empty: <hostname>-<pid>
  int concurrency = 4;
  int64_t lease_ms = 30'000;
  int64_t max_node_timeout_ms = 600'000;
  std::string log_level;  // empty: $VESPID_WORKER_LOG_LEVEL, else info
};

// The gateway's HTTP API listener, which serves /internal/v1 (etc/vespid.json: "api", 3001).
inline constexpr const char* kDefaultGatewayUrl = "http://127.0.0.1:3001";

// The internal token: the first line of --token-file (trailing blanks dropped), else
// $VESPID_INTERNAL_TOKEN. Throws UsageError when neither is given, ConfigError when the file
// cannot be read or is empty. `warning` is set when the file is readable by others.
std::string load_token(const WorkerOptions& o, std::string* warning);

// The gateway endpoint for the URL (http or https, with an optional base path).
// Throws UsageError for a URL that is not one.
GatewayEndpoint gateway_endpoint(const WorkerOptions& o, std::string token);

// <hostname>-<pid>, at most 200 characters (the gateway's limit on workerId).
std::string default_worker_id();

WorkerSettings worker_settings(const WorkerOptions& o);

std::string worker_version();

}  // namespace vespid::worker
