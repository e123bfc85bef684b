// Coroutines that wait for something named by a key (a dispatch's result, a claimable workflow
// run), each for at most its own timeout. `wake(key)` resumes every waiter of that key; a waiter
// whose timeout passes first is resumed alone and told so. Resumption is always posted through
// Deadlines, never inline, so whoever wakes finishes its own step (storing the result, say)
// before any waiter runs.
//
// Sequencer only, like Deadlines. A waiter still suspended when the list is destroyed is never
// resumed (its frame is leaked, as at shutdown everywhere in the core).
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/deadlines.hpp"

namespace vespid::core {

class WakeList {
 public:
  explicit WakeList(Deadlines& deadlines) : deadlines_(deadlines) {}
  ~WakeList();
  WakeList(const WakeList&) = delete;
  WakeList& operator=(const WakeList&) = delete;

  // `co_await list.wait(&key, timeout)`: true when woken, false when the timeout passed.
  // A timeout of zero or less waits without a timer. The key is read at suspension only; it
  // lives in the awaiting frame (GCC 12 double-frees string members of braced awaiters).
  struct Wait {
    WakeList* list;
    const std::string* key;
    std::chrono::milliseconds timeout;
    bool woken = false;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h);
    bool await_resume() const noexcept { return woken; }
  };
  Wait wait(const std::string* key, std::chrono::milliseconds timeout) {
    return Wait{this, key, timeout};
  }

  void wake(const std::string& key);
  bool has_waiters(const std::string& key) const { return by_key_.count(key) != 0; }
  size_t waiting() const noexcept { return waiters_.size(); }

 private:
  struct Waiter {
    Wait* awaiter;  // in the suspended frame, alive until it is resumed
    std::coroutine_handle<> handle;
    Deadlines::Id timer = 0;
    std::string key;
  };
  void timed_out(uint64_t id);

  Deadlines& deadlines_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Waiter> waiters_;
  std::unordered_map<std::string, std::vector<uint64_t>> by_key_;
};

}  // namespace vespid::core
