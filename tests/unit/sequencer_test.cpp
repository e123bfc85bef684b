#include "runtime/sequencer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace vespid::core {
namespace {

TEST(Sequencer, RunsInlineOnTheCallingThreadWhenIdle) {
  Sequencer s;
  std::thread::id ran_on;
  s.execute([&] {
    ran_on = std::this_thread::get_id();
    EXPECT_TRUE(s.running_in_this_thread());
  });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_FALSE(s.running_in_this_thread());
}

TEST(Sequencer, NestedWorkIsQueuedNotNested) {
  Sequencer s;
  std::vector<int> order;
  s.execute([&] {
    order.push_back(1);
    s.execute([&] { order.push_back(3); });
    order.push_back(2);  // the nested item must not have run yet
  });
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Sequencer, WorkFromManyThreadsNeverOverlapsAndKeepsEachProducersOrder) {
  Sequencer s;
  std::atomic<int> inside{0};
  int overlaps = 0;
  std::vector<std::vector<int>> seen(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        s.execute([&, t, i] {
          if (inside.fetch_add(1) != 0) overlaps++;
          seen[t].push_back(i);
          inside.fetch_sub(1);
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(overlaps, 0);
  for (int t = 0; t < 4; ++t) {
    ASSERT_EQ(seen[t].size(), 5000u);
    for (int i = 0; i < 5000; ++i) ASSERT_EQ(seen[t][i], i) << "producer " << t;
  }
}

TEST(Sequencer, AThrowingItemDoesNotStopTheQueue) {
  Sequencer s;
  bool later_ran = false;
  s.execute([&] {
    s.execute([] { throw std::runtime_error("boom"); });
    s.execute([&] { later_ran = true; });
  });
  EXPECT_TRUE(later_ran);
}

TEST(Sequencer, HandsOffAfterItsBudget) {
  Sequencer s;
  int handoffs = 0;
  s.set_handoff([&] { handoffs++; }, 3);
  int ran = 0;
  s.execute([&] {
    for (int i = 0; i < 10; ++i) s.execute([&] { ran++; });
  });
  EXPECT_EQ(handoffs, 1);
  EXPECT_EQ(ran, 2) << "budget 3 = the first item and two queued ones";
  s.drain();
  EXPECT_GE(ran, 5);
}

// Counts how often it is copied or moved: a callable wrapped in a Work is moved at least once.
struct CountsCopies {
  int* copies;
  std::vector<int>* order;
  int mark;
  CountsCopies(int* c, std::vector<int>* o, int m) : copies(c), order(o), mark(m) {}
  CountsCopies(const CountsCopies& o) : copies(o.copies), order(o.order), mark(o.mark) {
    ++*copies;
  }
  CountsCopies(CountsCopies&& o) noexcept : copies(o.copies), order(o.order), mark(o.mark) {
    ++*copies;
  }
  void operator()() const { order->push_back(mark); }
};

TEST(Sequencer, WorkForAnIdleCoreRunsAsItIsAndQueuedWorkIsWrapped) {
  Sequencer s;
  int copies = 0;
  std::vector<int> order;
  s.execute(CountsCopies(&copies, &order, 1));
  EXPECT_EQ(copies, 0) << "an idle core calls the work in place, without a Work around it";
  int queued_copies = 0;
  s.execute([&] {
    s.execute(CountsCopies(&queued_copies, &order, 3));
    order.push_back(2);
  });
  EXPECT_GE(queued_copies, 1) << "work queued behind running work is kept in a Work";
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Sequencer, WorkLeftByAHandoffRunsBeforeNewWork) {
  Sequencer s;
  s.set_handoff([] {}, 1);  // hands off after every item; drain() takes one more each time
  std::vector<char> order;
  s.execute([&] {
    order.push_back('a');
    s.execute([&] { order.push_back('b'); });
    s.execute([&] { order.push_back('c'); });
  });
  ASSERT_EQ(order, (std::vector<char>{'a'})) << "b and c wait for the handoff's drain";
  // The core is idle but b and c wait: new work must queue behind them, not run first.
  s.execute([&] { order.push_back('d'); });
  for (int i = 0; i < 4; ++i) s.drain();
  EXPECT_EQ(order, (std::vector<char>{'a', 'b', 'c', 'd'}));
}

}  // namespace
}  // namespace vespid::core
