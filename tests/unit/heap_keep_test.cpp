// memory.heap_keep_bytes: a large block comes from the heap and stays there once freed, so the
// next message of that size finds its pages already mapped.
#include "runtime/heap_keep.hpp"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VESPID_OWN_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define VESPID_OWN_ALLOCATOR 1
#endif

// Under AddressSanitizer (the fuzz preset's unit run) malloc is the sanitizer's, which has no
// such settings; these tests are compiled for glibc's allocator only, and run in every ctest of
// the ordinary presets.
#ifndef VESPID_OWN_ALLOCATOR

namespace {

TEST(HeapKeep, ALargeFreedBlockStaysInTheHeapForTheNextOne) {
  ASSERT_TRUE(vespid::core::keep_freed_heap(64 * 1024 * 1024));  // blocks up to 32 MiB
  const struct mallinfo2 before = ::mallinfo2();
  // Bigger than all the free memory the heap holds now (earlier tests in this process left
  // some), so that it has to come from the top, and at 2 MiB or more above glibc's defaults.
  const std::size_t block = before.fordblks + 2 * 1024 * 1024;
  ASSERT_LT(block, 30u * 1024 * 1024);
  void* p = std::malloc(block);
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, block);
  const struct mallinfo2 during = ::mallinfo2();
  // Not a mapping of its own (glibc's default maps anything of 128 KiB or more)...
  EXPECT_EQ(during.hblks, before.hblks);
  EXPECT_GE(during.arena, before.arena + 2 * 1024 * 1024);
  std::free(p);
  // ...and not handed back when freed (the default trims the top of the heap past 128 KiB).
  const struct mallinfo2 after = ::mallinfo2();
  EXPECT_EQ(after.arena, during.arena);
  EXPECT_GE(after.fordblks, block);
}

}  // namespace

#endif  // VESPID_OWN_ALLOCATOR
