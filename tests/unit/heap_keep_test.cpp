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

constexpr std::size_t kBlock = 3 * 1024 * 1024;  // above glibc's default thresholds

TEST(HeapKeep, ALargeFreedBlockStaysInTheHeapForTheNextOne) {
  ASSERT_TRUE(vespid::core::keep_freed_heap(8 * 1024 * 1024));
  const struct mallinfo2 before = ::mallinfo2();
  void* block = std::malloc(kBlock);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  const struct mallinfo2 during = ::mallinfo2();
  // Not a mapping of its own (glibc's default would map anything of 128 KiB or more)...
  EXPECT_EQ(during.hblks, before.hblks);
  EXPECT_GE(during.arena, before.arena + kBlock);
  std::free(block);
  // ...and not handed back when freed (the default would trim the top of the heap).
  const struct mallinfo2 after = ::mallinfo2();
  EXPECT_EQ(after.arena, during.arena);
  EXPECT_GE(after.fordblks, kBlock);
}

TEST(HeapKeep, ZeroLeavesTheCLibraryAlone) {
  EXPECT_TRUE(vespid::core::keep_freed_heap(0));
}

}  // namespace

#endif  // VESPID_OWN_ALLOCATOR
