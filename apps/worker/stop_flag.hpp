// The process-wide "stop" of a worker (SIGTERM/SIGINT): set once, seen by every thread, and able
// to cut a backoff sleep short.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace vespid::worker {

class StopFlag {
 public:
  // Any thread (the signal waiter), once or more.
  void request();
  // Any thread.
  bool requested() const { return stop_.load(std::memory_order_acquire); }
  // Any thread: sleeps up to `d`; false when woken by request() (or already stopping).
  bool sleep_for(std::chrono::milliseconds d) const;

 private:
  std::atomic<bool> stop_{false};
  // Only for sleep_for's wake-up: request() notifies under it so a sleeper cannot miss it.
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
};

}  // namespace vespid::worker
