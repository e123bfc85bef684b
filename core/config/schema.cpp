#include "config/schema.hpp"

#include <cctype>

namespace vespid::config {

namespace {
const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
}

nlohmann::json default_instances() {
  return nlohmann::json::array({
      {{"name", "storage"}, {"plugin", "sqlite"}, {"config", nlohmann::json::object()}},
      {{"name", "local"}, {"plugin", "unix"}, {"config", nlohmann::json::object()}},
  });
}

const std::vector<KeySpec>& schema() {
  static const std::vector<KeySpec> keys = {
      {"state_dir", Type::String, "",
       "Directory for the database, the admin socket and generated keys. Empty: "
       "$XDG_STATE_HOME/vespid, else ~/.local/state/vespid."},
      {"log.level", Type::Enum, "info", "Default log level for every component.", kLevels},
      {"log.format", Type::Enum, "text",
       "text: one human-readable line per event; json: one JSON object per line.",
       {"text", "json"}},
      {"log.components", Type::LevelMap, nlohmann::json::object(),
       "Per-component log levels, e.g. {\"storage\": \"debug\", \"plugin.local\": \"warn\"}."},
      {"plugins.dirs", Type::StringList, nlohmann::json::array(),
       "Extra directories searched for plugin modules (vespid-*.so), after the gateway's own "
       "<prefix>/lib/vespid/plugins."},
      {"plugins.instances", Type::Instances, default_instances(),
       "The plugin instances to run, in start order: [{\"name\", \"plugin\", \"config\", "
       "\"required\"}]. An explicit list replaces the default one."},
      {"storage.max_batch", Type::Int, 512,
       "Most transactions the storage thread commits in one durable batch.", {}, 1, 100000},
      {"storage.queue_depth", Type::Int, 65536,
       "Most storage operations waiting for the storage thread; beyond it requests fail with "
       "UNAVAILABLE instead of growing memory.",
       {}, 16, 10000000},
      {"limits.max_connections", Type::Int, 20000,
       "Most connections open at once across all transports; more are refused at open.", {}, 1,
       10000000},
      {"limits.connection_queue_depth", Type::Int, 1024,
       "Most frames of one connection waiting to be handled; a peer that floods past it is "
       "told and disconnected.",
       {}, 1, 1000000},
      {"shutdown.timeout_ms", Type::Int, 10000,
       "How long a graceful shutdown waits for plugins to drain before giving up.", {}, 0,
       3600000},
  };
  return keys;
}

const KeySpec* find_key(const std::string& path) {
  for (const auto& k : schema()) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

std::string env_name(const std::string& path) {
  std::string out = "VESPID_";
  for (char c : path) {
    out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace vespid::config
