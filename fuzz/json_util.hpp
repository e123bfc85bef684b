// Small JSON helpers the harnesses share.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace vespid::fuzz {

// True when `v` holds a number JSON cannot spell (1e400 parses to infinity, which dumps as null).
inline bool has_non_finite(const nlohmann::json& v) {
  if (v.is_number_float()) return !std::isfinite(v.get<double>());
  if (!v.is_structured()) return false;
  for (const auto& child : v) {
    if (has_non_finite(child)) return true;
  }
  return false;
}

// A message the gateway wrote, parsed by the strictest reader there is (any valid JSON text,
// strict UTF-8); nullopt when it is not one.
inline std::optional<nlohmann::json> parse_strict(std::string_view text) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    return std::nullopt;
  }
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF. Written
// out here so that harnesses compare the code under test against a separate reading.
inline bool utf8_valid(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace vespid::fuzz
