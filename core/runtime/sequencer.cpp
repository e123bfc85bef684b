#include "runtime/sequencer.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <utility>

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

Sequencer::~Sequencer() {
  // Messages nobody ran (a shard torn down with some in flight) are dropped, as queued work is.
  take_inbox();
  while (held_ != nullptr) delete std::exchange(held_, held_->next);
}

bool Sequencer::enter_if_idle() {
  std::lock_guard lock(mutex_);
  if (running_ || !queue_.empty() || held_ != nullptr) return false;
  running_ = true;
  holding_.store(true, std::memory_order_relaxed);
  return true;
}

void Sequencer::enqueue(Work work) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(work));
    if (running_) return;
    running_ = true;
    holding_.store(true, std::memory_order_relaxed);
  }
  run_queue();
}

void Sequencer::drain() {
  // This is the drain a wake-up asked for (or it makes that one unneeded). Cleared before the
  // inbox is looked at, and both sequentially consistent with a sender's push and its look at
  // this flag: either this drain sees the message or its sender sees the flag clear and wakes
  // again.
  wake_pending_.store(false);
  {
    std::lock_guard lock(mutex_);
    if (running_) return;  // the holder takes the inbox before it lets go
    if (queue_.empty() && held_ == nullptr && inbox_.load() == nullptr) return;
    running_ = true;
    holding_.store(true, std::memory_order_relaxed);
  }
  run_queue();
}

void Sequencer::push_message(InboxNode* node) {
  InboxNode* head = inbox_.load(std::memory_order_relaxed);
  do {
    node->next = head;
  } while (!inbox_.compare_exchange_weak(head, node));
  // Not the first since the inbox was last taken: whoever handles the first takes this too.
  if (head != nullptr) return;
  // Someone holds the core: it looks at the inbox after it clears this flag and before it lets
  // go (run_queue), so either it sees this message or this sees the flag clear.
  if (holding_.load()) return;
  // A wake-up is already on its way (its drain has not begun): it will take this.
  if (wake_pending_.exchange(true)) return;
  if (wake_a_waker()) return;
  // Nobody to wake: run it here, as execute would (or leave it to the holder, if there is one).
  wake_pending_.store(false);
  drain();
}

void Sequencer::take_inbox() {
  if (inbox_.load(std::memory_order_relaxed) == nullptr) return;
  InboxNode* newest = inbox_.exchange(nullptr);
  InboxNode* oldest = nullptr;
  InboxNode* const last = newest;
  while (newest != nullptr) {
    InboxNode* next = newest->next;
    newest->next = oldest;
    oldest = newest;
    newest = next;
  }
  if (held_tail_ != nullptr) {
    held_tail_->next = oldest;
  } else {
    held_ = oldest;
  }
  held_tail_ = last;
}

bool Sequencer::wake_a_waker() {
  std::lock_guard lock(wakers_mutex_);
  for (const Waker& w : wakers_) {
    if (w.wake(w.ctx)) return true;
  }
  return false;
}

uint64_t Sequencer::add_waker(WakeFn wake, void* ctx) {
  std::lock_guard lock(wakers_mutex_);
  const uint64_t handle = next_waker_++;
  wakers_.push_back({handle, wake, ctx});
  return handle;
}

void Sequencer::remove_waker(uint64_t handle) {
  {
    std::lock_guard lock(wakers_mutex_);
    std::erase_if(wakers_, [handle](const Waker& w) { return w.handle == handle; });
  }
  // The wake-up in flight may have gone to the thread that just left, which will not drain:
  // send it again, to a waker still here, or drain on this thread.
  if (!wake_pending_.load()) return;
  if (wake_a_waker()) return;
  wake_pending_.store(false);
  drain();
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
  const auto over_budget = [&] { return drain_budget_ != 0 && done >= drain_budget_ && handoff_; };
  for (;;) {
    take_inbox();
    if (held_ != nullptr && !over_budget()) {
      // Messages are the holder's own once taken: no lock. Other shards wait on them.
      InboxNode* node = std::exchange(held_, held_->next);
      if (held_ == nullptr) held_tail_ = nullptr;
      run_item([node] { node->run(); });
      delete node;
      ++done;
      continue;
    }
    Work next;
    {
      std::lock_guard lock(mutex_);
      if (held_ == nullptr && queue_.empty()) {
        // A last look at the inbox, after clearing the flag senders read, and under the lock
        // drain() takes: a message whose sender saw the flag set, or whose wake-up found the
        // core held, is seen here.
        holding_.store(false);
        if (inbox_.load() != nullptr) {
          holding_.store(true, std::memory_order_relaxed);
          continue;
        }
        count();
        running_ = false;
        break;
      }
      if (over_budget()) {
        // Let someone else (the loop thread) continue; this thread has its own I/O to serve.
        count();
        running_ = false;
        holding_.store(false);  // the handoff's drain takes the inbox
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
