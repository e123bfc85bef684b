// Wall-clock timestamps as the wire shows them: RFC 3339 UTC with milliseconds.
#pragma once

#include <cstdint>
#include <string>

namespace vespid::util {

int64_t now_ms();                       // milliseconds since the Unix epoch
int64_t now_us();                       // microseconds since the Unix epoch
std::string iso8601(int64_t epoch_ms);  // "2026-11-22T10:00:00.000Z"
// The inverse for iso8601's own form (UTC, "Z", milliseconds optional); 0 for anything else.
int64_t parse_iso8601_ms(const std::string& text);
inline std::string now_iso8601() {
  return iso8601(now_ms());
}

}  // namespace vespid::util
