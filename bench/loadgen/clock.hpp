// One monotonic clock for every timestamp the bench takes, in nanoseconds.
#pragma once

#include <chrono>
#include <cstdint>

namespace vespid::bench {

inline uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace vespid::bench
