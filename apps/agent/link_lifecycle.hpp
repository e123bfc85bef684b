// What a link to the gateway does around its protocol, the same for the node host's /ws link
// (gateway_link.hpp) and a bridge node's link (bridge_link.hpp): the I/O thread's event loop and
// the worker pool, SIGINT/SIGTERM, stopping, a connection's ping and idle check, the sleep
// between connection attempts with its backoff, and running the link's main loop to an exit
// code. The protocol (its frames, its handshake, what ends a connection), and what each link
// logs about it, stays in the link.
//
// Threads: run() is the I/O thread; everything here but `stopping` and `pool` is touched on it
// only. Workers on `pool` read `stopping` and post back to `ioc`.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string_view>

#include "backoff.hpp"

namespace vespid::agent {

class LinkLifecycle {
 public:
  using Clock = std::chrono::steady_clock;

  // pool_threads: how many engines or invokes run at once (at least one thread).
  explicit LinkLifecycle(std::size_t pool_threads);
  LinkLifecycle(const LinkLifecycle&) = delete;
  LinkLifecycle& operator=(const LinkLifecycle&) = delete;

  // Declared in this order so that the pool (whose workers post to ioc) is destroyed before
  // ioc, and the timers and signals (bound to ioc) before both.
  boost::asio::io_context ioc;
  boost::asio::thread_pool pool;
  // Set by stop() and when the main loop ends; engines and invokes read it and give up.
  std::atomic<bool> stopping{false};
  // The link's writer sleeps on it until a frame is queued (the link cancels it then); stop()
  // wakes it so that it sees `stopping`.
  boost::asio::steady_timer wake;
  // Closes the current connection's socket; set by the link while it has one. Also called by
  // the link when one of its reader, writer or heartbeat gives up, so the others end too.
  // I/O thread only.
  std::function<void()> abort_connection;
  // What run() returns: 0 (stopped) unless the link sets its own code, or the main loop threw.
  // I/O thread only.
  int exit_code = 0;

  // The writer's sleep once its queue is empty: until the link queues a frame (and cancels
  // `wake`) or stop().
  boost::asio::awaitable<void> wait_for_wake();

  // Beside a connection's reader and writer: every ping_interval calls send_ping(); when nothing
  // was received for idle_timeout (last_rx, which the link's reader sets) logs so and aborts the
  // connection. Returns then, on stopping, or when connection_over (if given) says the link has
  // ended the connection itself. Checks at least once a second.
  boost::asio::awaitable<void> heartbeat(std::chrono::milliseconds ping_interval,
                                         std::chrono::milliseconds idle_timeout,
                                         const Clock::time_point& last_rx,
                                         std::function<void()> send_ping,
                                         std::function<bool()> connection_over = {});

  // Sleeps `delay` between connection attempts; stop() ends it early.
  boost::asio::awaitable<void> sleep_before_retry(std::chrono::milliseconds delay);

  // The next backoff step: logs "reconnecting in N ms (attempt K)" and sleeps it.
  boost::asio::awaitable<void> back_off(Backoff& backoff);

  // Runs `main_loop` on the calling thread until it returns (after stop(), on SIGINT/SIGTERM,
  // or when the link gives up), then joins the pool and returns exit_code. An exception out of
  // the main loop is logged as "<failure>: <what>" and makes the exit code 1 (`failure` is
  // viewed until run() returns).
  int run(boost::asio::awaitable<void> main_loop, std::string_view failure);

 private:
  // On SIGINT/SIGTERM; idempotent. Logs "stopping", cuts the retry sleep short, wakes the
  // writer and closes the connection; the main loop then sees `stopping` and returns.
  void stop();

  boost::asio::steady_timer retry_timer_;
  boost::asio::signal_set signals_;
};

// After a connection attempt that began at `started` ended: one that got through (`was_up`)
// and held for a while resets the backoff; one dropped at once does not, so a gateway that
// accepts and drops is not hammered either.
void reset_backoff_if_held(Backoff& backoff, bool was_up, LinkLifecycle::Clock::time_point started);

}  // namespace vespid::agent
