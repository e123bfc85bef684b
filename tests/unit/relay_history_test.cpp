// RelayHistory (core/cluster): what an instance keeps of the host events it relayed, for the
// instance that may adopt the dispatch: whole histories only, and bounded.
#include "cluster/relay_history.hpp"

#include <gtest/gtest.h>

namespace vespid::cluster {
namespace {

using nlohmann::json;

json ev(int seq) {
  return {{"seq", seq}, {"kind", "agent.assistant_delta"}, {"payload", {{"text", "x"}}}};
}

TEST(RelayHistory, AStreamFromItsFirstEventIsWholeAndFinishedForgetsIt) {
  RelayHistory h;
  for (int i = 1; i <= 3; ++i) h.event("r1", ev(i), 10);
  auto whole = h.whole("r1");
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->size(), 3u);
  EXPECT_EQ((*whole)[2]["seq"], 3);
  EXPECT_EQ(h.bytes(), 30u);
  h.finished("r1");
  EXPECT_FALSE(h.whole("r1"));
  EXPECT_EQ(h.bytes(), 0u);
}

TEST(RelayHistory, ReceivedFirstMakesAnUnnumberedStreamWhole) {
  RelayHistory h;
  h.received("r1");
  h.event("r1", json{{"kind", "agent.final"}}, 5);
  ASSERT_TRUE(h.whole("r1"));
  EXPECT_EQ(h.whole("r1")->size(), 1u);
}

TEST(RelayHistory, AStreamJoinedMidwayIsNeverWhole) {
  RelayHistory h;
  h.event("r1", ev(7), 10);  // the host reconnected here after its first six events
  h.event("r1", ev(8), 10);
  EXPECT_FALSE(h.whole("r1"));
  EXPECT_EQ(h.bytes(), 0u) << "nothing is kept for a history that cannot be replayed";
}

TEST(RelayHistory, AStreamOverItsBoundsIsCutAndNoLongerWhole) {
  RelayHistory h;
  h.event("big", ev(1), RelayHistory::kMaxBytesPerDispatch - 1);
  ASSERT_TRUE(h.whole("big"));
  h.event("big", ev(2), 2);
  EXPECT_FALSE(h.whole("big"));
  EXPECT_EQ(h.bytes(), 0u);

  RelayHistory n;
  for (std::size_t i = 1; i <= RelayHistory::kMaxEventsPerDispatch; ++i)
    n.event("many", ev(static_cast<int>(i)), 1);
  ASSERT_TRUE(n.whole("many"));
  n.event("many", ev(0), 1);
  EXPECT_FALSE(n.whole("many"));
}

TEST(RelayHistory, TheOldestAreForgottenPastTheTotalBound) {
  RelayHistory h;
  const std::size_t each = RelayHistory::kMaxBytesPerDispatch - 1;
  const std::size_t fit = RelayHistory::kMaxBytesTotal / each;
  for (std::size_t i = 0; i <= fit; ++i) h.event("r" + std::to_string(i), ev(1), each);
  EXPECT_LE(h.bytes(), RelayHistory::kMaxBytesTotal);
  EXPECT_FALSE(h.whole("r0")) << "the oldest went first";
  EXPECT_TRUE(h.whole("r" + std::to_string(fit))) << "the newest stays";
}

TEST(RelayHistory, TheNumberOfDispatchesKeptIsBounded) {
  RelayHistory h;
  for (std::size_t i = 0; i < RelayHistory::kMaxDispatches + 10; ++i)
    h.received("r" + std::to_string(i));
  EXPECT_EQ(h.dispatches(), RelayHistory::kMaxDispatches);
  EXPECT_FALSE(h.whole("r0"));
  EXPECT_TRUE(h.whole("r" + std::to_string(RelayHistory::kMaxDispatches + 9)));
  // Finished ones leave nothing behind, however many come and go.
  for (std::size_t i = 0; i < 100000; ++i) {
    h.received("f" + std::to_string(i));
    h.finished("f" + std::to_string(i));
  }
  EXPECT_LE(h.dispatches(), RelayHistory::kMaxDispatches);
}

}  // namespace
}  // namespace vespid::cluster
