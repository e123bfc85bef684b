// What `vespid-gateway config check` checks beyond the keys: everything `run` would refuse
// short of binding sockets and opening the database. Plugins found and loadable (right ABI), each
// instance's config accepted by its plugin (created, then destroyed without start: the ABI keeps
// create() free of I/O), one storage and at most one bus, the cluster settings that `run`
// checks, and internal routes served beyond loopback (a warning, as at start).
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace vespid::core {

class ModuleCatalog;

struct ProbeReport {
  std::vector<std::string> errors;    // "config error: ..." lines: `run` would not start
  std::vector<std::string> warnings;  // `run` would start and log these at warn
};

ProbeReport probe_configuration(const config::GatewayConfig& cfg,
                                const std::vector<std::string>& plugin_dirs);

// " (did you mean \"x\"?)" for a plugin's `unknown config key "k" (known keys: a, b)` message,
// or "" when the message is not one or no known key is near. In-tree plugins and the SDK
// example all word it so.
std::string plugin_key_suggestion(const std::string& plugin_message);
// `message` with that suggestion put right after the unknown key, for `run`'s errors too.
std::string with_key_suggestion(const std::string& message);
// The catalog's `no plugin "ref" ...` message with the nearest plugin id after the name.
std::string with_plugin_suggestion(const ModuleCatalog& catalog, const std::string& ref,
                                   std::string message);

}  // namespace vespid::core
