#include "link_lifecycle.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <exception>

namespace vespid::agent {

namespace asio = boost::asio;

LinkLifecycle::LinkLifecycle(std::size_t pool_threads)
    : pool(pool_threads), wake(ioc), retry_timer_(ioc), signals_(ioc, SIGINT, SIGTERM) {
  wake.expires_at(Clock::time_point::max());
}

void LinkLifecycle::stop() {
  if (stopping.exchange(true)) return;
  spdlog::info("stopping");
  retry_timer_.cancel();
  wake.cancel();
  if (abort_connection) abort_connection();
}

asio::awaitable<void> LinkLifecycle::wait_for_wake() {
  wake.expires_at(Clock::time_point::max());
  boost::system::error_code ec;  // cancelled: a frame was queued, or stop()
  co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> LinkLifecycle::heartbeat(std::chrono::milliseconds ping_interval,
                                               std::chrono::milliseconds idle_timeout,
                                               const Clock::time_point& last_rx,
                                               std::function<void()> send_ping,
                                               std::function<bool()> connection_over) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  const auto tick = std::min<std::chrono::milliseconds>(
      {ping_interval, idle_timeout, std::chrono::milliseconds(1000)});
  auto next_ping = Clock::now() + ping_interval;
  for (;;) {
    t.expires_after(tick);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping || (connection_over && connection_over())) co_return;
    const auto now = Clock::now();
    if (now - last_rx > idle_timeout) {
      spdlog::warn("nothing received from the gateway for {} ms; reconnecting",
                   idle_timeout.count());
      if (abort_connection) abort_connection();
      co_return;
    }
    if (now >= next_ping) {
      next_ping = now + ping_interval;
      send_ping();
    }
  }
}

asio::awaitable<void> LinkLifecycle::sleep_before_retry(std::chrono::milliseconds delay) {
  retry_timer_.expires_after(delay);
  boost::system::error_code ec;  // cancelled by stop(): the caller checks `stopping`
  co_await retry_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> LinkLifecycle::back_off(Backoff& backoff) {
  const auto delay = backoff.next();
  spdlog::info("reconnecting in {} ms (attempt {})", delay.count(), backoff.failures());
  co_await sleep_before_retry(delay);
}

int LinkLifecycle::run(asio::awaitable<void> main_loop, std::string_view failure) {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {} received", sig);
    stop();
  });
  asio::co_spawn(ioc, std::move(main_loop), [this, failure](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("{}: {}", failure, ex.what());
        exit_code = 1;
      }
    }
    stopping = true;  // running engines and commands are stopped; their workers return
    signals_.cancel();
    ioc.stop();
  });
  ioc.run();
  pool.join();  // the workers saw `stopping` and gave up
  return exit_code;
}

void reset_backoff_if_held(Backoff& backoff, bool was_up,
                           LinkLifecycle::Clock::time_point started) {
  if (was_up && LinkLifecycle::Clock::now() - started > std::chrono::seconds(10)) backoff.reset();
}

}  // namespace vespid::agent
