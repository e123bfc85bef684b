#include "backoff.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace vespid::agent;
using ms = std::chrono::milliseconds;

TEST(Backoff, CeilingDoublesFromBaseAndStopsAtMax) {
  Backoff b(ms(500), ms(30'000), 1);
  const std::vector<long> want = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
  for (long w : want) {
    EXPECT_EQ(b.ceiling().count(), w);
    (void)b.next();
  }
  for (int i = 0; i < 100; ++i) (void)b.next();
  EXPECT_EQ(b.ceiling().count(), 30000);  // no overflow after many failures
}

TEST(Backoff, DelaysAreWithinZeroAndTheCeilingAndJittered) {
  Backoff b(ms(500), ms(4000), 42);
  std::set<long> seen;
  for (int i = 0; i < 200; ++i) {
    const auto top = b.ceiling();
    const auto d = b.next();
    EXPECT_GE(d.count(), 0);
    EXPECT_LE(d.count(), top.count());
    if (i >= 3) seen.insert(d.count());
  }
  EXPECT_GT(seen.size(), 50u);  // full jitter, not a fixed schedule
}

TEST(Backoff, ResetStartsAgainFromBase) {
  Backoff b(ms(100), ms(10'000), 7);
  for (int i = 0; i < 5; ++i) (void)b.next();
  EXPECT_EQ(b.ceiling().count(), 3200);
  b.reset();
  EXPECT_EQ(b.failures(), 0u);
  EXPECT_EQ(b.ceiling().count(), 100);
  EXPECT_LE(b.next().count(), 100);
}
