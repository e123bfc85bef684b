// CoreEntry: how the storage thread's completions enter the core (runtime/core_entry.hpp).
#include "runtime/core_entry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace vespid::core {
namespace {

using namespace std::chrono_literals;

TEST(CoreEntry, BeforeOpenWorkWaitsForTheLoop) {
  Loop loop;
  CoreEntry entry(loop);
  std::thread::id ran_on;
  std::thread other([&] { entry.enter([&] { ran_on = std::this_thread::get_id(); }); });
  other.join();
  EXPECT_EQ(ran_on, std::thread::id{}) << "ran before the loop did";
  loop.io().run_one();  // start-up's run_to_completion runs the loop like this
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(CoreEntry, OpenRunsWorkOnTheEnteringThreadWhenTheCoreIsIdle) {
  Loop loop;
  CoreEntry entry(loop);
  entry.open();
  std::thread::id ran_on, entered_on;
  bool in_core = false;
  std::thread other([&] {
    entered_on = std::this_thread::get_id();
    entry.enter([&] {
      ran_on = std::this_thread::get_id();
      in_core = loop.sequencer().running_in_this_thread();
    });
  });
  other.join();
  EXPECT_EQ(ran_on, entered_on);
  EXPECT_TRUE(in_core);
  EXPECT_EQ(loop.io().poll(), 0u) << "nothing should have been posted to the loop";
}

TEST(CoreEntry, WorkEnteredWhileAnotherThreadRunsTheCoreIsQueuedForThatThread) {
  Loop loop;
  CoreEntry entry(loop);
  entry.open();
  std::promise<void> inside, entered;
  std::thread::id ran_on;
  std::thread core([&] {
    loop.sequencer().execute([&] {
      inside.set_value();
      entered.get_future().wait();  // the other thread enters while this one holds the core
    });
  });
  inside.get_future().wait();
  std::thread other([&] {
    entry.enter([&] { ran_on = std::this_thread::get_id(); });
    entered.set_value();
  });
  std::thread::id other_id = other.get_id(), core_id = core.get_id();
  other.join();
  core.join();
  EXPECT_EQ(ran_on, core_id);
  EXPECT_NE(ran_on, other_id);
}

TEST(CoreEntry, CloseWaitsForInlineWorkAndThenPostsAgain) {
  Loop loop;
  CoreEntry entry(loop);
  entry.open();
  std::promise<void> started;
  std::atomic<bool> release{false}, finished{false};
  std::thread storage([&] {
    entry.enter([&] {
      started.set_value();
      while (!release.load()) std::this_thread::sleep_for(1ms);
      finished = true;
    });
  });
  if (started.get_future().wait_for(5s) != std::future_status::ready) {
    release = true;
    storage.join();
    FAIL() << "the entered work did not run inline after open()";
  }
  auto closing = std::async(std::launch::async, [&] { entry.close(); });
  EXPECT_EQ(closing.wait_for(50ms), std::future_status::timeout)
      << "close() returned while work it let in was still running";
  release = true;
  closing.get();
  EXPECT_TRUE(finished.load());
  storage.join();

  bool ran = false;
  std::thread late([&] { entry.enter([&] { ran = true; }); });
  late.join();
  EXPECT_FALSE(ran) << "after close, work goes through the loop";
  loop.io().run_one();
  EXPECT_TRUE(ran);
}

TEST(CoreEntry, CloseFromInsideInlineWorkDoesNotWaitForItself) {
  Loop loop;
  CoreEntry entry(loop);
  entry.open();
  bool closed = false;
  auto done = std::async(std::launch::async, [&] {
    entry.enter([&] {
      entry.close();  // a failure handled in core work that begins shutdown
      closed = true;
    });
  });
  ASSERT_EQ(done.wait_for(5s), std::future_status::ready) << "close() waited for its own caller";
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace vespid::core
