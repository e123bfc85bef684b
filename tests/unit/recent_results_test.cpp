// The host results a ResultStore keeps in memory (services/dispatch/recent_results.hpp): found
// until they expire, bounded by what they hold with the oldest going first, and gone when
// forgotten.
#include "services/dispatch/recent_results.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vespid::dispatch {
namespace {

constexpr std::size_t kOverhead = RecentResults::kEntryOverhead;

// An entry of `text_bytes` for a one-letter request id costs this much of the budget.
constexpr std::size_t cost(std::size_t text_bytes) {
  return text_bytes + 2 + kOverhead;
}

std::string text(std::size_t bytes, char fill = 'x') {
  return std::string(bytes, fill);
}

TEST(RecentResults, AKeptResultIsFoundUntilItExpires) {
  RecentResults recent(1000);
  recent.keep("a", R"({"result":{"status":"succeeded"}})", 500);
  const std::string* hit = recent.find("a", 499);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(*hit, R"({"result":{"status":"succeeded"}})");
  EXPECT_EQ(recent.find("a", 500), nullptr);  // expired, as the store's read treats it
  EXPECT_EQ(recent.find("b", 0), nullptr);
}

TEST(RecentResults, TheBudgetCountsTheTextTheIdAndTheEntry) {
  RecentResults recent(10000);
  recent.keep("a", text(100), 1000);
  EXPECT_EQ(recent.bytes(), cost(100));
  recent.keep("b", text(50), 1000);
  EXPECT_EQ(recent.bytes(), cost(100) + cost(50));
  recent.forget("a");
  EXPECT_EQ(recent.bytes(), cost(50));
}

TEST(RecentResults, TheOldestGoFirstWhenTheBudgetIsFull) {
  RecentResults recent(3 * cost(100));
  recent.keep("a", text(100), 1000);
  recent.keep("b", text(100), 1000);
  recent.keep("c", text(100), 1000);
  EXPECT_EQ(recent.size(), 3u);
  recent.keep("d", text(200), 1000);  // a and b make room
  EXPECT_EQ(recent.find("a", 0), nullptr);
  EXPECT_EQ(recent.find("b", 0), nullptr);
  EXPECT_NE(recent.find("c", 0), nullptr);
  EXPECT_NE(recent.find("d", 0), nullptr);
  EXPECT_EQ(recent.bytes(), cost(100) + cost(200));
  EXPECT_LE(recent.bytes(), 3 * cost(100));
}

TEST(RecentResults, AResultLargerThanTheBudgetIsNotKeptAndDropsItsOlderCopy) {
  RecentResults recent(cost(100));
  recent.keep("a", text(50), 1000);
  recent.keep("a", text(101), 1000);
  EXPECT_EQ(recent.find("a", 0), nullptr);
  EXPECT_EQ(recent.bytes(), 0u);
  RecentResults none(0);  // dispatch.result_cache_bytes 0
  none.keep("a", text(1), 1000);
  EXPECT_EQ(none.find("a", 0), nullptr);
}

TEST(RecentResults, KeepingARequestAgainReplacesItAndRenewsItsPlace) {
  RecentResults recent(2 * cost(100));
  recent.keep("a", text(100, 'a'), 1000);
  recent.keep("b", text(100, 'b'), 1000);
  recent.keep("a", text(100, 'A'), 1000);  // a is now the newest
  EXPECT_EQ(recent.bytes(), 2 * cost(100));
  recent.keep("c", text(100, 'c'), 1000);  // so b goes, not a
  EXPECT_EQ(recent.find("b", 0), nullptr);
  ASSERT_NE(recent.find("a", 0), nullptr);
  EXPECT_EQ(*recent.find("a", 0), text(100, 'A'));
  EXPECT_NE(recent.find("c", 0), nullptr);
}

TEST(RecentResults, ForgottenResultsFreeTheirBytesAndLeaveNoPlacesBehind) {
  RecentResults recent(1 << 20);
  for (int i = 0; i < 10000; ++i) {
    const std::string id = std::string("r").append(std::to_string(i));
    recent.keep(id, text(10), 1000);
    recent.forget(id);  // a gateway timeout, or a sweep
  }
  EXPECT_EQ(recent.size(), 0u);
  EXPECT_EQ(recent.bytes(), 0u);
  EXPECT_LE(recent.places(), 66u);
  recent.keep("last", text(10), 1000);
  EXPECT_NE(recent.find("last", 0), nullptr);
}

}  // namespace
}  // namespace vespid::dispatch
