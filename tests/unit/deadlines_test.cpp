// Deadlines (runtime/deadlines.hpp): each fires once, in time order and in set order at equal
// times, inside the Sequencer it is bound to; a cancelled one never fires, its id never cancels a
// later deadline, and the heap does not keep cancelled entries without bound. WakeList waits on
// the Deadlines it is given, so a waiter resumes in that Deadlines' Sequencer.
#include "runtime/deadlines.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "runtime/loop.hpp"
#include "runtime/sequencer.hpp"
#include "runtime/task.hpp"
#include "runtime/wake_list.hpp"

namespace vespid::core {
namespace {

using namespace std::chrono_literals;

// Runs the loop until `done` says so or two seconds pass, then a little longer, so that what
// should not fire has had its chance.
void run_until(Loop& loop, const std::function<bool()>& done) {
  loop.io().restart();
  auto guard = boost::asio::make_work_guard(loop.io());
  const auto end = std::chrono::steady_clock::now() + 2s;
  while (!done() && std::chrono::steady_clock::now() < end) loop.io().run_for(5ms);
  loop.io().run_for(30ms);
}

TEST(Deadlines, FireInOrderAndCancelledOnesNever) {
  Loop loop;
  Deadlines d(loop);
  std::vector<int> fired;
  loop.sequencer().execute([&] {
    d.after(30ms, [&] { fired.push_back(3); });
    d.after(10ms, [&] { fired.push_back(1); });
    d.cancel(d.after(20ms, [&] { fired.push_back(2); }));
  });
  run_until(loop, [&] { return fired.size() >= 2; });
  EXPECT_EQ(fired, (std::vector<int>{1, 3}));
  EXPECT_EQ(d.pending(), 0u);
}

TEST(Deadlines, DueAtTheSameTimeTheyFireInTheOrderTheyWereSet) {
  Loop loop;
  Deadlines d(loop);
  std::vector<int> fired;
  loop.sequencer().execute([&] {
    const auto when = Deadlines::Clock::now() + 5ms;
    for (int i = 0; i < 50; ++i) d.at(when, [&fired, i] { fired.push_back(i); });
  });
  run_until(loop, [&] { return fired.size() >= 50; });
  std::vector<int> expected;
  for (int i = 0; i < 50; ++i) expected.push_back(i);
  EXPECT_EQ(fired, expected);
}

TEST(Deadlines, AnOldIdDoesNotCancelTheDeadlineThatReusedItsSlot) {
  Loop loop;
  Deadlines d(loop);
  bool second_fired = false;
  loop.sequencer().execute([&] {
    const Deadlines::Id first = d.after(1h, [] {});
    d.cancel(first);
    const Deadlines::Id second = d.after(5ms, [&] { second_fired = true; });
    EXPECT_NE(second, first);
    EXPECT_NE(second, 0u);
    d.cancel(first);  // already cancelled: must not reach the slot's new deadline
    EXPECT_EQ(d.pending(), 1u);
  });
  run_until(loop, [&] { return second_fired; });
  EXPECT_TRUE(second_fired);
}

TEST(Deadlines, CancelledEntriesAreSweptSoTheHeapStaysNearThePendingCount) {
  Loop loop;
  Deadlines d(loop);
  loop.sequencer().execute([&] {
    // What every invoke does: set a long timeout, then cancel it when the answer comes.
    std::vector<Deadlines::Id> keep;
    for (int i = 0; i < 100; ++i) keep.push_back(d.after(1h, [] {}));
    size_t largest = 0;
    for (int i = 0; i < 100000; ++i) {
      d.cancel(d.after(30s, [] {}));
      largest = std::max(largest, d.heap_size());
    }
    EXPECT_EQ(d.pending(), 100u);
    EXPECT_LE(largest, 2 * 100u + 64u + 1u);
    for (auto id : keep) d.cancel(id);
    EXPECT_EQ(d.pending(), 0u);
  });
}

TEST(Deadlines, ACallbackMaySetAndCancelDeadlines) {
  Loop loop;
  Deadlines d(loop);
  std::vector<std::string> fired;
  loop.sequencer().execute([&] {
    Deadlines::Id doomed = d.after(20ms, [&] { fired.push_back("doomed"); });
    d.after(5ms, [&, doomed] {
      fired.push_back("first");
      d.cancel(doomed);
      // Enough new deadlines to move the slots' storage while this callback runs.
      for (int i = 0; i < 100; ++i) d.after(1h, [] {});
      d.after(10ms, [&] { fired.push_back("set by first"); });
    });
  });
  run_until(loop, [&] { return fired.size() >= 2; });
  EXPECT_EQ(fired, (std::vector<std::string>{"first", "set by first"}));
  EXPECT_EQ(d.pending(), 100u);
  d.shutdown();
}

// Two Sequencers, as two shards would have: each Deadlines fires inside its own one only.
TEST(Deadlines, EachFiresInsideTheSequencerItIsBoundTo) {
  Loop loop;
  Sequencer other;
  Deadlines on_loop(loop);
  Deadlines on_other(loop, other);
  int fired = 0;
  bool loop_ran_in_its_own = false, other_ran_in_its_own = false;
  loop.sequencer().execute([&] {
    on_loop.after(5ms, [&] {
      loop_ran_in_its_own =
          loop.sequencer().running_in_this_thread() && !other.running_in_this_thread();
      ++fired;
    });
  });
  other.execute([&] {
    on_other.after(5ms, [&] {
      other_ran_in_its_own =
          other.running_in_this_thread() && !loop.sequencer().running_in_this_thread();
      ++fired;
    });
  });
  run_until(loop, [&] { return fired >= 2; });
  EXPECT_EQ(fired, 2);
  EXPECT_TRUE(loop_ran_in_its_own);
  EXPECT_TRUE(other_ran_in_its_own);
}

Task<bool> wait_for(WakeList& list, const std::string* key, bool& resumed_in_other,
                    Sequencer& other) {
  const bool woken = co_await list.wait(key, 1s);
  resumed_in_other = other.running_in_this_thread();
  co_return woken;
}

TEST(WakeList, AWaiterResumesInsideItsDeadlinesSequencer) {
  Loop loop;
  Sequencer other;
  Deadlines deadlines(loop, other);
  WakeList list(deadlines);
  const std::string key = "run-1";
  bool resumed_in_other = false;
  bool done = false, woken = false;
  other.execute([&] {
    spawn<bool>(
        wait_for(list, &key, resumed_in_other, other),
        [&](bool w) {
          woken = w;
          done = true;
        },
        [&](std::exception_ptr) { done = true; });
  });
  EXPECT_EQ(list.waiting(), 1u);
  other.execute([&] { list.wake(key); });
  run_until(loop, [&] { return done; });
  EXPECT_TRUE(done);
  EXPECT_TRUE(woken);
  EXPECT_TRUE(resumed_in_other);
  EXPECT_EQ(deadlines.pending(), 0u);
}

}  // namespace
}  // namespace vespid::core
