// Collects what a subscription receives, on whatever thread the bus delivers, for a test to
// wait for and inspect.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host/bus/bus.hpp"

namespace vespid::bus_test {

struct Received {
  std::string subject, reply_to, data;
};

// The recorded state lives on the heap, shared with the handlers it hands out: a handler may
// still be returning (or a late message arriving) when the test's Collector goes out of scope,
// before the fixture stops the bus.
class Collector {
 public:
  // A handler that records each message (then runs `also`, if set). It also checks the ABI's
  // promise that one subscription's handler never runs twice at once.
  host::Bus::Handler handler(std::function<void(const host::BusMessage&)> also = {}) {
    return [state = state_, also = std::move(also)](const host::BusMessage& m) {
      if (state->inside.exchange(true)) state->overlapped = true;
      if (also) also(m);
      std::lock_guard lock(state->mu);
      state->got.push_back({std::string(m.subject), std::string(m.reply_to), std::string(m.data)});
      state->inside = false;
      state->cv.notify_all();
    };
  }

  // Waits until at least `n` messages arrived. False on timeout.
  bool wait_for(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(state_->mu);
    return state_->cv.wait_for(lock, timeout, [&] { return state_->got.size() >= n; });
  }
  std::vector<Received> all() {
    std::lock_guard lock(state_->mu);
    return state_->got;
  }
  size_t size() {
    std::lock_guard lock(state_->mu);
    return state_->got.size();
  }
  bool overlapped() const { return state_->overlapped; }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Received> got;
    std::atomic<bool> inside{false};
    std::atomic<bool> overlapped{false};
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// The reply of one request, waited for.
class ReplyWaiter {
 public:
  std::function<void(host::BusReply)> done() {
    return [state = state_](host::BusReply r) {
      std::lock_guard lock(state->mu);
      ++state->calls;
      state->reply = std::move(r);
      state->at = std::chrono::steady_clock::now();
      state->cv.notify_all();
    };
  }
  // False if `done` was not called within `timeout`.
  bool wait(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    std::unique_lock lock(state_->mu);
    return state_->cv.wait_for(lock, timeout, [&] { return state_->calls > 0; });
  }
  host::BusReply reply() {
    std::lock_guard lock(state_->mu);
    return state_->reply;
  }
  int calls() {
    std::lock_guard lock(state_->mu);
    return state_->calls;
  }
  std::chrono::steady_clock::time_point at() {
    std::lock_guard lock(state_->mu);
    return state_->at;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    int calls = 0;
    host::BusReply reply{host::BusStatus::Error, {}, "not called"};
    std::chrono::steady_clock::time_point at{};
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace vespid::bus_test
