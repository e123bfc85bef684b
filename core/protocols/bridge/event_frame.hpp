// `event {event, payloadJSON}` from the gateway, as the reference writes it: the payload travels
// as a JSON text inside the payloadJSON string.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "json_write.hpp"

namespace vespid::core {

inline std::string event_frame(std::string_view event, const nlohmann::json& payload) {
  using nlohmann::json;
  const json frame = {{"type", "event"},
                      {"event", event},
                      {"payloadJSON", json_write::dump(payload, json::error_handler_t::replace)}};
  return json_write::dump(frame, json::error_handler_t::replace);
}

}  // namespace vespid::core
