// Serialises the core's work without giving it a thread of its own.
//
// The core's state (connections, routing, pending requests) has one owner at a time. Rather than
// hopping every frame onto a dedicated core thread (about 30 us to wake an idle thread on the
// other core of these machines), whichever thread delivers work runs it inline if the core is
// idle, and otherwise queues it for the thread that is currently running the core. Work queued
// while running is drained by the same thread before it lets go, in FIFO order, so the work of
// one producer runs in the order it was submitted.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace vespid::core {

class Sequencer {
 public:
  using Work = std::function<void()>;

  // Runs `work` now on this thread if the core is idle, else queues it. Never blocks on other
  // work running (only on the queue's mutex). Re-entrant: calling it from inside core work
  // queues, so core code never nests.
  void execute(Work work);

  // True on the thread currently running core work.
  bool running_in_this_thread() const noexcept;

  // How many items a single thread drains before handing the rest to `handoff` (so one transport
  // thread is not kept from its own I/O for long). Set once at start-up.
  void set_handoff(std::function<void()> handoff, std::size_t drain_budget);

  // Drains the queue on this thread (used by the handoff target).
  void drain();

 private:
  void run_queue();

  std::mutex mutex_;
  std::deque<Work> queue_;
  bool running_ = false;
  std::function<void()> handoff_;
  std::size_t drain_budget_ = 0;  // 0: unbounded
};

}  // namespace vespid::core
