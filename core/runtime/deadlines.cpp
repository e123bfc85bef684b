#include "runtime/deadlines.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>

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
  const Id id = fns_.insert(std::move(fn));
  heap_.push_back(Entry{when, next_order_++, id});
  std::push_heap(heap_.begin(), heap_.end(), later<Entry>);
  if (when < armed_for_) rearm();
  return id;
}

void Deadlines::cancel(Id id) {
  if (!fns_.take(id)) return;
  // Its heap entry stays until it comes up or a sweep takes it. The timer may then fire early
  // for nothing; fire_due copes, and re-arming on every cancel would cost a loop post per
  // cancelled invoke.
  const size_t live = fns_.size();
  if (heap_.size() - live > std::max(live, kSweepFloor)) sweep_cancelled();
}

void Deadlines::pop_entry() {
  std::pop_heap(heap_.begin(), heap_.end(), later<Entry>);
  heap_.pop_back();
}

void Deadlines::sweep_cancelled() {
  std::erase_if(heap_, [this](const Entry& e) { return !live(e.id); });
  std::make_heap(heap_.begin(), heap_.end(), later<Entry>);
  if (heap_.capacity() > 4 * heap_.size() + 1024) heap_.shrink_to_fit();  // after a burst
}

void Deadlines::rearm() {
  while (!heap_.empty() && !live(heap_.front().id)) pop_entry();
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
    // Taken out first: the callback may set or cancel deadlines, and so grow the slots.
    std::optional<std::function<void()>> fn = fns_.take(id);
    if (!fn) continue;  // cancelled
    (*fn)();
  }
  rearm();
}

void Deadlines::shutdown() {
  shared_->stopped = true;
  shared_->timer.cancel();
}

}  // namespace vespid::core
