#include "runtime/core_entry.hpp"

#include <boost/asio/post.hpp>

namespace vespid::core {
namespace {
// Set while this thread runs core work it entered inline, so that close() called from that work
// (a failure that begins shutdown) does not wait for itself.
thread_local bool t_entered_inline = false;
}  // namespace

void CoreEntry::enter(std::function<void()> work) {
  {
    std::lock_guard lock(mutex_);
    if (inline_ && !t_entered_inline) {
      ++running_;
    } else {
      boost::asio::post(loop_.io(), [this, work = std::move(work)]() mutable {
        loop_.sequencer().execute(std::move(work));
      });
      return;
    }
  }
  // Undone however execute() leaves, so that close() never waits for a count that stays up.
  struct Leave {
    CoreEntry* self;
    ~Leave() {
      t_entered_inline = false;
      std::lock_guard lock(self->mutex_);
      if (--self->running_ == 0) self->idle_.notify_all();
    }
  } leave{this};
  t_entered_inline = true;
  loop_.sequencer().execute(std::move(work));
}

void CoreEntry::open() {
  std::lock_guard lock(mutex_);
  inline_ = true;
}

void CoreEntry::close() {
  std::unique_lock lock(mutex_);
  inline_ = false;
  if (t_entered_inline) return;
  idle_.wait(lock, [&] { return running_ == 0; });
}

}  // namespace vespid::core
