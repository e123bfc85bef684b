// The per-thread deadline queue behind every connection's timeouts (deadline_queue.hpp): order,
// moves, cancels, owners that go away while due, and the heap under many random changes.
#include "deadline_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

namespace vespid::ws {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A deadline that records when it fired and runs an optional action.
struct Probe {
  Probe(boost::asio::io_context& ioc, int name, std::vector<int>& log)
      : name(name), log(log), deadline(ioc.get_executor(), &fire, this) {}
  static void fire(void* p) {
    auto* self = static_cast<Probe*>(p);
    self->fired_at = Clock::now();
    self->log.push_back(self->name);
    if (self->then) self->then();
  }
  int name;
  std::vector<int>& log;
  Clock::time_point fired_at{};
  std::function<void()> then;
  Deadline deadline;
};

TEST(DeadlineQueueTest, FiresInOrderOfExpiryAndNeverEarly) {
  boost::asio::io_context ioc;
  std::vector<int> log;
  Probe a(ioc, 1, log), b(ioc, 2, log), c(ioc, 3, log);
  const Clock::time_point start = Clock::now();
  a.deadline.expires_at(start + 30ms);
  b.deadline.expires_at(start + 10ms);
  c.deadline.expires_at(start + 20ms);
  EXPECT_TRUE(a.deadline.armed());
  EXPECT_EQ(DeadlineQueue::of(ioc).armed(), 3u);
  ioc.run();  // returns once nothing is armed: the queue's timer is its only work
  EXPECT_EQ(log, (std::vector<int>{2, 3, 1}));
  EXPECT_GE(a.fired_at, start + 30ms);
  EXPECT_GE(b.fired_at, start + 10ms);
  EXPECT_GE(c.fired_at, start + 20ms);
  EXPECT_FALSE(a.deadline.armed());
  EXPECT_EQ(DeadlineQueue::of(ioc).armed(), 0u);
}

TEST(DeadlineQueueTest, AMovedDeadlineFiresAtItsNewTime) {
  boost::asio::io_context ioc;
  std::vector<int> log;
  Probe a(ioc, 1, log), b(ioc, 2, log);
  const Clock::time_point start = Clock::now();
  a.deadline.expires_at(start + 5ms);
  b.deadline.expires_at(start + 20ms);
  a.deadline.expires_at(start + 40ms);  // later: the queue's timer wakes at 5 ms for nothing
  ioc.run();
  EXPECT_EQ(log, (std::vector<int>{2, 1}));
  EXPECT_GE(a.fired_at, start + 40ms);

  log.clear();
  ioc.restart();
  const Clock::time_point again = Clock::now();
  a.deadline.expires_at(again + 200ms);
  b.deadline.expires_at(again + 100ms);
  a.deadline.expires_at(again + 10ms);  // earlier than what the timer waits for
  ioc.run_for(50ms);
  EXPECT_EQ(log, (std::vector<int>{1}));
  EXPECT_TRUE(b.deadline.armed());
  b.deadline.cancel();
}

TEST(DeadlineQueueTest, CancelledOrDestroyedDeadlinesDoNotFire) {
  boost::asio::io_context ioc;
  std::vector<int> log;
  Probe a(ioc, 1, log);
  auto b = std::make_unique<Probe>(ioc, 2, log);
  Probe c(ioc, 3, log);
  a.deadline.expires_after(5ms);
  b->deadline.expires_after(5ms);
  c.deadline.expires_after(10ms);
  a.deadline.cancel();
  a.deadline.cancel();  // twice is harmless
  b.reset();            // its owner went away while armed
  ioc.run();
  EXPECT_EQ(log, (std::vector<int>{3}));
}

TEST(DeadlineQueueTest, AFiringDeadlineMayDestroyAnotherThatIsAlsoDue) {
  boost::asio::io_context ioc;
  std::vector<int> log;
  auto first = std::make_unique<Probe>(ioc, 1, log);
  auto second = std::make_unique<Probe>(ioc, 2, log);
  const Clock::time_point at = Clock::now() + 5ms;
  first->deadline.expires_at(at);
  second->deadline.expires_at(at);
  // Whichever fires first destroys the other (the heap's order between equals is its own).
  first->then = [&] { second.reset(); };
  second->then = [&] { first.reset(); };
  ioc.run();
  EXPECT_EQ(log.size(), 1u);
}

TEST(DeadlineQueueTest, ADeadlineReArmedFromItsOwnExpiryTicks) {
  boost::asio::io_context ioc;
  std::vector<int> log;
  Probe tick(ioc, 7, log);
  tick.then = [&] {
    if (log.size() < 3) tick.deadline.expires_after(2ms);
  };
  tick.deadline.expires_after(2ms);
  ioc.run();
  EXPECT_EQ(log, (std::vector<int>{7, 7, 7}));
}

TEST(DeadlineQueueTest, ManyRandomChangesFireEachArmedDeadlineOnceInOrder) {
  boost::asio::io_context ioc;
  std::vector<int> log;
  std::vector<std::unique_ptr<Probe>> probes;
  constexpr int kProbes = 500;
  for (int i = 0; i < kProbes; ++i) probes.push_back(std::make_unique<Probe>(ioc, i, log));
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> offset_ms(1, 60);
  std::uniform_int_distribution<int> pick(0, kProbes - 1);
  const Clock::time_point base = Clock::now() + 20ms;
  std::vector<Clock::time_point> expected(kProbes, Clock::time_point::max());
  for (int step = 0; step < 5 * kProbes; ++step) {
    const int i = pick(rng);
    if (step % 7 == 0) {
      probes[static_cast<std::size_t>(i)]->deadline.cancel();
      expected[static_cast<std::size_t>(i)] = Clock::time_point::max();
    } else {
      const Clock::time_point at = base + std::chrono::milliseconds(offset_ms(rng));
      probes[static_cast<std::size_t>(i)]->deadline.expires_at(at);
      expected[static_cast<std::size_t>(i)] = at;
    }
  }
  const auto armed = static_cast<std::size_t>(
      std::count_if(expected.begin(), expected.end(),
                    [](Clock::time_point t) { return t != Clock::time_point::max(); }));
  EXPECT_EQ(DeadlineQueue::of(ioc).armed(), armed);
  ioc.run();
  ASSERT_EQ(log.size(), armed);
  for (std::size_t k = 1; k < log.size(); ++k) {
    EXPECT_LE(expected[static_cast<std::size_t>(log[k - 1])],
              expected[static_cast<std::size_t>(log[k])])
        << "at " << k;
  }
  for (int name : log) {
    const auto& p = *probes[static_cast<std::size_t>(name)];
    EXPECT_GE(p.fired_at, expected[static_cast<std::size_t>(name)]);
  }
}

TEST(DeadlineQueueTest, AnExpiryThatThrowsLeavesTheOthersArmed) {
  // The exception leaves run() (the plugin's I/O threads log it and run on); the deadlines
  // still armed keep their wake-up.
  boost::asio::io_context ioc;
  std::vector<int> log;
  Probe a(ioc, 1, log), b(ioc, 2, log);
  a.then = [] { throw std::runtime_error("from an expiry"); };
  const Clock::time_point start = Clock::now();
  a.deadline.expires_at(start + 2ms);
  b.deadline.expires_at(start + 20ms);
  EXPECT_THROW(ioc.run(), std::runtime_error);
  ioc.restart();
  ioc.run();
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
  EXPECT_GE(b.fired_at, start + 20ms);
}

TEST(DeadlineQueueTest, ACancelledLastDeadlineLeavesTheContextNoWork) {
  // An armed deadline is work for the io_context (its run() does not return); once the last
  // one is cancelled the queue's own wait goes too, and run() may return.
  boost::asio::io_context ioc;
  std::vector<int> log;
  Probe a(ioc, 1, log);
  a.deadline.expires_after(10s);
  ioc.poll();
  EXPECT_FALSE(ioc.stopped());
  a.deadline.cancel();
  ioc.poll();
  EXPECT_TRUE(ioc.stopped());
  EXPECT_TRUE(log.empty());
}

TEST(DeadlineQueueTest, OnlyAnIoContextHasAQueue) {
  // Type-erased, the io_context's executor still leads to its queue.
  boost::asio::io_context ioc;
  const boost::asio::any_io_executor erased = ioc.get_executor();
  EXPECT_EQ(&DeadlineQueue::of(erased), &DeadlineQueue::of(ioc));
  EXPECT_EQ(&DeadlineQueue::of(ioc.get_executor()), &DeadlineQueue::of(ioc));
  boost::asio::thread_pool pool(1);
  const boost::asio::any_io_executor erased_pool = pool.get_executor();
  EXPECT_THROW(DeadlineQueue::of(erased_pool), std::invalid_argument);
  EXPECT_THROW(Deadline(
                   pool.get_executor(), [](void*) {}, nullptr),
               std::invalid_argument);
  pool.join();
}

}  // namespace
}  // namespace vespid::ws
