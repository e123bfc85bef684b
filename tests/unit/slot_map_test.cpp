// SlotMap: slots reused without their old keys finding the new entry, and key 0 never valid.
#include "runtime/slot_map.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

namespace vespid::core {
namespace {

TEST(SlotMap, AKeyFindsItsEntryUntilTakenAndNeverAfter) {
  SlotMap<std::string> m;
  const auto a = m.insert("a");
  const auto b = m.insert("b");
  EXPECT_NE(a, 0u);
  EXPECT_NE(b, 0u);
  EXPECT_NE(a, b);
  ASSERT_NE(m.find(a), nullptr);
  EXPECT_EQ(*m.find(a), "a");
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.take(a), std::optional<std::string>("a"));
  EXPECT_EQ(m.find(a), nullptr);
  EXPECT_EQ(m.take(a), std::nullopt) << "taken twice";
  // The freed slot is reused; the old key must not name the new entry.
  const auto c = m.insert("c");
  EXPECT_NE(c, a);
  EXPECT_EQ(m.find(a), nullptr);
  EXPECT_EQ(*m.find(c), "c");
  EXPECT_EQ(*m.find(b), "b");
  EXPECT_EQ(m.size(), 2u);
}

TEST(SlotMap, KeysFromOutsideThatNameNothingFindNothing) {
  SlotMap<int> m;
  EXPECT_EQ(m.find(0), nullptr);
  const auto k = m.insert(7);
  EXPECT_EQ(m.find(0), nullptr);
  EXPECT_EQ(m.find(k + 1), nullptr) << "a slot never used";
  EXPECT_EQ(m.find(k ^ (uint64_t{1} << 40)), nullptr) << "the right slot, another generation";
  EXPECT_EQ(m.find(~uint64_t{0}), nullptr);
  EXPECT_EQ(*m.find(k), 7);
}

// Under churn (what an invoke load does), every key handed out is distinct, and the entries
// held are exactly the ones not taken.
TEST(SlotMap, ChurnReusesSlotsWithDistinctKeys) {
  SlotMap<std::unique_ptr<int>> m;
  std::set<uint64_t> seen;
  std::vector<uint64_t> live;
  for (int round = 0; round < 1000; ++round) {
    while (live.size() < 16) {
      const auto k = m.insert(std::make_unique<int>(round));
      EXPECT_TRUE(seen.insert(k).second) << "key " << k << " handed out twice";
      live.push_back(k);
    }
    for (size_t i = 0; i < live.size(); i += 2) ASSERT_TRUE(m.take(live[i]));
    std::erase_if(live, [&](uint64_t k) { return m.find(k) == nullptr; });
  }
  EXPECT_EQ(m.size(), live.size());
  size_t visited = 0;
  m.for_each([&](uint64_t k, const std::unique_ptr<int>& v) {
    EXPECT_NE(m.find(k), nullptr);
    EXPECT_NE(v, nullptr);
    ++visited;
  });
  EXPECT_EQ(visited, live.size());
}

}  // namespace
}  // namespace vespid::core
