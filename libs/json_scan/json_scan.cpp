#include "json_scan.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vespid::json_scan {

namespace {

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Bytes a string may hold as they are: printable ASCII other than the quote and the backslash.
// Runs of them are skipped with one table lookup per byte (the hot frames are mostly such runs).
constexpr std::array<bool, 256> kPlainStringByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

// Whether all eight bytes of `word` are plain string bytes (see above), without a branch per
// byte: a byte is not plain when its high bit is set, when it is below 0x20, or when it is the
// quote or the backslash. The tests below are exact for the question "is any byte such": a
// borrow can only run past a byte that matched already.
constexpr bool all_plain(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  if ((word & kHigh) != 0) return false;  // non-ASCII: checked as UTF-8 one sequence at a time
  const auto has_zero_byte = [](uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
  const bool control = ((word - kOnes * 0x20) & ~word & kHigh) != 0;
  return !control && !has_zero_byte(word ^ (kOnes * '"')) && !has_zero_byte(word ^ (kOnes * '\\'));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One pass over the text; every method leaves `p_` after what it read, or returns false.
class Scanner {
 public:
  Scanner(std::string_view text, int max_depth)
      : p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth) {}

  void skip_ws() {
    while (p_ != end_ && is_ws(*p_)) ++p_;
  }
  bool at_end() const { return p_ == end_; }
  bool peek(char c) const { return p_ != end_ && *p_ == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++p_;
    return true;
  }
  const char* pos() const { return p_; }

  // A value starting at p_ (no leading whitespace), `depth` containers already open.
  bool value(int depth, Value& out) {
    if (p_ == end_) return false;
    const char* start = p_;
    bool ok = false;
    switch (*p_) {
      case '{':
        out.kind = Kind::Object;
        ok = container(depth, '}');
        break;
      case '[':
        out.kind = Kind::Array;
        ok = container(depth, ']');
        break;
      case '"':
        out.kind = Kind::String;
        ok = string(out.escaped);
        break;
      case 't':
        out.kind = Kind::True;
        ok = literal("true");
        break;
      case 'f':
        out.kind = Kind::False;
        ok = literal("false");
        break;
      case 'n':
        out.kind = Kind::Null;
        ok = literal("null");
        break;
      default:
        out.kind = Kind::Number;
        ok = number(out.integer);
    }
    out.raw = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return ok;
  }

  // A string starting at its opening quote; p_ ends after the closing one.
  bool string(bool& escaped) {
    escaped = false;
    ++p_;  // the opening quote
    while (p_ != end_) {
      skip_plain_bytes();
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        escaped = true;
        if (!escape()) return false;
      } else if (c < 0x80) {
        ++p_;
      } else if (!utf8_sequence()) {
        return false;
      }
    }
    return false;
  }

  // (What follows is used by the DOM builder below too.)
  //
  // Past the plain bytes at p_: sixteen or eight at a time while whole blocks are plain (the
  // payloads that pass through the invoke path are mostly long runs of them), then one at a time.
  void skip_plain_bytes() {
#if defined(__SSE2__)
    // Sixteen at a time where SSE2 is there (every x86-64): a signed compare below 0x20 flags
    // the control characters and every byte from 0x80 up, then the quote and the backslash;
    // the first flagged byte ends the run.
    const __m128i below = _mm_set1_epi8(0x20);
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    while (end_ - p_ >= 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      const __m128i stop = _mm_or_si128(
          _mm_cmplt_epi8(bytes, below),
          _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)));
      const int mask = _mm_movemask_epi8(stop);
      if (mask != 0) {
        p_ += __builtin_ctz(static_cast<unsigned>(mask));
        return;
      }
      p_ += 16;
    }
#endif
    while (end_ - p_ >= 8) {
      uint64_t word;
      std::memcpy(&word, p_, sizeof word);
      if (!all_plain(word)) break;
      p_ += 8;
    }
    while (p_ != end_ && kPlainStringByte[static_cast<unsigned char>(*p_)]) ++p_;
  }

  int max_depth() const {
    return max_depth_;
  }

  bool container(int depth, char close) {
    if (depth + 1 > max_depth_) return false;
    ++p_;
    skip_ws();
    if (eat(close)) return true;
    for (;;) {
      if (close == '}') {
        bool escaped = false;
        if (!peek('"') || !string(escaped)) return false;
        skip_ws();
        if (!eat(':')) return false;
        skip_ws();
      }
      Value v;
      if (!value(depth + 1, v)) return false;
      skip_ws();
      if (eat(close)) return true;
      if (!eat(',')) return false;
      skip_ws();
    }
  }

  bool literal(const char* word) {
    const std::size_t n = std::strlen(word);
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  bool digits() {
    const char* start = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ != start;
  }

  // The JSON number grammar. A number the DOM parser would refuse as out of range (beyond a
  // double) is refused here too; so is one that underflows, which it would take: that is only
  // caution, the DOM path then reads it.
  bool number(bool& integer) {
    const char* start = p_;
    eat('-');
    if (eat('0')) {
      // no leading zeros
    } else if (p_ != end_ && *p_ >= '1' && *p_ <= '9') {
      digits();
    } else {
      return false;
    }
    integer = true;
    if (eat('.')) {
      integer = false;
      if (!digits()) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (!eat('+')) eat('-');
      if (!digits()) return false;
    }
    if (integer && p_ - start <= 19) return true;  // fits in a uint64_t or int64_t
    double d = 0;
    auto [end, ec] = std::from_chars(start, p_, d);
    return ec == std::errc() && end == p_;
  }

  // After a backslash: one escape. \u escapes must pair surrogates as the DOM parser requires.
  bool escape() {
    ++p_;
    if (p_ == end_) return false;
    switch (*p_) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        ++p_;
        return true;
      case 'u': {
        int unit = 0;
        if (!hex4(unit)) return false;
        if (unit >= 0xDC00 && unit <= 0xDFFF) return false;  // a low surrogate alone
        if (unit >= 0xD800 && unit <= 0xDBFF) {
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
          ++p_;
          int low = 0;
          if (!hex4(low)) return false;
          return low >= 0xDC00 && low <= 0xDFFF;
        }
        return true;
      }
      default:
        return false;
    }
  }

  // At the `u` of \uXXXX: reads the four digits; p_ ends after them.
  bool hex4(int& unit) {
    if (end_ - p_ < 5) return false;
    unit = 0;
    for (int i = 1; i <= 4; ++i) {
      const int d = hex_digit(p_[i]);
      if (d < 0) return false;
      unit = unit * 16 + d;
    }
    p_ += 5;
    return true;
  }

  // One well-formed UTF-8 sequence of two to four bytes (RFC 3629: no overlong forms, no
  // surrogates, nothing past U+10FFFF), as the DOM parser checks it.
  bool utf8_sequence() {
    const auto b0 = static_cast<unsigned char>(p_[0]);
    int n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      n = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      n = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (end_ - p_ < n) return false;
    const auto b1 = static_cast<unsigned char>(p_[1]);
    if (b1 < lo || b1 > hi) return false;
    for (int i = 2; i < n; ++i) {
      const auto b = static_cast<unsigned char>(p_[i]);
      if (b < 0x80 || b > 0xBF) return false;
    }
    p_ += n;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
  int max_depth_;
};

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

