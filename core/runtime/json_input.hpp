// Parsing JSON that came from outside with a cap on nesting depth.
//
// nlohmann's parser is iterative, but copying, comparing and dumping a DOM recurse once per
// level: a 100 KB text of nested arrays parses fine and then overflows the stack the first time
// the frame is copied or an id is echoed. Every text a peer sent goes through these functions,
// so no DOM the core holds is deeper than `limits.json_max_depth` (default 64; the deepest
// frame any dialect defines is 5 levels).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace vespid::core::json_input {

inline constexpr int kDefaultMaxDepth = 64;

// The process-wide cap, set once from config at start-up (before any connection).
void set_max_depth(int depth);
int max_depth();

// Parses `text` as one JSON value. Throws nlohmann::json::parse_error, as json::parse does, for
// a malformed text and for one nested deeper than max_depth(); callers already answer that in
// their dialect's error form.
nlohmann::json parse(std::string_view text);

// True when `text` is one JSON value no deeper than max_depth(). Builds no DOM.
bool accept(std::string_view text);

}  // namespace vespid::core::json_input
