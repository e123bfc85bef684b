// A node's successful `invoke-res` read without a DOM: the frame every invoke ends with.
// Only the plain shape is read (ok true, a string id, payloadJSON one JSON value on one line, no
// escaped or repeated keys); any other gives nullopt and the frame goes the DOM way
// (BridgeDialect::handle_invoke_res), which reports what was wrong.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vespid::core {

struct InvokeResView {
  std::string_view id;       // a span of the frame's text
  std::string payload_json;  // the node's answer, ready to splice ("{}" when it sent none)
};

// `frame` as a plain successful invoke-res, or nullopt. `max_depth` as json_input::max_depth().
std::optional<InvokeResView> view_invoke_res(std::string_view frame, int max_depth);

}  // namespace vespid::core
