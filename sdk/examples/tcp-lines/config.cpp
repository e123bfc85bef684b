#include "config.hpp"

#include <arpa/inet.h>

#include <cstdint>
#include <map>
#include <string>
#include <vespid/plugin.hpp>

namespace tcp_lines {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw vsp::Error(VSP_E_INVALID, "tcp-lines: " + message);
}

// One value of a flat JSON object: a string, or an integer (kept as its digits, checked later
// against the key's range).
struct Value {
  bool is_string = false;
  std::string text;
};

// A reader for exactly one JSON object whose values are strings or integers. Anything else
// (nested objects, arrays, true/false/null, fractions) is an error naming the key.
class FlatObjectParser {
 public:
  explicit FlatObjectParser(std::string_view in) : in_(in) {}

  std::map<std::string, Value> parse() {
    std::map<std::string, Value> out;
    skip_space();
    expect('{', "the config must be a JSON object");
    skip_space();
    if (peek() == '}') {
      ++pos_;
    } else {
      for (;;) {
        skip_space();
        if (peek() != '"') syntax("expected a key in double quotes");
        std::string key = read_string();
        skip_space();
        expect(':', "expected ':' after key \"" + key + "\"");
        skip_space();
        Value value = read_value(key);
        if (!out.emplace(key, std::move(value)).second)
          fail("config key \"" + key + "\" is repeated");
        skip_space();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect('}', "expected ',' or '}' after the value of \"" + key + "\"");
        break;
      }
    }
    skip_space();
    if (pos_ != in_.size()) syntax("unexpected text after the object");
    return out;
  }

 private:
  char peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }

  void skip_space() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }

  [[noreturn]] void syntax(const std::string& what) const {
    fail("config is not valid JSON: " + what + " (at byte " + std::to_string(pos_) + ")");
  }

  void expect(char c, const std::string& what) {
    if (peek() != c) syntax(what);
    ++pos_;
  }

  Value read_value(const std::string& key) {
    Value v;
    char c = peek();
    if (c == '"') {
      v.is_string = true;
      v.text = read_string();
      return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = pos_;
      if (c == '-') ++pos_;
      while (peek() >= '0' && peek() <= '9') ++pos_;
      char next = peek();
      if (next == '.' || next == 'e' || next == 'E')
        fail("config key \"" + key + "\" must be an integer");
      v.text.assign(in_.substr(start, pos_ - start));
      if (v.text == "-") syntax("a number needs digits");
      return v;
    }
    fail("config key \"" + key + "\" must be a string or an integer");
  }

  // Reads a JSON string starting at its opening quote, decoding escapes to UTF-8.
  std::string read_string() {
    ++pos_;  // the opening quote
    std::string out;
    for (;;) {
      if (pos_ >= in_.size()) syntax("unterminated string");
      char c = in_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) syntax("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= in_.size()) syntax("unterminated string");
      char e = in_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
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
        case 'u':
          append_utf8(out, read_code_point());
          break;
        default:
          syntax("unknown escape in a string");
      }
    }
  }

  uint32_t read_hex4() {
    if (in_.size() - pos_ < 4) syntax("short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char h = in_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') {
        v |= static_cast<uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        v |= static_cast<uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        v |= static_cast<uint32_t>(h - 'A' + 10);
      } else {
        syntax("bad hex digit in a \\u escape");
      }
    }
    return v;
  }

  // After "\u": one code point, joining a UTF-16 surrogate pair.
  uint32_t read_code_point() {
    uint32_t cp = read_hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) syntax("lone low surrogate in a \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (in_.substr(pos_, 2) != "\\u") syntax("high surrogate without its low half");
      pos_ += 2;
      uint32_t low = read_hex4();
      if (low < 0xDC00 || low > 0xDFFF) syntax("high surrogate without its low half");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    return cp;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
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

  std::string_view in_;
  size_t pos_ = 0;
};

std::string get_string(const std::string& key, const Value& v) {
  if (!v.is_string) fail("config key \"" + key + "\" must be a string");
  return v.text;
}

uint64_t get_integer(const std::string& key, const Value& v, uint64_t min, uint64_t max) {
  std::string range = std::to_string(min) + " to " + std::to_string(max);
  if (v.is_string) fail("config key \"" + key + "\" must be an integer from " + range);
  bool in_range = !v.text.empty() && v.text[0] != '-' && v.text.size() <= 19;
  uint64_t n = in_range ? std::stoull(v.text) : 0;
  if (!in_range || n < min || n > max) {
    fail("config key \"" + key + "\" must be an integer from " + range + ", not " + v.text);
  }
  return n;
}

}  // namespace

Config parse_config(std::string_view json) {
  Config cfg;
  bool have_port = false;
  for (const auto& [key, value] : FlatObjectParser(json).parse()) {
    if (key == "host") {
      cfg.host = get_string(key, value);
      unsigned char buf[sizeof(in6_addr)];
      if (inet_pton(AF_INET, cfg.host.c_str(), buf) != 1 &&
          inet_pton(AF_INET6, cfg.host.c_str(), buf) != 1) {
        fail("config key \"host\" must be an IPv4 or IPv6 address, not \"" + cfg.host + "\"");
      }
    } else if (key == "port") {
      cfg.port = static_cast<uint16_t>(get_integer(key, value, 1, 65535));
      have_port = true;
    } else if (key == "dialect") {
      cfg.dialect = get_string(key, value);
      if (cfg.dialect.empty()) fail("config key \"dialect\" must not be empty");
    } else if (key == "max_line_bytes") {
      cfg.max_line_bytes = get_integer(key, value, 1, uint64_t{1} << 30);
    } else if (key == "max_connections") {
      cfg.max_connections = get_integer(key, value, 1, 1000000);
    } else if (key == "send_queue_bytes") {
      cfg.send_queue_bytes = get_integer(key, value, 1024, uint64_t{1} << 30);
    } else {
      fail("unknown config key \"" + key +
           "\" (known keys: host, port, dialect, max_line_bytes, max_connections, "
           "send_queue_bytes)");
    }
  }
  if (!have_port) fail("config key \"port\" is required (an integer from 1 to 65535)");
  return cfg;
}

}  // namespace tcp_lines
