#include "runtime/json_text.hpp"

#include <cstring>
#include <nlohmann/json.hpp>

#include "runtime/json_input.hpp"
#include "runtime/json_scan.hpp"

namespace vespid::core::json_text {

namespace {

// Bytes that must be escaped inside a JSON string: control characters, the quote, the backslash.
constexpr bool needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

void append_escape(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out.append(u, sizeof u);
    }
  }
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  std::size_t run = 0;  // start of the pending run of bytes copied as they are
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!needs_escape(c)) continue;
    out.append(s.data() + run, i - run);
    append_escape(out, c);
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

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
