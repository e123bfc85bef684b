// The host's loop thread: an asio io_context plus the services plugins reach through the host
// table (post, timers, fd watches), and the Sequencer that serialises core work.
//
// fd watches use an epoll set of their own, level-triggered, whose single fd the io_context waits
// on. That gives plugins (Avahi, the Unix transport) the level-triggered semantics the ABI
// promises, independent of how asio registers descriptors internally.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "runtime/sequencer.hpp"

namespace vespid::core {

class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  boost::asio::io_context& io() noexcept { return io_; }
  Sequencer& sequencer() noexcept { return sequencer_; }

  // Any thread. Runs fn on the loop thread. Returns false once closed.
  bool post(std::function<void()> fn);
  // Any thread. Runs fn inside the sequencer, entering it from the loop thread.
  bool post_core(std::function<void()> fn);
  // Stops accepting posts (they return false); pending ones still run.
  void close_posts() noexcept { closed_.store(true); }
  bool posts_closed() const noexcept { return closed_.load(); }

  // Runs the loop on this thread until stop().
  void run();
  void stop() { io_.stop(); }

  // ---- Timers (loop thread) ----
  class Timer;
  std::unique_ptr<Timer> make_timer(std::function<void()> fn);

  // ---- fd watches (loop thread) ----
  struct Watch;
  // Returns nullptr if the fd cannot be watched (already watched, bad fd).
  Watch* watch_new(int fd, uint32_t events, std::function<void(uint32_t revents)> fn);
  void watch_update(Watch* w, uint32_t events);
  void watch_free(Watch* w);

 private:
  void arm_epoll_wait();
  void dispatch_epoll();

  boost::asio::io_context io_;
  Sequencer sequencer_;
  std::atomic<bool> closed_{false};
  int epoll_fd_ = -1;
  boost::asio::posix::stream_descriptor epoll_desc_;
  bool epoll_waiting_ = false;
  std::vector<Watch*> graveyard_;  // freed during a dispatch round, deleted after it
  bool dispatching_ = false;
};

class Loop::Timer {
 public:
  Timer(boost::asio::io_context& io, std::function<void()> fn);
  ~Timer();
  void arm(std::chrono::milliseconds delay, std::chrono::milliseconds repeat);
  void disarm();

  struct State;  // shared with pending waits; public so the wait helper can name it

 private:
  void schedule(std::chrono::milliseconds delay);
  std::shared_ptr<State> state_;
};

}  // namespace vespid::core
