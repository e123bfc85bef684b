// json_input::parse / accept (core/runtime/json_input.hpp) and parse_typed_frame
// (core/protocols/typed_frame.hpp): the first step of every JSON text a peer sends.
//
// Invariants:
//  - parse throws nlohmann::json::parse_error and nothing else (anything else escapes and is a
//    crash);
//  - accept(text) is true exactly when parse(text) succeeds;
//  - no parsed DOM is deeper than max_depth();
//  - a parsed value re-serialises (strict UTF-8) to a text that parses to the same value (values
//    holding a non-finite number, which JSON cannot spell, are compared after the dump);
//  - parse_typed_frame returns the parsed object exactly when it has a string "type", and
//    otherwise says why.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "known_bugs.hpp"
#include "protocols/typed_frame.hpp"
#include "runtime/json_input.hpp"

namespace {

using nlohmann::json;
namespace ji = vespid::core::json_input;

int depth_of(const json& v) {
  if (!v.is_structured()) return 0;
  int deepest = 0;
  for (const auto& child : v) deepest = std::max(deepest, depth_of(child));
  return deepest + 1;
}

bool has_non_finite(const json& v) {
  if (v.is_number_float()) return !std::isfinite(v.get<double>());
  if (!v.is_structured()) return false;
  for (const auto& child : v) {
    if (has_non_finite(child)) return true;
  }
  return false;
}

void check_text(std::string_view text) {
  json value;
  bool parsed = true;
  try {
    value = ji::parse(text);
  } catch (const json::parse_error&) {
    parsed = false;
  } catch (const json::out_of_range& e) {
    // Known defect 1 (known_bugs.hpp): a number too large for a double ("1e400") throws
    // out_of_range 406, which the documented contract (parse_error only) does not allow.
    FUZZ_CHECK(!vespid::fuzz::check_known_bugs(), "parse threw out_of_range, not parse_error");
    FUZZ_CHECK(e.id == 406, "parse threw an out_of_range other than a number overflow");
    parsed = false;
  }
  FUZZ_CHECK(ji::accept(text) == parsed, "accept() and parse() disagree");

  std::string error;
  std::optional<json> frame;
  try {
    frame = vespid::core::parse_typed_frame(std::string(text), error);
  } catch (const json::out_of_range&) {
    FUZZ_CHECK(!parsed, "parse_typed_frame threw on a text parse() takes");
    return;  // known defect 1 again: parse_typed_frame catches parse_error only
  }
  if (!parsed) {
    FUZZ_CHECK(!frame && !error.empty(), "a text parse() refuses became a frame");
    return;
  }
  FUZZ_CHECK(depth_of(value) <= ji::max_depth(), "a DOM deeper than the cap");
  if (vespid::fuzz::check_known_bugs()) {
    // Known defect 4: a NUL byte ends nlohmann's input, so whatever follows it is never read.
    FUZZ_CHECK(text.find('\0') == std::string_view::npos, "a text with a NUL byte accepted");
  }
  const bool typed = value.is_object() && value.contains("type") && value["type"].is_string();
  FUZZ_CHECK(frame.has_value() == typed, "parse_typed_frame disagrees with the frame's shape");
  if (frame) {
    FUZZ_CHECK(*frame == value || has_non_finite(value), "parse_typed_frame changed the value");
  } else {
    FUZZ_CHECK(!error.empty(), "a refused frame without a reason");
  }

  const std::string again = value.dump();  // strict: the parser only lets valid UTF-8 in
  json reparsed;
  try {
    reparsed = ji::parse(again);
  } catch (const json::parse_error&) {
    FUZZ_CHECK(false, "the dump of a parsed value does not parse");
  }
  if (has_non_finite(value)) {
    FUZZ_CHECK(reparsed.dump() == again, "dump is not stable");
  } else {
    FUZZ_CHECK(reparsed == value, "the dump of a parsed value parses to another value");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The default cap, and a small one so that inputs near the limit are cheap to find.
  ji::set_max_depth(ji::kDefaultMaxDepth);
  check_text(text);
  ji::set_max_depth(3);
  check_text(text);
  return 0;
}
