// The host results a ResultStore keeps in memory (services/dispatch/recent_results.hpp): found
// until they expire, bounded by bytes with the oldest going first, and gone when forgotten.
#include "services/dispatch/recent_results.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vespid::dispatch {
namespace {

StoredResult result(const std::string& id, int64_t expires_at_ms = 1000) {
  StoredResult r;
  r.request_id = id;
  r.org_id = std::string("org-").append(id);
  r.agent_id = "host-1";
  r.result = {{"status", "succeeded"}, {"output", {{"id", id}}}};
  r.stored_at_ms = 1;
  r.expires_at_ms = expires_at_ms;
  return r;
}

TEST(RecentResults, AKeptResultIsFoundUntilItExpires) {
  RecentResults recent(1000);
  recent.keep(result("a", 500), 100);
  const auto hit = recent.find("a", 499);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->org_id, "org-a");
  EXPECT_EQ(hit->result["output"]["id"], "a");
  EXPECT_FALSE(recent.find("a", 500));  // expired, as the store's read treats it
  EXPECT_FALSE(recent.find("b", 0));
}

TEST(RecentResults, TheOldestGoFirstWhenTheBudgetIsFull) {
  RecentResults recent(300);
  recent.keep(result("a"), 100);
  recent.keep(result("b"), 100);
  recent.keep(result("c"), 100);
  EXPECT_EQ(recent.bytes(), 300u);
  recent.keep(result("d"), 150);  // a and b make room
  EXPECT_FALSE(recent.find("a", 0));
  EXPECT_FALSE(recent.find("b", 0));
  EXPECT_TRUE(recent.find("c", 0));
  EXPECT_TRUE(recent.find("d", 0));
  EXPECT_EQ(recent.bytes(), 250u);
  EXPECT_EQ(recent.size(), 2u);
}

TEST(RecentResults, AResultLargerThanTheBudgetIsNotKeptAndDropsItsOlderCopy) {
  RecentResults recent(100);
  recent.keep(result("a"), 50);
  recent.keep(result("a"), 101);
  EXPECT_FALSE(recent.find("a", 0));
  EXPECT_EQ(recent.bytes(), 0u);
  RecentResults none(0);  // dispatch.result_cache_bytes 0
  none.keep(result("a"), 1);
  EXPECT_FALSE(none.find("a", 0));
}

TEST(RecentResults, KeepingARequestAgainReplacesItAndRenewsItsPlace) {
  RecentResults recent(200);
  recent.keep(result("a"), 100);
  recent.keep(result("b"), 100);
  StoredResult again = result("a");
  again.result["status"] = "failed";
  recent.keep(again, 100);  // a is now the newest
  EXPECT_EQ(recent.bytes(), 200u);
  recent.keep(result("c"), 100);  // so b goes, not a
  EXPECT_FALSE(recent.find("b", 0));
  ASSERT_TRUE(recent.find("a", 0));
  EXPECT_EQ(recent.find("a", 0)->result["status"], "failed");
  EXPECT_TRUE(recent.find("c", 0));
}

TEST(RecentResults, ForgottenResultsFreeTheirBytesAndTheQueueStaysBounded) {
  RecentResults recent(1 << 20);
  for (int i = 0; i < 10000; ++i) {
    const std::string id = std::string("r").append(std::to_string(i));
    recent.keep(result(id), 10);
    recent.forget(id);  // a gateway timeout, or a sweep
  }
  EXPECT_EQ(recent.size(), 0u);
  EXPECT_EQ(recent.bytes(), 0u);
  EXPECT_LE(recent.places(), 66u);
  recent.keep(result("last"), 10);
  EXPECT_TRUE(recent.find("last", 0));
}

}  // namespace
}  // namespace vespid::dispatch
