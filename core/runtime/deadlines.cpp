#include "runtime/deadlines.hpp"

#include <boost/asio/post.hpp>

#include "runtime/loop.hpp"

namespace vespid::core {

struct Deadlines::Shared {
  explicit Shared(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  bool stopped = false;
};

Deadlines::Deadlines(Loop& loop) : loop_(loop), shared_(std::make_shared<Shared>(loop.io())) {}

Deadlines::~Deadlines() {
  shared_->stopped = true;
}

Deadlines::Id Deadlines::at(Clock::time_point when, std::function<void()> fn) {
  Id id = next_id_++;
  auto it = queue_.emplace(when, std::make_pair(id, std::move(fn)));
  by_id_.emplace(id, it);
  if (when < armed_for_) rearm();
  return id;
}

void Deadlines::cancel(Id id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  queue_.erase(it->second);
  by_id_.erase(it);
  // The timer may now fire early for nothing; fire_due copes, and re-arming on every cancel
  // would cost a loop post per cancelled invoke.
}

void Deadlines::rearm() {
  if (queue_.empty()) return;
  Clock::time_point when = queue_.begin()->first;
  armed_for_ = when;
  auto shared = shared_;
  Loop* loop = &loop_;
  loop_.post([shared, loop, when, this] {
    if (shared->stopped) return;
    shared->timer.expires_at(when);
    shared->timer.async_wait([shared, loop, this](const boost::system::error_code& ec) {
      if (ec || shared->stopped) return;  // re-armed (cancelled) or shut down
      loop->sequencer().execute([shared, this] {
        if (!shared->stopped) fire_due();
      });
    });
  });
}

void Deadlines::fire_due() {
  armed_for_ = Clock::time_point::max();
  auto now = Clock::now();
  while (!queue_.empty() && queue_.begin()->first <= now) {
    auto node = queue_.extract(queue_.begin());
    by_id_.erase(node.mapped().first);
    node.mapped().second();  // may add or cancel deadlines
  }
  if (!queue_.empty()) rearm();
}

void Deadlines::shutdown() {
  shared_->stopped = true;
  shared_->timer.cancel();
}

}  // namespace vespid::core
