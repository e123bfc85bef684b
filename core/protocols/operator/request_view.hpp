// An operator `req` frame read without a DOM, for the methods that take their params as text
// (MethodSpec::text_handler). Only the plain shape is read here: any other (escaped or repeated
// keys, an id that is neither a plain string nor an int64, params that are not an object) gives
// nullopt, and the frame goes the DOM way, which answers every error in full.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "json_scan.hpp"

namespace vespid::core {

struct RequestView {
  // User-provided, so that a value-initialised view is not zeroed first (params_members is 768
  // bytes that a scan writes as it goes).
  RequestView() noexcept {}

  // Spans of the frame's text: valid while it lives.
  std::string_view id_string;  // when the id is a string
  std::optional<int64_t> id_integer;
  std::string_view method;
  std::string_view params;  // one object; "{}" when absent or null
  // The params' members, read in the same pass as the frame (empty when absent or null).
  json_scan::Object params_members;

  nlohmann::json id() const {
    return id_integer ? nlohmann::json(*id_integer) : nlohmann::json(std::string(id_string));
  }
  // The id as JSON text, the same bytes id().dump() gives (a plain string is one without escapes
  // and of valid UTF-8), without building a DOM for it.
  std::string id_json() const {
    if (id_integer) return std::to_string(*id_integer);
    std::string text;
    text.reserve(id_string.size() + 2);
    text += '"';
    text += id_string;
    text += '"';
    return text;
  }
};

// `frame` as a plain `req`, or nullopt. `max_depth` as json_input::max_depth(). One scan reads
// the frame and its params' members.
std::optional<RequestView> view_request(std::string_view frame, int max_depth);

}  // namespace vespid::core
