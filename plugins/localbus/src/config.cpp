#include "config.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vespid/config_json.hpp>

namespace vespid::localbus {
namespace {

constexpr std::string_view kPlugin = "local bus";

// Non-negative integer literals only (not 1.0, not -1, not "5").
uint64_t parse_uint(const nlohmann::json& v, const char* key, uint64_t min, uint64_t max) {
  if (v.is_number_unsigned() && v.get<uint64_t>() >= min && v.get<uint64_t>() <= max) {
    return v.get<uint64_t>();
  }
  vsp::config::invalid(kPlugin, std::string("\"") + key + "\" must be an integer from " +
                                    std::to_string(min) + " to " + std::to_string(max));
}

}  // namespace

Config parse_config(std::string_view json_text) {
  const nlohmann::json doc = vsp::config::parse_object(json_text, kPlugin);
  Config cfg;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    if (key == "max_payload_bytes") {
      cfg.max_payload_bytes = parse_uint(*it, "max_payload_bytes", 1, 64ull * 1024 * 1024);
    } else if (key == "max_queued_bytes") {
      cfg.max_queued_bytes = parse_uint(*it, "max_queued_bytes", 1024, 1ull << 40);
    } else if (key == "request_timeout_ms") {
      cfg.request_timeout_ms =
          static_cast<uint32_t>(parse_uint(*it, "request_timeout_ms", 1, 3600000));
    } else {
      vsp::config::invalid(kPlugin, "unknown config key \"" + key +
                                        "\" (known keys: max_payload_bytes, max_queued_bytes, "
                                        "request_timeout_ms)");
    }
  }
  if (cfg.max_queued_bytes < cfg.max_payload_bytes) {
    vsp::config::invalid(kPlugin, "\"max_queued_bytes\" (" + std::to_string(cfg.max_queued_bytes) +
                                      ") must be at least \"max_payload_bytes\" (" +
                                      std::to_string(cfg.max_payload_bytes) +
                                      "), or the largest message could never be queued");
  }
  return cfg;
}

}  // namespace vespid::localbus
