#include "config/listen_ports.hpp"

#include "config/config.hpp"
#include "config/schema.hpp"

namespace vespid::config {

namespace {

struct PortKey {
  const char* key;       // under "listen"
  const char* instance;  // the instance it moves
};

constexpr PortKey kPortKeys[] = {
    {"api_port", "api"}, {"ws_port", "ws"}, {"bridge_port", "bridge"}, {"web_port", "web"}};

}  // namespace

void apply_listen_ports(nlohmann::json& effective, std::vector<std::string>& errors) {
  nlohmann::json& instances = effective["plugins"]["instances"];
  for (const auto& pk : kPortKeys) {
    const int64_t port = effective["listen"][pk.key].get<int64_t>();
    if (port == 0) continue;  // unset: the instance's own config decides
    bool applied = false;
    for (auto& inst : instances) {
      if (inst.value("name", "") != pk.instance) continue;
      if (!inst.contains("config")) inst["config"] = nlohmann::json::object();
      inst["config"]["port"] = port;
      applied = true;
    }
    if (!applied) {
      errors.push_back(std::string("config error: listen.") + pk.key +
                       ": no plugin instance is named \"" + pk.instance +
                       "\"; set \"port\" in the config of the instance to move instead");
    }
  }
}

std::string port_setting_of(const GatewayConfig& cfg, const std::string& instance) {
  for (const auto& pk : kPortKeys) {
    if (instance != pk.instance) continue;
    const std::string path = std::string("listen.") + pk.key;
    return path + " (" + env_name(path) + ")";
  }
  for (size_t i = 0; i < cfg.instances.size(); ++i) {
    if (cfg.instances[i].name == instance) {
      return "plugins.instances[" + std::to_string(i) + "].config.port";
    }
  }
  return "the instance's config.port";
}

}  // namespace vespid::config
