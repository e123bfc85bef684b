// json_text (core/runtime/json_text.hpp): how a node's answer, a JSON text inside a string
// (payloadJSON), is checked and spliced into frames without a DOM; and json_write
// (libs/json_write), how strings and values are written into frames built as text.
//
// Invariants:
//  - is_spliceable_value(t) is true exactly when t is one JSON value within the depth cap
//    (json_input::accept) and holds no line break;
//  - a spliceable text put into a frame as bridge.v1 and operator.v1 do gives a frame that
//    parses, is one line, and carries the value the text holds;
//  - append_string writes a JSON string literal that reads back as the same bytes (for UTF-8
//    input, which is all the core ever passes it), and valid_utf8 says which input that is;
//  - json_write::dump of a parsed value is the text nlohmann's dump() writes for it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "json_util.hpp"
#include "known_bugs.hpp"
#include "runtime/json_input.hpp"
#include "json_write.hpp"
#include "runtime/json_text.hpp"

namespace {

using nlohmann::json;
namespace jt = vespid::core::json_text;
namespace jw = vespid::json_write;
namespace ji = vespid::core::json_input;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const bool spliceable = jt::is_spliceable_value(text);
  const bool one_line = text.find_first_of("\r\n") == std::string_view::npos;
  FUZZ_CHECK(spliceable == (one_line && ji::accept(text)), "is_spliceable_value disagrees");
  // Known defect 4 (known_bugs.hpp): nlohmann's reader takes a NUL byte for the end of the
  // input, so "1<NUL>anything" is accepted as 1 and spliced, NUL and garbage included, into the
  // frame a client receives.
  const bool nul = text.find('\0') != std::string_view::npos;
  if (spliceable && nul) FUZZ_CHECK(!vespid::fuzz::check_known_bugs(), "a NUL byte is spliced");
  if (spliceable && !nul) {
    // operator_dialect.cpp's answer to a spliced payload.
    std::string frame = R"({"type":"res","id":)";
    jw::append_string(frame, "req-1");
    frame += R"(,"ok":true,"payload":)";
    frame += text;
    frame += '}';
    FUZZ_CHECK(frame.find('\n') == std::string::npos, "a spliced frame spans lines");
    const auto parsed = vespid::fuzz::parse_strict(frame);
    FUZZ_CHECK(parsed && parsed->is_object(), "a spliced frame does not parse");
    const json value = ji::parse(text);
    if (!vespid::fuzz::has_non_finite(value)) {
      FUZZ_CHECK((*parsed)["payload"] == value, "the spliced payload reads differently");
    }
    FUZZ_CHECK((*parsed)["id"] == "req-1", "the frame around a splice was damaged");
  }

  FUZZ_CHECK(jw::valid_utf8(text) == vespid::fuzz::utf8_valid(text), "valid_utf8 disagrees");
  if (ji::accept(text)) {
    const json value = ji::parse(text);
    FUZZ_CHECK(jw::dump(value) == value.dump(), "json_write::dump wrote another text");
  }
  if (vespid::fuzz::utf8_valid(text)) {
    std::string literal;
    jw::append_string(literal, text);
    FUZZ_CHECK(literal.find_first_of("\r\n") == std::string::npos, "a string literal spans lines");
    const auto back = vespid::fuzz::parse_strict(literal);
    FUZZ_CHECK(back && back->is_string(), "append_string wrote something that is not a string");
    FUZZ_CHECK(back->get_ref<const std::string&>() == text, "append_string changed the bytes");
  }
  return 0;
}
