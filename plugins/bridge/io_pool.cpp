#include "io_pool.hpp"

#include <pthread.h>

#include <boost/asio/post.hpp>
#include <new>
#include <string>
#include <utility>

namespace vespid::bridge {

namespace {
constexpr std::size_t kScratchBytes = 64 * 1024;
}

IoThread::IoThread(std::size_t i) : scratch(kScratchBytes), index(i) {
  guard.emplace(ctx.get_executor());
}

void IoThread::join_round(const vsp::Host& host) noexcept {
  if (round_api_ != nullptr || !host.has_batch_api()) return;
  try {
    boost::asio::post(ctx, [this] { end_round(); });
  } catch (const std::bad_alloc&) {
    return;  // no batch: the host writes these replies at once, as it may
  }
  round_api_ = host.api();
  round_instance_ = host.instance();
  round_api_->batch_begin(round_instance_);
}

void IoThread::run(std::chrono::microseconds busy_poll) {
  if (busy_poll.count() <= 0) {
    ctx.run();
    return;
  }
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_work = Clock::now();
  while (!ctx.stopped()) {
    if (ctx.poll() > 0) {
      last_work = Clock::now();
    } else if (Clock::now() - last_work >= busy_poll) {
      ctx.run_one();  // sleeps until something is ready (returns at once once stopped)
      last_work = Clock::now();
    }
  }
}

int IoThread::wake() noexcept {
  if (ctx.stopped()) return VSP_E_CLOSED;
  try {
    boost::asio::post(ctx, [this] { link->run(); });
  } catch (const std::bad_alloc&) {
    return VSP_E_NOMEM;
  }
  return VSP_OK;
}

void IoThread::end_round() noexcept {
  if (round_api_ == nullptr) return;
  const vsp_host_api* api = std::exchange(round_api_, nullptr);
  api->batch_end(std::exchange(round_instance_, nullptr));
}

IoPool::IoPool(unsigned threads) {
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) threads_.push_back(std::make_unique<IoThread>(i));
}

IoPool::~IoPool() {
  stop_and_join();
}

void IoPool::start(vsp::Host host, std::chrono::microseconds busy_poll) {
  started_ = true;
  for (auto& t : threads_) {
    IoThread* io = t.get();
    io->thread = std::thread([io, host, busy_poll] {
      const std::string name = "vsp-bridge-" + std::to_string(io->index);
      ::pthread_setname_np(::pthread_self(), name.c_str());
      try {
        io->link.emplace(host, [io] { return io->wake(); });
      } catch (const std::bad_alloc&) {
        host.warn(
            "I/O thread: not registered with the host (out of memory); it serves its "
            "connections without it");
      }
      for (;;) {
        try {
          io->run(busy_poll);
          io->end_round();  // stopped with a round's end still queued
          io->link.reset();
          return;
        } catch (const std::exception& e) {
          // Handlers are written not to throw; allocation failure is the one way out. Keep the
          // thread serving its other connections.
          host.error(std::string("I/O thread: unexpected exception: ") + e.what());
        } catch (...) {
          host.error("I/O thread: unexpected exception");
        }
      }
    });
  }
}

void IoPool::stop_and_join() {
  if (joined_) return;
  joined_ = true;
  for (auto& t : threads_) {
    t->guard.reset();
    t->ctx.stop();
  }
  for (auto& t : threads_) {
    if (t->thread.joinable()) t->thread.join();
  }
}

bool IoPool::on_pool_thread() noexcept {
  for (auto& t : threads_) {
    if (t->on_this_thread()) return true;
  }
  return false;
}

IoThread& IoPool::next() noexcept {
  return *threads_[rr_.fetch_add(1, std::memory_order_relaxed) % threads_.size()];
}

}  // namespace vespid::bridge
