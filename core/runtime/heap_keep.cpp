#include "runtime/heap_keep.hpp"

#include <malloc.h>

#include <algorithm>

namespace vespid::core {

bool keep_freed_heap(int64_t bytes) {
  if (bytes <= 0) return true;
  // glibc refuses a mapping threshold above 32 MiB on 64-bit; the config key stops at 64 MiB.
  const int64_t map_from = std::min<int64_t>(bytes / 2, 32 * 1024 * 1024);
  // Setting either value turns off glibc's own adjustment of both, so both are set.
  const bool mapped = ::mallopt(M_MMAP_THRESHOLD, static_cast<int>(map_from)) == 1;
  const bool trimmed = ::mallopt(M_TRIM_THRESHOLD, static_cast<int>(bytes)) == 1;
  return mapped && trimmed;
}

}  // namespace vespid::core