uint32_t read_hex4(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v * 16 + static_cast<uint32_t>(hex_digit(p[i]));
  return v;
}

// Builds the DOM in the pass that checks the text, with the Scanner's grammar, and gives each
// value the type nlohmann's parser gives it: an integer is unsigned when it has no sign and fits
// in a uint64_t, signed when it has one and fits in an int64_t, and a double otherwise; a
// repeated key keeps its last value. Anything the Scanner refuses is refused here too.
class DomBuilder {
 public:
  DomBuilder(std::string_view text, int max_depth) : s_(text, max_depth) {}

  bool document(nlohmann::json& out) {
    s_.skip_ws();
    if (!value(0, out)) return false;
    s_.skip_ws();
    return s_.at_end();
  }

 private:
  bool value(int depth, nlohmann::json& out) {
    if (s_.at_end()) return false;
    switch (*s_.pos()) {
      case '{':
        return object(depth, out);
      case '[':
        return array(depth, out);
      case '"':
        return string(out);
      default: {
        Value v;
        if (!s_.value(depth, v)) return false;
        return scalar(v, out);
      }
    }
  }

  bool object(int depth, nlohmann::json& out) {
    if (depth + 1 > s_.max_depth()) return false;
    s_.eat('{');
    out = nlohmann::json::object();
    s_.skip_ws();
    if (s_.eat('}')) return true;
    std::string key;
    for (;;) {
      if (!s_.peek('"') || !string_text(key)) return false;
      s_.skip_ws();
      if (!s_.eat(':')) return false;
      s_.skip_ws();
      nlohmann::json member;
      if (!value(depth + 1, member)) return false;
      out[key] = std::move(member);
      s_.skip_ws();
      if (s_.eat('}')) return true;
      if (!s_.eat(',')) return false;
      s_.skip_ws();
    }
  }

