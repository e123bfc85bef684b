#include "runtime/sequencer.hpp"

#include <spdlog/spdlog.h>

#include <exception>

#include "runtime/end_of_turn.hpp"

namespace vespid::core {

namespace {
thread_local const Sequencer* t_running = nullptr;
}

bool Sequencer::running_in_this_thread() const noexcept {
  return t_running == this;
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
}  // namespace

void Sequencer::run_queue(void (*first)(void*), void* first_ctx) {
  // Replies held while this thread runs the core are written when it lets go.
  end_of_turn::Scope turn;
  const Sequencer* outer = t_running;
  t_running = this;
  std::size_t done = 0;
  if (first != nullptr) {
    run_item([&] { first(first_ctx); });
    ++done;
  }
  for (;;) {
    Work next;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        running_ = false;
        break;
      }
      if (drain_budget_ != 0 && done >= drain_budget_ && handoff_) {
        // Let someone else (the loop thread) continue; this thread has its own I/O to serve.
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
