// How much freed heap the process keeps for reuse (the gateway's `memory.heap_keep_bytes`).
//
// glibc hands the top of a heap back to the system as soon as more than 128 KiB of it is free,
// and maps any block of 128 KiB or more on its own. A gateway moving frames of that size (an
// invoke with a 64 KiB payload makes several buffers of it: the frame read, the escaped
// paramsJSON, the answer) then maps fresh pages for each message and takes a page fault for every
// 4 KiB of them: measured, about half the CPU of such an invoke (docs/performance.md).
#pragma once

#include <cstdint>

namespace vespid::core {

// Keeps up to `bytes` of freed memory at the top of each malloc arena, and serves blocks up to
// half of it from the heap instead of mapping them one by one. 0 changes nothing (glibc's own
// settings, GLIBC_TUNABLES included, stay). False when glibc refused the values.
bool keep_freed_heap(int64_t bytes);

}  // namespace vespid::core
