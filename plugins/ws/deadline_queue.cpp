#include "deadline_queue.hpp"

#include <stdexcept>

namespace vespid::ws {

boost::asio::execution_context::id DeadlineQueue::id;

DeadlineQueue::DeadlineQueue(boost::asio::io_context& context)
    : boost::asio::execution_context::service(context), timer_(context) {}

void DeadlineQueue::not_an_io_context() {
  throw std::invalid_argument("a Deadline needs an io_context's executor");
}

DeadlineQueue::~DeadlineQueue() {
  // Deadlines still armed belong to I/O objects that outlive their context (a bug of theirs);
  // leave them disarmed rather than pointing here.
  for (Deadline* d : heap_) d->index_ = Deadline::kIdle;
}

void DeadlineQueue::shutdown() {
  // The context is going away: nothing fires any more, and the owners' own destruction (while
  // the context destroys their handlers) only takes their deadlines out.
  shut_down_ = true;
  timer_at_ = Clock::time_point::max();
  timer_.cancel();
}

void DeadlineQueue::arm(Deadline& d, Clock::time_point at) {
  if (d.armed()) {
    const Clock::time_point was = d.at_;
    d.at_ = at;
    if (at < was) {
      sift_up(d.index_);
    } else {
      sift_down(d.index_);
    }
  } else {
    d.at_ = at;
    heap_.push_back(&d);  // may throw bad_alloc; `d` is still disarmed then
    d.index_ = heap_.size() - 1;
    sift_up(d.index_);
  }
  reschedule();
}

void DeadlineQueue::remove(Deadline& d) noexcept {
  const std::size_t i = d.index_;
  d.index_ = Deadline::kIdle;
  Deadline* last = heap_.back();
  heap_.pop_back();
  if (heap_.empty() && timer_at_ != Clock::time_point::max() && !shut_down_) {
    // Nothing left to wait for: the pending wait goes too, so that it keeps no io_context::run
    // from returning (a test's, a fuzzer's, an I/O thread's at its end).
    timer_at_ = Clock::time_point::max();
    timer_.cancel();
  }
  if (last == &d) return;
  place(i, last);
  sift_up(i);
  sift_down(last->index_);
  // The timer may now wait for a deadline that is gone: it wakes once and finds nothing due.
}

void DeadlineQueue::reschedule() {
  if (heap_.empty() || shut_down_) return;
  // Rounded up: deadlines within the same millisecond share one wake-up, none comes early.
  const Clock::time_point at =
      std::chrono::ceil<std::chrono::milliseconds>(heap_.front()->at_.time_since_epoch()) +
      Clock::time_point();
  if (at >= timer_at_) return;  // the pending wait comes first; it re-arms for what is left
  // Changing the expiry aborts a pending wait, whose handler then does nothing (below).
  timer_.expires_at(at);
  timer_at_ = Clock::time_point::max();  // none is pending until the one below is (it may throw)
  timer_.async_wait([this, at](const boost::system::error_code& ec) {
    if (ec || at != timer_at_) return;  // aborted, or superseded by an earlier wait
    timer_at_ = Clock::time_point::max();
    on_timer();
  });
  timer_at_ = at;
}

void DeadlineQueue::on_timer() {
  const Clock::time_point now = Clock::now();
  // Each round takes the heap's current top: a deadline fired may cancel, move or destroy any
  // other. The bound keeps a deadline re-armed for `now` from holding the thread here.
  try {
    for (std::size_t round = heap_.size(); round > 0 && !heap_.empty(); --round) {
      Deadline* d = heap_.front();
      if (d->at_ > now) break;
      remove(*d);
      d->fire_(d->owner_);
    }
  } catch (...) {
    reschedule();  // what is still armed keeps its wake-up; the I/O thread logs the exception
    throw;
  }
  reschedule();
}

bool DeadlineQueue::earlier(std::size_t a, std::size_t b) const noexcept {
  return heap_[a]->at_ < heap_[b]->at_;
}

void DeadlineQueue::place(std::size_t i, Deadline* d) noexcept {
  heap_[i] = d;
  d->index_ = i;
}

void DeadlineQueue::sift_up(std::size_t i) noexcept {
  Deadline* d = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!(d->at_ < heap_[parent]->at_)) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, d);
}

void DeadlineQueue::sift_down(std::size_t i) noexcept {
  const std::size_t n = heap_.size();
  Deadline* d = heap_[i];
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && earlier(child + 1, child)) ++child;
    if (!(heap_[child]->at_ < d->at_)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, d);
}

}  // namespace vespid::ws
