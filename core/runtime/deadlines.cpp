#include "runtime/deadlines.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "runtime/loop.hpp"
#include "runtime/sequencer.hpp"

namespace vespid::core {

namespace {
// std::*_heap build a max-heap; "later" as the order makes its top the earliest entry.
template <class Entry>
bool later(const Entry& a, const Entry& b) noexcept {
  if (a.when != b.when) return a.when > b.when;
  return a.order > b.order;
}
// Below this many cancelled entries the heap is left as it is: sweeping costs a pass over it.
constexpr size_t kSweepFloor = 64;
}  // namespace

struct Deadlines::Shared {
  explicit Shared(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  bool stopped = false;
};

Deadlines::Deadlines(Loop& loop, Sequencer& sequencer)
    : loop_(loop), sequencer_(sequencer), shared_(std::make_shared<Shared>(loop.io())) {}

Deadlines::Deadlines(Loop& loop) : Deadlines(loop, loop.sequencer()) {}

Deadlines::~Deadlines() {
  shared_->stopped = true;
}

Deadlines::Id Deadlines::at(Clock::time_point when, std::function<void()> fn) {
  uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[index];
  slot.fn = std::move(fn);
  slot.live = true;
  ++live_;
  const Id id = make_id(index, slot.generation);
  heap_.push_back(Entry{when, next_order_++, id});
  std::push_heap(heap_.begin(), heap_.end(), later<Entry>);
  if (when < armed_for_) rearm();
  return id;
}

Deadlines::Slot* Deadlines::live_slot(Id id) noexcept {
  const auto index = static_cast<uint32_t>(id & 0xffffffffu);
  const auto generation = static_cast<uint32_t>(id >> 32);
  if (index >= slots_.size()) return nullptr;
  Slot& slot = slots_[index];
  return slot.live && slot.generation == generation ? &slot : nullptr;
}

void Deadlines::end_slot(uint32_t index) noexcept {
  Slot& slot = slots_[index];
  slot.live = false;
  slot.fn = nullptr;
  if (++slot.generation == 0) slot.generation = 1;  // keeps ids non-zero
  --live_;
  free_slots_.push_back(index);
}

void Deadlines::cancel(Id id) {
  if (live_slot(id) == nullptr) return;
  end_slot(static_cast<uint32_t>(id & 0xffffffffu));
  // Its heap entry stays until it comes up or a sweep takes it. The timer may then fire early
  // for nothing; fire_due copes, and re-arming on every cancel would cost a loop post per
  // cancelled invoke.
  if (heap_.size() - live_ > std::max(live_, kSweepFloor)) sweep_cancelled();
}

void Deadlines::pop_entry() {
  std::pop_heap(heap_.begin(), heap_.end(), later<Entry>);
  heap_.pop_back();
}

void Deadlines::sweep_cancelled() {
  std::erase_if(heap_, [this](const Entry& e) { return live_slot(e.id) == nullptr; });
  std::make_heap(heap_.begin(), heap_.end(), later<Entry>);
  if (heap_.capacity() > 4 * heap_.size() + 1024) heap_.shrink_to_fit();  // after a burst
}

void Deadlines::rearm() {
  while (!heap_.empty() && live_slot(heap_.front().id) == nullptr) pop_entry();
  if (heap_.empty()) return;
  Clock::time_point when = heap_.front().when;
  armed_for_ = when;
  auto shared = shared_;
  Sequencer* sequencer = &sequencer_;
  loop_.post([shared, sequencer, when, this] {
    if (shared->stopped) return;
    shared->timer.expires_at(when);
    shared->timer.async_wait([shared, sequencer, this](const boost::system::error_code& ec) {
      if (ec || shared->stopped) return;  // re-armed (cancelled) or shut down
      sequencer->execute([shared, this] {
        if (!shared->stopped) fire_due();
      });
    });
  });
}

void Deadlines::fire_due() {
  armed_for_ = Clock::time_point::max();
  const auto now = Clock::now();
  while (!heap_.empty() && heap_.front().when <= now) {
    const Id id = heap_.front().id;
    pop_entry();
    if (live_slot(id) == nullptr) continue;  // cancelled
    const auto index = static_cast<uint32_t>(id & 0xffffffffu);
    // Moved out first: the callback may set or cancel deadlines, and so grow slots_.
    std::function<void()> fn = std::move(slots_[index].fn);
    end_slot(index);
    fn();
  }
  rearm();
}

void Deadlines::shutdown() {
  shared_->stopped = true;
  shared_->timer.cancel();
}

}  // namespace vespid::core
