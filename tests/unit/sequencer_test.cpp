#include "runtime/sequencer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/end_of_turn.hpp"

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

// Records, when the one instance that still holds its state is destroyed, whether that
// happened inside the core's turn. A moved-from instance holds nothing and records nothing.
struct ReportsWhereItIsReleased {
  const Sequencer* s;
  std::vector<bool>* released_inside;
  bool live = true;
  ReportsWhereItIsReleased(const Sequencer* seq, std::vector<bool>* out)
      : s(seq), released_inside(out) {}
  ReportsWhereItIsReleased(const ReportsWhereItIsReleased& o) = default;
  ReportsWhereItIsReleased(ReportsWhereItIsReleased&& o) noexcept
      : s(o.s), released_inside(o.released_inside), live(o.live) {
    o.live = false;
  }
  ~ReportsWhereItIsReleased() {
    if (live) released_inside->push_back(s->running_in_this_thread());
  }
  void operator()() const {}
};

TEST(Sequencer, WhatWorkHoldsIsReleasedInsideTheTurnWhetherItRanAtOnceOrWaited) {
  // Work's captures (a connection, say) may touch core state when they go: that must happen
  // while this thread still holds the core, for work run at once as for work that was queued.
  Sequencer s;
  std::vector<bool> released_inside;
  s.execute(ReportsWhereItIsReleased(&s, &released_inside));
  ASSERT_EQ(released_inside.size(), 1u);
  EXPECT_TRUE(released_inside[0]) << "work run at once was released after the core let go";
  s.execute([&] { s.execute(ReportsWhereItIsReleased(&s, &released_inside)); });
  ASSERT_EQ(released_inside.size(), 2u);
  EXPECT_TRUE(released_inside[1]) << "queued work was released after the core let go";
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

TEST(Sequencer, LoadCountsWhoWaitedAndHowLongTheCoreWasHeld) {
  using namespace std::chrono_literals;
  Sequencer s;
  EXPECT_EQ(s.load().busy_ns, 0u);
  s.execute([] {});
  EXPECT_EQ(s.load().ran_at_once, 1u);
  EXPECT_EQ(s.load().ran_queued, 0u);
  const uint64_t busy_before = s.load().busy_ns;

  // Another thread's work arrives while this one holds the core for 30 ms: it waits, and the
  // holder runs it before letting go.
  std::atomic<bool> holding{false};
  std::atomic<bool> other_submitted{false};
  const auto t0 = std::chrono::steady_clock::now();
  std::thread other([&] {
    while (!holding) std::this_thread::yield();
    s.execute([] {});
    other_submitted = true;
  });
  s.execute([&] {
    holding = true;
    while (!other_submitted) std::this_thread::yield();
    std::this_thread::sleep_for(30ms);
  });
  const auto held = std::chrono::steady_clock::now() - t0;
  other.join();
  const Sequencer::Load l = s.load();
  EXPECT_EQ(l.ran_at_once, 2u);
  EXPECT_EQ(l.ran_queued, 1u);
  EXPECT_GE(l.busy_ns - busy_before, 30'000'000u);
  EXPECT_LE(
      l.busy_ns - busy_before,
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(held).count()))
      << "busy longer than the test held the core";
}

// Output held inside the turn: counts its releases.
struct CountedHold final : HeldOutput {
  int released = 0;
  void release_held() noexcept override { ++released; }
};

// Two Sequencers (two shards) and a thread that enters the second from work of the first: the
// turn is the thread's, so what the inner work held is written once, when the outer turn ends,
// and what a storage submit held for its item is released when the inner item ends.
TEST(Sequencer, AnotherSequencerEnteredFromCoreWorkSharesTheThreadsTurn) {
  Sequencer outer, inner;
  auto reply = std::make_shared<CountedHold>();
  auto submit = std::make_shared<CountedHold>();
  int reply_at_inner_end = -1, submit_at_inner_end = -1;
  outer.execute([&] {
    inner.execute([&] {
      EXPECT_TRUE(inner.running_in_this_thread());
      EXPECT_FALSE(outer.running_in_this_thread());
      end_of_turn::hold(reply);
      end_of_turn::hold_for_item(submit);
    });
    EXPECT_TRUE(outer.running_in_this_thread());
    reply_at_inner_end = reply->released;
    submit_at_inner_end = submit->released;
  });
  EXPECT_EQ(reply_at_inner_end, 0);
  EXPECT_EQ(submit_at_inner_end, 1);
  EXPECT_EQ(reply->released, 1);
  EXPECT_EQ(submit->released, 1);
  EXPECT_FALSE(end_of_turn::active());
}

