#include "config.hpp"

#include <nlohmann/json.hpp>
#include <vespid/config_json.hpp>
#include <vespid/plugin.hpp>

namespace vespid::tailnet {

namespace {

constexpr const char* kKnownKeys = "ranges, interfaces, magicdns, tailscale_command, settle_ms";

[[noreturn]] void invalid(const std::string& message) {
  vsp::config::invalid("tailnet", message);
}

std::vector<std::string> strings(const std::string& key, const nlohmann::json& v) {
  if (!v.is_array()) invalid("config key \"" + key + "\" must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string() || e.get_ref<const std::string&>().empty()) {
      invalid("config key \"" + key + "\" must hold non-empty strings, got " + e.dump());
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

Config parse_config(std::string_view json) {
  const nlohmann::json doc = vsp::config::parse_object(json, "tailnet");
  Config cfg;
  for (const auto& [key, v] : doc.items()) {
    if (key == "ranges") {
      cfg.ranges.clear();
      for (const auto& text : strings(key, v)) {
        try {
          cfg.ranges.push_back(netaddr::parse_cidr(text));
        } catch (const std::invalid_argument& e) {
          invalid("config key \"ranges\": \"" + text + "\" is not a CIDR range: " + e.what());
        }
      }
      if (cfg.ranges.empty()) invalid("config key \"ranges\" must name at least one range");
    } else if (key == "interfaces") {
      cfg.interfaces = strings(key, v);
    } else if (key == "magicdns") {
      if (!v.is_boolean()) invalid("config key \"magicdns\" must be a boolean, got " + v.dump());
      cfg.magicdns = v.get<bool>();
    } else if (key == "tailscale_command") {
      if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
        invalid("config key \"tailscale_command\" must be a non-empty string, got " + v.dump());
      }
      cfg.tailscale_command = v.get<std::string>();
    } else if (key == "settle_ms") {
      if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 60000) {
        invalid("config key \"settle_ms\" must be an integer from 0 to 60000, got " + v.dump());
      }
      cfg.settle_ms = v.get<std::uint32_t>();
    } else {
      invalid("unknown config key \"" + key + "\" (known keys: " + kKnownKeys + ")");
    }
  }
  return cfg;
}

}  // namespace vespid::tailnet
