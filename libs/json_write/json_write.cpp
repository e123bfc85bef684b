#include "json_write.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vespid::json_write {

namespace {

using nlohmann::json;

// Bytes that must be escaped inside a JSON string: control characters, the quote, the backslash.
constexpr bool needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

// Whether any of the eight bytes in `word` needs escaping (SWAR: a byte's high bit is set in
// the mask when it is below 0x20, or equal to '"' or '\\'; bytes of 0x80 and up never flag).
constexpr bool needs_escape_any(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  auto zero_byte = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const uint64_t below_space = (word - kOnes * 0x20) & ~word & kHigh;
  const uint64_t quote = zero_byte(word ^ (kOnes * '"'));
  const uint64_t backslash = zero_byte(word ^ (kOnes * '\\'));
  return (below_space | quote | backslash) != 0;
}

#if defined(__SSE2__)
// The bytes of the sixteen at `p` that need escaping, as a bit mask (bit k for byte k).
unsigned escape_mask16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  // Unsigned v <= 0x1F exactly when max(v, 0x1F) is 0x1F.
  const __m128i limit = _mm_set1_epi8(0x1F);
  const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, limit), limit);
  return static_cast<unsigned>(
      _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)));
}
#endif

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

template <typename Int>
void append_integer(std::string& out, Int v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

bool valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Eight ASCII bytes at a time: the common case for every text the gateway writes.
    if (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, sizeof word);
      if ((word & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += len;
  }
  return true;
}

void append_string(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  std::size_t run = 0;  // start of the pending run of bytes copied as they are
  std::size_t i = 0;
#if defined(__SSE2__)
  // Sixteen bytes at a time, each byte to escape found from the block's mask, so that a string
  // full of them (JSON text inside a string: a quote every few bytes) is not scanned twice.
  for (; s.size() - i >= 16; i += 16) {
    for (unsigned mask = escape_mask16(s.data() + i); mask != 0; mask &= mask - 1) {
      const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(mask));
      out.append(s.data() + run, at - run);
      append_escape(out, static_cast<unsigned char>(s[at]));
      run = at + 1;
    }
  }
#endif
  for (; i < s.size(); ++i) {
    // Eight bytes at a time past those that need no escape (most of every string).
    while (s.size() - i >= 8) {
      uint64_t word;
      std::memcpy(&word, s.data() + i, sizeof word);
      if (needs_escape_any(word)) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (!needs_escape(c)) continue;
    out.append(s.data() + run, i - run);
    append_escape(out, c);
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

bool append_value(std::string& out, const json& j) {
  const std::size_t mark = out.size();
  auto fail = [&] {
    out.resize(mark);
    return false;
  };
  switch (j.type()) {
    case json::value_t::null:
      out += "null";
      return true;
    case json::value_t::boolean:
      out += j.get_ref<const json::boolean_t&>() ? "true" : "false";
      return true;
    case json::value_t::number_integer:
      append_integer(out, j.get_ref<const json::number_integer_t&>());
      return true;
    case json::value_t::number_unsigned:
      append_integer(out, j.get_ref<const json::number_unsigned_t&>());
      return true;
    case json::value_t::string: {
      const auto& s = j.get_ref<const json::string_t&>();
      if (!valid_utf8(s)) return fail();
      append_string(out, s);
      return true;
    }
    case json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& v : j) {
        if (!first) out.push_back(',');
        first = false;
        if (!append_value(out, v)) return fail();
      }
      out.push_back(']');
      return true;
    }
    case json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, v] : j.get_ref<const json::object_t&>()) {
        if (!first) out.push_back(',');
        first = false;
        if (!valid_utf8(key)) return fail();
        append_string(out, key);
        out.push_back(':');
        if (!append_value(out, v)) return fail();
      }
      out.push_back('}');
      return true;
    }
    default:
      // Floating-point numbers (nlohmann's own shortest form: "1.0", "1e+100", null for a NaN),
      // binary values, discarded: rare, and written by dump() itself so the text stays its.
      out += j.dump();
      return true;
  }
}

namespace {

void open_member(std::string& out, std::string_view name) {
  if (out.empty() || out.back() != '{') out.push_back(',');
  append_string(out, name);
  out.push_back(':');
}

}  // namespace

bool append_string_member(std::string& out, std::string_view name, std::string_view value) {
  if (!valid_utf8(name) || !valid_utf8(value)) return false;
  open_member(out, name);
  append_string(out, value);
  return true;
}

bool append_value_member(std::string& out, std::string_view name, const json& value) {
  if (!valid_utf8(name)) return false;
  const std::size_t mark = out.size();
  open_member(out, name);
  if (append_value(out, value)) return true;
  out.resize(mark);
  return false;
}

void append_raw_member(std::string& out, std::string_view name, std::string_view json_text) {
  open_member(out, name);
  out.append(json_text);
}

std::string dump(const json& j, json::error_handler_t handler) {
  std::string out;
  if (append_value(out, j)) return out;
  return j.dump(-1, ' ', false, handler);
}

}  // namespace vespid::json_write