  bool array(int depth, nlohmann::json& out) {
    if (depth + 1 > s_.max_depth()) return false;
    s_.eat('[');
    out = nlohmann::json::array();
    s_.skip_ws();
    if (s_.eat(']')) return true;
    for (;;) {
      nlohmann::json element;
      if (!value(depth + 1, element)) return false;
      out.push_back(std::move(element));
      s_.skip_ws();
      if (s_.eat(']')) return true;
      if (!s_.eat(',')) return false;
      s_.skip_ws();
    }
  }

  // A string at its opening quote, decoded into `text`.
  bool string_text(std::string& text) {
    Value v;
    v.kind = Kind::String;
    const char* start = s_.pos();
    if (!s_.string(v.escaped)) return false;
    v.raw = std::string_view(start, static_cast<std::size_t>(s_.pos() - start));
    return v.string_value(text);
  }

  bool string(nlohmann::json& out) {
    std::string text;
    if (!string_text(text)) return false;
    out = std::move(text);
    return true;
  }

  static bool scalar(const Value& v, nlohmann::json& out) {
    switch (v.kind) {
      case Kind::Null:
        out = nullptr;
        return true;
      case Kind::True:
        out = true;
        return true;
      case Kind::False:
        out = false;
        return true;
      case Kind::Number:
        return number(v, out);
      default:
        return false;
    }
  }

  static bool number(const Value& v, nlohmann::json& out) {
    const char* first = v.raw.data();
    const char* last = first + v.raw.size();
    if (v.integer) {
      if (*first == '-') {
        int64_t n = 0;
        if (auto [end, ec] = std::from_chars(first, last, n); ec == std::errc() && end == last) {
          out = n;
          return true;
        }
      } else {
        uint64_t n = 0;
        if (auto [end, ec] = std::from_chars(first, last, n); ec == std::errc() && end == last) {
          out = n;
          return true;
        }
      }
    }
    double d = 0;
    auto [end, ec] = std::from_chars(first, last, d);
    if (ec != std::errc() || end != last) return false;
    out = d;
    return true;
  }

  Scanner s_;
};

}  // namespace

std::optional<std::string_view> Value::plain_string() const {
  if (kind != Kind::String || escaped) return std::nullopt;
  return raw.substr(1, raw.size() - 2);
}

bool Value::string_value(std::string& out) const {
  if (kind != Kind::String) return false;
  const std::string_view inner = raw.substr(1, raw.size() - 2);
  out.clear();
  if (escaped) {
    out.reserve(inner.size());
    append_unescaped(out, inner);
  } else {
    out.assign(inner);
  }
  return true;
}

std::optional<int64_t> Value::int64() const {
  if (kind != Kind::Number || !integer) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (ec != std::errc() || end != raw.data() + raw.size()) return std::nullopt;
  return v;
}

const Value* Object::find(std::string_view key) const {
  // Keys of one frame mostly differ in length or first byte: those are told apart without a
  // call to memcmp.
  for (std::size_t i = 0; i < count_; ++i) {
    const std::string_view k = members_.at[i].key;
    if (k.size() != key.size()) continue;
    if (k.empty() || (k[0] == key[0] && std::memcmp(k.data(), key.data(), k.size()) == 0))
      return &members_.at[i].value;
  }
  return nullptr;
}

