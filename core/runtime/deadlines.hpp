// Timers for core code. Core work runs inside the Sequencer on whatever thread delivered it, but
// asio timers belong to the loop thread; this keeps every core deadline (handshake timeouts,
// liveness pings, invoke timeouts, pairing expiry) in one ordered map and drives a single asio
// timer for the earliest of them. Firing posts back into the Sequencer.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

namespace vespid::core {

class Loop;

class Deadlines {
 public:
  using Clock = std::chrono::steady_clock;
  using Id = uint64_t;

  explicit Deadlines(Loop& loop);
  ~Deadlines();

  // Sequencer only. Runs fn (inside the Sequencer) at `when`, unless cancelled first.
  Id at(Clock::time_point when, std::function<void()> fn);
  Id after(std::chrono::milliseconds delay, std::function<void()> fn) {
    return at(Clock::now() + delay, std::move(fn));
  }
  // Sequencer only. Cancelling an id that already fired or was cancelled is fine.
  void cancel(Id id);
  size_t pending() const noexcept { return by_id_.size(); }

  // Loop thread: stop the timer for good (shutdown).
  void shutdown();

 private:
  void rearm();     // Sequencer: tell the loop about a new earliest deadline
  void fire_due();  // Sequencer

  Loop& loop_;
  std::multimap<Clock::time_point, std::pair<Id, std::function<void()>>> queue_;
  std::unordered_map<
      Id, std::multimap<Clock::time_point, std::pair<Id, std::function<void()>>>::iterator>
      by_id_;
  Id next_id_ = 1;
  Clock::time_point armed_for_ = Clock::time_point::max();

  struct Shared;  // what the loop-thread timer owns
  std::shared_ptr<Shared> shared_;
};

}  // namespace vespid::core
