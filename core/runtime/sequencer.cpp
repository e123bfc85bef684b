#include "runtime/sequencer.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>

#include "runtime/end_of_turn.hpp"

namespace vespid::core {

namespace {
thread_local const Sequencer* t_running = nullptr;
}

bool Sequencer::running_in_this_thread() const noexcept {
  return t_running == this;
}

Sequencer::Load Sequencer::load() const noexcept {
  return Load{busy_ns_.load(std::memory_order_relaxed),
              ran_at_once_.load(std::memory_order_relaxed),
              ran_queued_.load(std::memory_order_relaxed)};
}

void Sequencer::set_handoff(std::function<void()> handoff, std::size_t drain_budget) {
  handoff_ = std::move(handoff);
  drain_budget_ = drain_budget;
}

bool Sequencer::enter_if_idle() {
  std::lock_guard lock(mutex_);
  if (running_ || !queue_.empty()) return false;
  running_ = true;
  return true;
}

void Sequencer::enqueue(Work work) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(work));
    if (running_) return;
    running_ = true;
  }
  run_queue();
}

void Sequencer::drain() {
  {
    std::lock_guard lock(mutex_);
    if (running_ || queue_.empty()) return;
    running_ = true;
  }
  run_queue();
}

namespace {
// One item of core work; what it throws is logged, and the queue goes on.
template <class Run>
void run_item(Run&& run) {
  try {
    run();
  } catch (const std::exception& e) {
    if (auto l = spdlog::get("core")) l->error("core work threw: {}", e.what());
  } catch (...) {
    if (auto l = spdlog::get("core")) l->error("core work threw a non-standard exception");
  }
  end_of_turn::item_end();
}

uint64_t now_ns() noexcept {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}
// The load counters are written only by the thread holding the core, so a load and a store do
// (no locked add).
void add(std::atomic<uint64_t>& counter, uint64_t n) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
}  // namespace

void Sequencer::run_queue(void (*first)(void*), void* first_ctx) {
  const uint64_t entered = now_ns();
  // Replies held while this thread runs the core are written when it lets go.
  end_of_turn::Scope turn;
  const Sequencer* outer = t_running;
  t_running = this;
  std::size_t done = 0;
  if (first != nullptr) {
    run_item([&] { first(first_ctx); });
    ++done;
  }
  const std::size_t at_once = done;
  // Counted while the core is still held, so that two holders never write at once.
  auto count = [&] {
    add(ran_at_once_, at_once);
    add(ran_queued_, done - at_once);
    add(busy_ns_, now_ns() - entered);
  };
  for (;;) {
    Work next;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        count();
        running_ = false;
        break;
      }
      if (drain_budget_ != 0 && done >= drain_budget_ && handoff_) {
        // Let someone else (the loop thread) continue; this thread has its own I/O to serve.
        count();
        running_ = false;
        t_running = outer;
        handoff_();
        return;
      }
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    run_item(next);
    ++done;
  }
  t_running = outer;
}

}  // namespace vespid::core