// Reads an object's members into an Object (its friend), at any depth.
struct ObjectScan {
  // The object at s.pos(), `depth` containers already open around it; when `inner` is given,
  // the member named `inner_key` whose value is an object has its members read into it too.
  static bool members(Scanner& s, int depth, Object& obj, std::string_view inner_key,
                      Object* inner) {
    if (depth + 1 > s.max_depth() || !s.eat('{')) return false;
    obj.count_ = 0;
    obj.escaped_key_ = obj.duplicate_key_ = false;
    s.skip_ws();
    if (s.eat('}')) return true;
    for (;;) {
      if (obj.count_ == Object::kMaxMembers || !s.peek('"')) return false;
      // Assigned through the union's member, which starts that slot's life as a Member.
      obj.members_.at[obj.count_] = Member{};
      Member& m = obj.members_.at[obj.count_];
      const char* key_start = s.pos() + 1;
      if (!s.string(m.key_escaped)) return false;
      m.key = std::string_view(key_start, static_cast<std::size_t>(s.pos() - 1 - key_start));
      s.skip_ws();
      if (!s.eat(':')) return false;
      s.skip_ws();
      if (inner != nullptr && !m.key_escaped && m.key == inner_key && s.peek('{')) {
        const char* start = s.pos();
        if (!members(s, depth + 1, *inner, {}, nullptr)) return false;
        m.value.kind = Kind::Object;
        m.value.raw = std::string_view(start, static_cast<std::size_t>(s.pos() - start));
      } else if (!s.value(depth + 1, m.value)) {
        return false;
      }
      obj.escaped_key_ = obj.escaped_key_ || m.key_escaped;
      if (obj.find(m.key) != nullptr) obj.duplicate_key_ = true;
      ++obj.count_;
      s.skip_ws();
      if (s.eat('}')) return true;
      if (!s.eat(',')) return false;
      s.skip_ws();
    }
  }

  static std::optional<Object> top(std::string_view text, int max_depth, std::string_view inner_key,
                                   Object* inner) {
    // Built where the caller's optional is, not copied into it (768 bytes): one named result,
    // returned on every path, so the return is elided.
    std::optional<Object> out(std::in_place);
    if (inner != nullptr) inner->count_ = 0;
    Scanner s(text, max_depth);
    s.skip_ws();
    bool ok = members(s, 0, *out, inner_key, inner);
    if (ok) {
      s.skip_ws();
      ok = s.at_end();
    }
    if (!ok) {
      out.reset();
      if (inner != nullptr) inner->count_ = 0;  // nothing half-read left to find
    }
    return out;
  }
};

std::optional<Object> scan_object(std::string_view text, int max_depth) {
  return ObjectScan::top(text, max_depth, {}, nullptr);
}

std::optional<Object> scan_object(std::string_view text, int max_depth, std::string_view inner_key,
                                  Object& inner) {
  return ObjectScan::top(text, max_depth, inner_key, &inner);
}

bool is_value(std::string_view text, int max_depth) {
  Scanner s(text, max_depth);
  s.skip_ws();
  Value v;
  if (!s.value(0, v)) return false;
  s.skip_ws();
  return s.at_end();
}

void append_unescaped(std::string& out, std::string_view inner) {
  std::size_t i = 0;
  while (i < inner.size()) {
    const std::size_t slash = inner.find('\\', i);
    if (slash == std::string_view::npos) {
      out.append(inner.substr(i));
      return;
    }
    out.append(inner.substr(i, slash - i));
    const char e = inner[slash + 1];
    i = slash + 2;
    switch (e) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t cp = read_hex4(inner.data() + i);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // scanned: a low surrogate follows
          const uint32_t low = read_hex4(inner.data() + i + 2);
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, cp);
        break;
      }
      default:  // " \ /
        out += e;
    }
  }
}

bool build_dom(std::string_view text, int max_depth, nlohmann::json& out) {
  nlohmann::json dom;
  if (!DomBuilder(text, max_depth).document(dom)) return false;
  out = std::move(dom);
  return true;
}

}  // namespace vespid::json_scan
