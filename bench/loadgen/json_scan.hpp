// Reading a few top-level fields of a JSON object without building a DOM. Every frame the bench
// receives passes through here, and the bench must stay cheap next to the gateway it measures,
// so it does not parse whole frames (nlohmann::json is kept for the rare error path).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace vespid::bench {

namespace detail {
// Index just past the JSON value that starts at text[i] (a string, object, array or literal),
// or npos when the text ends first.
inline std::size_t skip_value(std::string_view text, std::size_t i) {
  if (i >= text.size()) return std::string_view::npos;
  if (text[i] == '"') {
    // memchr for the next quote, then for a backslash before it: payloads of many KiB go by at
    // memchr's speed, and the bench's own reading stays small next to the gateway's.
    const char* const end = text.data() + text.size();
    const char* p = text.data() + i + 1;
    const char* quote = nullptr;  // the next quote at or after p, once found
    for (;;) {
      if (quote == nullptr || quote < p) {
        quote = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
        if (quote == nullptr) return std::string_view::npos;
      }
      const auto* slash =
          static_cast<const char*>(std::memchr(p, '\\', static_cast<std::size_t>(quote - p)));
      if (slash == nullptr) return static_cast<std::size_t>(quote - text.data()) + 1;
      p = slash + 2;  // past the escaped character, whatever it is
      if (p > end) return std::string_view::npos;
    }
  }
  if (text[i] == '{' || text[i] == '[') {
    int depth = 0;
    for (; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '"') {
        i = skip_value(text, i);
        if (i == std::string_view::npos) return i;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return std::string_view::npos;
  }
  while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']' && text[i] != ' ') {
    ++i;
  }
  return i;
}

inline std::size_t skip_space(std::string_view text, std::size_t i) {
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) ++i;
  return i;
}
}  // namespace detail

// Calls f(key, raw_value) for each top-level member of the object in `text`; raw_value is the
// value's JSON text as it stands (strings keep their quotes and escapes). f returns false to stop.
// Keys are taken as written (the frames read here have no escapes in their keys).
template <typename F>
bool scan_object(std::string_view text, F&& f) {
  std::size_t i = detail::skip_space(text, 0);
  if (i >= text.size() || text[i] != '{') return false;
  ++i;
  while (true) {
    i = detail::skip_space(text, i);
    if (i >= text.size()) return false;
    if (text[i] == '}') return true;
    if (text[i] == ',') {
      ++i;
      continue;
    }
    if (text[i] != '"') return false;
    const std::size_t key_end = detail::skip_value(text, i);
    if (key_end == std::string_view::npos) return false;
    const std::string_view key = text.substr(i + 1, key_end - i - 2);
    i = detail::skip_space(text, key_end);
    if (i >= text.size() || text[i] != ':') return false;
    i = detail::skip_space(text, i + 1);
    const std::size_t value_end = detail::skip_value(text, i);
    if (value_end == std::string_view::npos) return false;
    if (!f(key, text.substr(i, value_end - i))) return true;
    i = value_end;
  }
}

// A JSON string's contents when it needs no unescaping (ids, types, codes); nullopt otherwise.
inline std::optional<std::string_view> plain_string(std::string_view raw) {
  if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') return std::nullopt;
  raw = raw.substr(1, raw.size() - 2);
  if (raw.find('\\') != std::string_view::npos) return std::nullopt;
  return raw;
}

// A non-negative JSON integer, or a string holding one (ids may travel as either).
inline std::optional<uint64_t> to_uint(std::string_view raw) {
  if (!raw.empty() && raw.front() == '"') {
    auto s = plain_string(raw);
    if (!s) return std::nullopt;
    raw = *s;
  }
  if (raw.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : raw) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace vespid::bench
