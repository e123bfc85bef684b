// Loading the gateway's configuration: defaults, then the JSON file (comments allowed), then
// VESPID_* environment variables, then command-line flags. Errors name the key path and the
// expected type, so a typo in a 200-line file is one glance away from fixed.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace vespid::config {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PluginInstance {
  std::string name;    // unique, [a-z0-9_-]
  std::string plugin;  // plugin id, or "module/plugin" to disambiguate
  nlohmann::json config = nlohmann::json::object();
  bool required = true;  // a required instance that fails to load or start stops the gateway
  // Its index in the configured list, for messages ("plugins.instances[3]"): the same as in
  // GatewayConfig::instances unless instances in error were left out (load_reporting_all).
  size_t position = 0;
};

struct GatewayConfig {
  std::string state_dir;
  std::string log_level;
  std::string log_format;
  std::map<std::string, std::string> log_components;
  std::vector<std::string> plugin_dirs;
  std::vector<PluginInstance> instances;
  int storage_max_batch = 0;
  bool storage_defer_syncs = true;
  int storage_queue_depth = 0;
  int max_connections = 0;
  int max_anonymous_per_peer = 0;
  int connection_queue_depth = 0;
  int shutdown_timeout_ms = 0;

  // Typed reads of any schema key by path, for settings that need no field of their own.
  int64_t integer(const std::string& path) const;
  std::string string(const std::string& path) const;
  bool boolean(const std::string& path) const;
  std::vector<std::string> strings(const std::string& path) const;  // a StringList key

  nlohmann::json effective;  // every key, after all layers; secrets included (see masked())
  std::vector<std::string> warnings;  // worth logging, not worth refusing to start
  // Every problem found, one "config error: <key>: ..." line each (load_reporting_all only;
  // load throws instead). A key in error keeps its default.
  std::vector<std::string> errors;
  std::string source;  // the file it came from, or "(defaults)"
};

struct LoadOptions {
  std::string file;                             // empty: no file
  std::map<std::string, std::string> env;       // VESPID_* variables to apply
  std::map<std::string, nlohmann::json> flags;  // command-line overrides by key path
};

// Reads the process environment's VESPID_* variables.
std::map<std::string, std::string> process_env();

// Throws ConfigError naming every problem (one line each) when there is any.
GatewayConfig load(const LoadOptions& options);
// Never throws for what the file or the environment says: the problems are in `errors`, and
// the rest of the configuration is still there to check (`vespid-gateway config check`).
GatewayConfig load_reporting_all(const LoadOptions& options);

// The effective configuration with secrets replaced by "********".
nlohmann::json masked(const GatewayConfig& cfg);

// Looks up a dotted path in the effective config; nullptr if absent or secret.
const nlohmann::json* lookup_public(const GatewayConfig& cfg, const std::string& path);

}  // namespace vespid::config
