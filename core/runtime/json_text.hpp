// Building and passing through JSON texts without a DOM, for the frames on the invoke path.
//
// A DOM per frame (nlohmann::json) is the core's biggest cost per invoke (docs/performance.md):
// parsing allocates a node per value, dumping writes one character at a time, tearing down frees
// every node. The hot frames are small and fixed in shape, so they are written here as text, and
// a node's answer (a JSON text inside a string) is checked and spliced, never re-built. Strings
// are written with json_write::append_string (libs/json_write).
#pragma once

#include <string>
#include <string_view>

namespace vespid::core::json_text {

// True when `text` is exactly one JSON value (surrounding whitespace allowed) with valid UTF-8
// in its strings, and holds no line break, so it can be spliced into a JSON-lines frame as is.
// Builds no DOM.
bool is_spliceable_value(std::string_view text);

}  // namespace vespid::core::json_text
