// The first step of every JSON frame dialect (bridge.v1, vespid.node.v1, vespid.client.v1): the
// message must be a JSON object with a string "type". Each dialect answers a failure in its own
// error form with the message returned here.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runtime/json_input.hpp"

namespace vespid::core {

// The frame, or nullopt with `error` saying what was wrong (for the peer to read).
inline std::optional<nlohmann::json> parse_typed_frame(const std::string& message,
                                                       std::string& error) {
  nlohmann::json frame;
  try {
    frame = json_input::parse(message);
  } catch (const nlohmann::json::parse_error& e) {
    error = std::string("invalid JSON: ") + e.what();
    return std::nullopt;
  }
  if (!frame.is_object() || !frame.contains("type") || !frame["type"].is_string()) {
    error = "expected a JSON object with a string \"type\"";
    return std::nullopt;
  }
  return frame;
}

}  // namespace vespid::core
