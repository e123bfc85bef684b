#include "config.hpp"

#include <nlohmann/json.hpp>
#include <vespid/config_json.hpp>
#include <vespid/plugin.hpp>

namespace vespid::unix_transport {

namespace {

[[noreturn]] void invalid(const std::string& message) {
  vsp::config::invalid("unix", message);
}

std::size_t positive_integer(const nlohmann::json& value, const char* key) {
  // A negative, zero or fractional limit is always a mistake, so only a positive integer passes.
  if (value.is_number_unsigned() && value.get<std::uint64_t>() > 0) {
    return static_cast<std::size_t>(value.get<std::uint64_t>());
  }
  invalid(std::string("config key \"") + key + "\" must be a positive integer, got " +
          value.dump());
}

}  // namespace

Config parse_config(std::string_view json, const std::string& state_dir) {
  const nlohmann::json doc = vsp::config::parse_object(json, "unix");

  Config cfg;
  cfg.path = state_dir + "/gateway.sock";
  for (const auto& [key, value] : doc.items()) {
    if (key == "path") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        invalid("config key \"path\" must be a non-empty string, got " + value.dump());
      }
      cfg.path = value.get<std::string>();
      // A relative path would depend on the gateway's working directory; anchor it instead.
      if (cfg.path.front() != '/') cfg.path = state_dir + "/" + cfg.path;
    } else if (key == "max_message_bytes") {
      cfg.max_message_bytes = positive_integer(value, "max_message_bytes");
    } else if (key == "max_connections") {
      cfg.max_connections = positive_integer(value, "max_connections");
    } else if (key == "send_queue_bytes") {
      cfg.send_queue_bytes = positive_integer(value, "send_queue_bytes");
    } else {
      invalid("unknown config key \"" + key +
              "\" (known keys: path, max_message_bytes, max_connections, send_queue_bytes)");
    }
  }
  return cfg;
}

}  // namespace vespid::unix_transport
