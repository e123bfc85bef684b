/* Optional C++ helper for plugins that read their config JSON with nlohmann/json (every in-tree
 * plugin does). It holds the steps each config reader would otherwise repeat: the text parsed
 * as an object ("" is {}), and errors as vsp::Error VSP_E_INVALID prefixed with the plugin's
 * name, which the host shows to the operator at start-up. */
#ifndef VESPID_CONFIG_JSON_HPP
#define VESPID_CONFIG_JSON_HPP

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "vespid/plugin.hpp"

namespace vsp::config {

[[noreturn]] inline void invalid(std::string_view plugin, const std::string& message) {
  throw Error(VSP_E_INVALID, std::string(plugin) + ": " + message);
}

// The instance's config text as a JSON object.
inline nlohmann::json parse_object(std::string_view text, std::string_view plugin) {
  nlohmann::json doc;
  try {
    doc = text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    invalid(plugin, std::string("config is not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) invalid(plugin, "config must be a JSON object, got " + doc.dump());
  return doc;
}

}  // namespace vsp::config

#endif /* VESPID_CONFIG_JSON_HPP */
