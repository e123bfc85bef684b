// Deadlines for every connection one I/O thread runs, behind a single Asio timer.
//
// Why: a connection has a deadline in each layer that keeps one (the TLS stream's; the
// WebSocket stream's keep-alive and closing handshake; the session's admission and close drain;
// an HTTP connection's idle and write limits). As Asio timers each is a 120-byte object, and an
// armed one holds a pending wait operation of about 100 more; an idle connection always has its
// keep-alive armed. A Deadline is 40 bytes and an armed one costs a
// slot in the queue's heap. The queue keeps one timer waiting for the earliest deadline; moving
// a deadline later (the common case: a keep-alive pushed on) touches only the heap.
//
// Expiry is rounded up to the next millisecond, so deadlines within one millisecond of each
// other are handled in one wake-up; no deadline is handled before it has passed.
//
// Threads: a queue belongs to one io_context (an Asio service; other execution contexts are
// refused with std::invalid_argument), and that context must be run by one thread (the ws plugin's
// I/O threads are; so are the tests' and the fuzzers' contexts). Deadlines are armed, moved,
// cancelled and fired on that thread only; nothing here locks. Lifetime: like any I/O object, a
// Deadline must not outlive its io_context, and its owner must outlive it (the owner holds it as a
// member; destroying it cancels it).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <limits>
#include <type_traits>
#include <vector>

namespace vespid::ws {

class Deadline;

class DeadlineQueue final : public boost::asio::execution_context::service {
 public:
  using Clock = std::chrono::steady_clock;
  static boost::asio::execution_context::id id;

  explicit DeadlineQueue(boost::asio::io_context& context);
  ~DeadlineQueue() override;

  // The queue of an io_context; of the one behind `ex` (an io_context's executor, or an
  // any_io_executor holding one; any other executor is refused).
  static DeadlineQueue& of(boost::asio::io_context& context) {
    return boost::asio::use_service<DeadlineQueue>(context);
  }
  template <class Executor>
  static DeadlineQueue& of(const Executor& ex) {
    using IoExecutor = boost::asio::io_context::executor_type;
    if constexpr (std::is_same_v<Executor, IoExecutor>) {
      return of(ex.context());
    } else if constexpr (std::is_same_v<Executor, boost::asio::any_io_executor>) {
      const IoExecutor* io = ex.template target<IoExecutor>();
      if (io == nullptr) not_an_io_context();
      return of(io->context());
    } else {
      not_an_io_context();
    }
  }

  std::size_t armed() const noexcept { return heap_.size(); }

 private:
  friend class Deadline;

  [[noreturn]] static void not_an_io_context();
  void shutdown() override;
  void arm(Deadline& d, Clock::time_point at);
  void remove(Deadline& d) noexcept;
  void reschedule();
  void on_timer();
  // The min-heap on Deadline::at_, each element's index kept in it.
  bool earlier(std::size_t a, std::size_t b) const noexcept;
  void place(std::size_t i, Deadline* d) noexcept;
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;

  boost::asio::steady_timer timer_;
  Clock::time_point timer_at_ = Clock::time_point::max();  // the pending wait's expiry, if any
  std::vector<Deadline*> heap_;
  bool shut_down_ = false;
};

class Deadline {
 public:
  using Clock = DeadlineQueue::Clock;
  // Called on the context's thread when the armed deadline has passed (never from inside
  // expires_at or cancel); the deadline is disarmed by then. `owner` is what was given here.
  using Fire = void (*)(void* owner);

  template <class Executor>
  Deadline(const Executor& ex, Fire fire, void* owner)
      : Deadline(DeadlineQueue::of(ex), fire, owner) {}
  Deadline(DeadlineQueue& queue, Fire fire, void* owner) noexcept
      : queue_(&queue), fire_(fire), owner_(owner) {}
  ~Deadline() { cancel(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Arms the deadline, or moves it when armed.
  void expires_at(Clock::time_point at) { queue_->arm(*this, at); }
  void expires_after(Clock::duration d) { expires_at(Clock::now() + d); }
  void cancel() noexcept {
    if (armed()) queue_->remove(*this);
  }
  bool armed() const noexcept { return index_ != kIdle; }
  Clock::time_point expiry() const noexcept { return at_; }

 private:
  friend class DeadlineQueue;
  static constexpr std::size_t kIdle = std::numeric_limits<std::size_t>::max();

  DeadlineQueue* queue_;
  Fire fire_;
  void* owner_;
  Clock::time_point at_{};
  std::size_t index_ = kIdle;  // in the queue's heap while armed
};

}  // namespace vespid::ws
