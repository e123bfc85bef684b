// The loop's fd watches keep the level-triggered promise of the ABI (vsp_host watch_new): a watch
// whose fd is still ready after its callback is called again, and a watch that never stops being
// ready does not starve other loop work. The loop finds "still ready" by re-arming its wait on
// the epoll set, not by polling the set a second time, so these hold that reading to account.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "runtime/loop.hpp"
#include "vespid/host.h"

namespace vespid::core {
namespace {

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    ::close(read_end);
    ::close(write_end);
  }
  void put(const char* bytes, size_t n) const {
    EXPECT_EQ(::write(write_end, bytes, n), ssize_t(n));
  }
};

// Stops the loop after `ms` whatever happens, so a broken loop fails the test instead of
// hanging it.
std::unique_ptr<Loop::Timer> stop_after(Loop& loop, int ms) {
  auto t = loop.make_timer([&loop] { loop.stop(); });
  t->arm(std::chrono::milliseconds(ms), std::chrono::milliseconds(0));
  return t;
}

TEST(LoopWatch, DataLeftUnreadIsReportedAgainUntilItIsRead) {
  Loop loop;
  Pipe p;
  p.put("abc", 3);
  std::string got;
  Loop::Watch* w = loop.watch_new(p.read_end, VSP_WATCH_READ, [&](uint32_t revents) {
    EXPECT_TRUE(revents & VSP_WATCH_READ);
    char c;
    ASSERT_EQ(::read(p.read_end, &c, 1), 1);  // one byte per call: the rest stays ready
    got.push_back(c);
    if (got.size() == 3) loop.stop();
  });
  ASSERT_NE(w, nullptr);
  auto guard = stop_after(loop, 5000);
  loop.run();
  EXPECT_EQ(got, "abc");
  loop.watch_free(w);
}

TEST(LoopWatch, AWatchThatStaysReadyLetsPostedWorkRunBetweenItsCalls) {
  Loop loop;
  Pipe p;
  p.put("x", 1);
  int calls = 0;
  int calls_when_posted_work_ran = -1;
  Loop::Watch* w = loop.watch_new(p.read_end, VSP_WATCH_READ, [&](uint32_t) {
    // Never reads, so the fd is ready for ever. Work posted from the first call must still run
    // after at most a few more calls, not never.
    if (++calls == 1) {
      loop.post([&] {
        calls_when_posted_work_ran = calls;
        loop.stop();
      });
    }
  });
  ASSERT_NE(w, nullptr);
  auto guard = stop_after(loop, 5000);
  loop.run();
  ASSERT_GE(calls_when_posted_work_ran, 1) << "posted work never ran: the watch starved the loop";
  EXPECT_LE(calls_when_posted_work_ran, 3);
  loop.watch_free(w);
}

TEST(LoopWatch, AWatchIdleForARoundWakesForDataWrittenLater) {
  Loop loop;
  Pipe p;
  std::string got;
  std::unique_ptr<Loop::Timer> later;
  Loop::Watch* w = loop.watch_new(p.read_end, VSP_WATCH_READ, [&](uint32_t) {
    char buf[8];
    ssize_t n = ::read(p.read_end, buf, sizeof buf);
    ASSERT_GT(n, 0);
    got.append(buf, size_t(n));
    if (got == "1") {
      // The set is empty now; the next byte comes from a timer, after the loop went to sleep.
      later = loop.make_timer([&p] { p.put("2", 1); });
      later->arm(std::chrono::milliseconds(20), std::chrono::milliseconds(0));
    } else if (got == "12") {
      loop.stop();
    }
  });
  ASSERT_NE(w, nullptr);
  p.put("1", 1);
  auto guard = stop_after(loop, 5000);
  loop.run();
  EXPECT_EQ(got, "12");
  loop.watch_free(w);
}

}  // namespace
}  // namespace vespid::core