// Another thread holding the core, from construction until release() (or destruction).
class CoreHolder {
 public:
  explicit CoreHolder(Sequencer& s)
      : thread_([this, &s] {
          s.execute([this] {
            holding_ = true;
            while (!release_) std::this_thread::yield();
          });
        }) {
    while (!holding_) std::this_thread::yield();
  }
  ~CoreHolder() { release(); }
  // Lets go of the core and waits until the holding thread has left it.
  void release() {
    release_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> holding_{false}, release_{false};
  std::thread thread_;
};

TEST(Sequencer, RunIfIdleRunsAtOnceOrNotAtAll) {
  Sequencer s;
  int ran = 0;
  EXPECT_TRUE(s.run_if_idle([&] {
    ++ran;
    EXPECT_TRUE(s.running_in_this_thread());
    // Inside core work the core is not idle: nothing runs, nothing is queued.
    EXPECT_FALSE(s.run_if_idle([&] { ran += 100; }));
  }));
  EXPECT_EQ(ran, 1);

  // Another thread holds the core: refused, and still not queued.
  CoreHolder holder(s);
  EXPECT_FALSE(s.run_if_idle([&] { ran += 1000; }));
  holder.release();
  EXPECT_EQ(ran, 1);
  EXPECT_TRUE(s.run_if_idle([&] { ++ran; }));
  EXPECT_EQ(ran, 2);
}

// A waker that only counts: the test plays its thread and calls drain() itself.
struct CountingWaker {
  std::atomic<int> wakes{0};
  bool refuse = false;
  static bool wake(void* ctx) {
    auto* w = static_cast<CountingWaker*>(ctx);
    if (w->refuse) return false;
    w->wakes.fetch_add(1);
    return true;
  }
};

// A Sequencer with one waker that counts its wake-ups; the test plays the woken thread.
class WokenSequencer : public ::testing::Test {
 protected:
  void SetUp() override { s.add_waker(&CountingWaker::wake, &waker); }
  Sequencer s;
  CountingWaker waker;
};

TEST(Sequencer, PostWithNoWakerRunsAsExecuteDoes) {
  Sequencer s;
  std::thread::id ran_on;
  s.post([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST_F(WokenSequencer, PostLeavesTheMessageToAWokenThreadAndOneWakeServesAllUntilItDrains) {
  std::vector<int> order;
  for (int i = 1; i <= 3; ++i) s.post([&order, i] { order.push_back(i); });
  EXPECT_TRUE(order.empty());  // the sender ran none of them
  EXPECT_EQ(waker.wakes, 1);

  std::thread::id ran_on;
  std::thread owner([&] {
    s.post([&] { ran_on = std::this_thread::get_id(); });  // still the same wake-up
    s.drain();
  });
  const std::thread::id owner_id = owner.get_id();
  owner.join();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(ran_on, owner_id);
  EXPECT_EQ(waker.wakes, 1);

  // Drained: the next message needs a wake-up of its own.
  s.post([&] { order.push_back(4); });
  EXPECT_EQ(waker.wakes, 2);
  s.drain();
  EXPECT_EQ(order.back(), 4);
}

TEST_F(WokenSequencer, PostWhileTheCoreIsHeldNeedsNoWakeAndRunsBeforeTheHolderLetsGo) {
  std::vector<int> order;
  s.execute([&] {
    s.post([&] { order.push_back(2); });
    order.push_back(1);
  });
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(waker.wakes, 0);
}

TEST_F(WokenSequencer, TheOwnThreadsWorkTakesTheMessagesWaitingForItBeforeLettingGo) {
  std::vector<int> order;
  s.post([&] { order.push_back(1); });
  s.post([&] { order.push_back(2); });
  s.execute([&] { order.push_back(0); });  // its own frame, say, before the wake-up is answered
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  s.drain();  // the wake-up, answered late, finds nothing
  EXPECT_EQ(order.size(), 3u);
  s.post([&] { order.push_back(3); });
  EXPECT_EQ(waker.wakes, 2);
  s.drain();
  EXPECT_EQ(order.back(), 3);
}

TEST_F(WokenSequencer, AMessageWhoseWakeFoundTheCoreHeldRunsBeforeTheHolderLetsGo) {
  bool first = false, second = false;
  s.post([&] { first = true; });  // the core is idle: a wake-up, not yet answered
  EXPECT_EQ(waker.wakes, 1);
  CoreHolder holder(s);
  s.post([&] { second = true; });  // the core is held: no wake-up of its own
  EXPECT_EQ(waker.wakes, 1);
  s.drain();  // the woken thread: the core is held, so it leaves both to the holder
  EXPECT_FALSE(first);
  EXPECT_FALSE(second);
  holder.release();
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
}

TEST(Sequencer, AWakeSentToAWakerThatLeavesGoesToAnotherOrRunsHere) {
  Sequencer s;
  CountingWaker first, second;
  const uint64_t a = s.add_waker(&CountingWaker::wake, &first);
  const uint64_t b = s.add_waker(&CountingWaker::wake, &second);
  int ran = 0;
  s.post([&] { ++ran; });
  EXPECT_EQ(first.wakes, 1);
  s.remove_waker(a);  // left without draining
  EXPECT_EQ(second.wakes, 1);
  EXPECT_EQ(ran, 0);
  s.remove_waker(b);  // the last one: nobody left to wake, so the message runs here
  EXPECT_EQ(ran, 1);
  s.post([&] { ++ran; });
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(first.wakes + second.wakes, 2);
}

TEST(Sequencer, AWakerThatCannotTakeTheWakeIsPassedOver) {
  Sequencer s;
  CountingWaker full, free;
  full.refuse = true;  // its reactor could not queue the run (out of memory, say)
  s.add_waker(&CountingWaker::wake, &full);
  const uint64_t b = s.add_waker(&CountingWaker::wake, &free);
  int ran = 0;
  s.post([&] { ++ran; });
  EXPECT_EQ(free.wakes, 1);
  EXPECT_EQ(ran, 0);
  s.drain();
  EXPECT_EQ(ran, 1);
  s.remove_waker(b);
  s.post([&] { ++ran; });  // only the refusing one left: the message runs here
  EXPECT_EQ(ran, 2);
}

// A reactor-like owner: sleeps until woken, then drains. Messages from another thread all run on
// it, in the order sent, and the sender never runs one.
TEST(Sequencer, MessagesFromAnotherThreadRunOnTheWokenThreadInOrder) {
  struct Reactor {
    std::mutex m;
    std::condition_variable cv;
    bool woken = false;
    bool stop = false;
    static bool wake(void* ctx) {
      auto* r = static_cast<Reactor*>(ctx);
      std::lock_guard lock(r->m);
      r->woken = true;
      r->cv.notify_one();
      return true;
    }
  } reactor;
  Sequencer s;
  constexpr int kMessages = 20000;
  std::vector<int> seen;
  std::atomic<int> not_on_owner{0};
  std::atomic<bool> registered{false};
  std::thread owner([&] {
    const uint64_t handle = s.add_waker(&Reactor::wake, &reactor);
    registered = true;
    for (;;) {
      std::unique_lock lock(reactor.m);
      reactor.cv.wait(lock, [&] { return reactor.woken || reactor.stop; });
      if (reactor.stop && !reactor.woken) break;
      reactor.woken = false;
      lock.unlock();
      s.drain();
    }
    s.remove_waker(handle);
  });
  while (!registered) std::this_thread::yield();
  const std::thread::id owner_id = owner.get_id();
  for (int i = 0; i < kMessages; ++i) {
    s.post([&, i] {
      seen.push_back(i);
      if (std::this_thread::get_id() != owner_id) not_on_owner.fetch_add(1);
    });
  }
  std::atomic<bool> done{false};
  s.post([&] { done = true; });
  while (!done) std::this_thread::yield();
  {
    std::lock_guard lock(reactor.m);
    reactor.stop = true;
    reactor.cv.notify_one();
  }
  owner.join();
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(seen[i], i);
  EXPECT_EQ(not_on_owner, 0);
}

}  // namespace
}  // namespace vespid::core
