#include "runtime/json_text.hpp"

#include <cstring>
#include <nlohmann/json.hpp>

#include "json_scan.hpp"
#include "runtime/json_input.hpp"

namespace vespid::core::json_text {

bool is_spliceable_value(std::string_view text) {
  // A line break can only be whitespace between tokens (inside a string it must be escaped),
  // but it would end the frame early in a JSON-lines transport.
  if (std::memchr(text.data(), '\n', text.size()) != nullptr ||
      std::memchr(text.data(), '\r', text.size()) != nullptr) {
    return false;
  }
  // The scan takes nearly every text; what it is too cautious for (a number that underflows a
  // double) is settled by nlohmann's SAX pass, so the answer is exactly json_input::accept's.
  return json_scan::is_value(text, json_input::max_depth()) || json_input::accept(text);
}

}  // namespace vespid::core::json_text
