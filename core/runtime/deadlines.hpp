// Timers for core code, bound to one Sequencer.
//
// Core work runs inside a Sequencer on whatever thread delivered it, but asio timers belong to
// the loop thread. A Deadlines keeps its Sequencer's deadlines (handshake timeouts, liveness
// pings, invoke timeouts, pairing expiry) in one heap and drives a single asio timer for the
// earliest of them; firing runs the due ones inside that Sequencer. A core of several shards
// (design.md, "A core on more than one thread") gives each shard's Sequencer a Deadlines of its
// own, so no deadline is shared between them.
//
// Every invoke arms one deadline and nearly always cancels it, so both are cheap: a deadline
// lives in a slot reused after it ends (no allocation past the slots' high-water mark, unless
// the callback's capture needs one), and a cancel frees the slot at once while leaving its heap
// entry behind, to be skipped when it comes up. Left-behind entries are swept out of the heap
// once they outnumber the live ones, so the heap stays within about twice the deadlines pending.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "runtime/slot_map.hpp"

namespace vespid::core {

class Loop;
class Sequencer;

// Cache lines of its own: a shard's Deadlines is written at every invoke, and two shards'
// allocated side by side would share one (performance.md, "Routing in shards").
class alignas(64) Deadlines {
 public:
  using Clock = std::chrono::steady_clock;
  // Never 0, so 0 can mean "no deadline" in the callers' records.
  using Id = uint64_t;

  // Fires into `sequencer`; the timer runs on `loop`'s thread.
  Deadlines(Loop& loop, Sequencer& sequencer);
  // Fires into the loop's own Sequencer.
  explicit Deadlines(Loop& loop);
  ~Deadlines();
  Deadlines(const Deadlines&) = delete;
  Deadlines& operator=(const Deadlines&) = delete;

  // The Sequencer only. Runs fn (inside the Sequencer) at `when`, unless cancelled first.
  // Deadlines due at the same time run in the order they were set.
  Id at(Clock::time_point when, std::function<void()> fn);
  Id after(std::chrono::milliseconds delay, std::function<void()> fn) {
    return at(Clock::now() + delay, std::move(fn));
  }
  // The Sequencer only. Cancelling an id that already fired or was cancelled is fine.
  void cancel(Id id);
  size_t pending() const noexcept { return fns_.size(); }
  // Heap entries, live and cancelled (for tests of the sweep).
  size_t heap_size() const noexcept { return heap_.size(); }

  // Loop thread: stop the timer for good (shutdown).
  void shutdown();

 private:
  struct Entry {
    Clock::time_point when;
    uint64_t order;  // set order, for deadlines due at the same time
    Id id;
  };
  // Whether `id` has not fired and was not cancelled.
  bool live(Id id) noexcept { return fns_.find(id) != nullptr; }
  void pop_entry();
  void sweep_cancelled();
  void rearm();     // Sequencer: tell the loop about a new earliest deadline
  void fire_due();  // Sequencer

  Loop& loop_;
  Sequencer& sequencer_;
  // All below: the Sequencer's.
  // The callbacks of the deadlines pending, by id: an id that fired or was cancelled names
  // nothing, even once its slot holds a newer deadline.
  SlotMap<std::function<void()>> fns_;
  std::vector<Entry> heap_;  // a min-heap on (when, order)
  uint64_t next_order_ = 0;
  Clock::time_point armed_for_ = Clock::time_point::max();

  struct Shared;  // what the loop-thread timer owns
  std::shared_ptr<Shared> shared_;
};

}  // namespace vespid::core
