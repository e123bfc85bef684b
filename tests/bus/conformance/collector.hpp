// Collects what a subscription receives, on whatever thread the bus delivers, for a test to
// wait for and inspect.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host/bus/bus.hpp"

namespace vespid::bus_test {

struct Received {
  std::string subject, reply_to, data;
};

class Collector {
 public:
  // A handler that records each message (then runs `also`, if set). It also checks the ABI's
  // promise that one subscription's handler never runs twice at once.
  host::Bus::Handler handler(std::function<void(const host::BusMessage&)> also = {}) {
    return [this, also = std::move(also)](const host::BusMessage& m) {
      if (inside_.exchange(true)) overlapped_ = true;
      if (also) also(m);
      {
        std::lock_guard lock(mu_);
        got_.push_back({std::string(m.subject), std::string(m.reply_to), std::string(m.data)});
      }
      inside_ = false;
      cv_.notify_all();
    };
  }

  // Waits until at least `n` messages arrived. False on timeout.
  bool wait_for(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
  }
  std::vector<Received> all() {
    std::lock_guard lock(mu_);
    return got_;
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return got_.size();
  }
  bool overlapped() const { return overlapped_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> got_;
  std::atomic<bool> inside_{false};
  std::atomic<bool> overlapped_{false};
};

// The reply of one request, waited for.
class ReplyWaiter {
 public:
  std::function<void(host::BusReply)> done() {
    return [this](host::BusReply r) {
      std::lock_guard lock(mu_);
      ++calls_;
      reply_ = std::move(r);
      at_ = std::chrono::steady_clock::now();
      cv_.notify_all();
    };
  }
  // False if `done` was not called within `timeout`.
  bool wait(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return calls_ > 0; });
  }
  host::BusReply reply() {
    std::lock_guard lock(mu_);
    return reply_;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::chrono::steady_clock::time_point at() {
    std::lock_guard lock(mu_);
    return at_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  host::BusReply reply_{host::BusStatus::Error, {}, "not called"};
  std::chrono::steady_clock::time_point at_{};
};

}  // namespace vespid::bus_test
