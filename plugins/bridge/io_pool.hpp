// The transport's I/O threads: one io_context per thread, each run by exactly that one thread, so
// a connection's handlers never run concurrently and "am I on this connection's thread?" is one
// question to its io_context.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>
#include <vespid/plugin.hpp>

namespace vespid::bridge {

struct IoThread {
  explicit IoThread(std::size_t index);

  // Concurrency hint 1: one thread runs it, so a post() from that thread skips the shared queue's
  // lock and the wake-up (it lands in the thread-private queue and runs later in this turn).
  boost::asio::io_context ctx{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
  // Plain connections read into this and keep only a partial line for themselves; it is shared
  // by every connection of the thread because a read is synchronous (readiness, then recv).
  std::vector<char> scratch;
  std::size_t index;
  std::thread thread;
  // This thread only: its registration with the host (ABI 1.6), made before it serves anything,
  // so that the host can queue work of this thread's shard of the core for it.
  std::optional<vsp::IoThreadLink> link;

  bool on_this_thread() noexcept { return ctx.get_executor().running_in_this_thread(); }

  // This thread: runs the io_context until it is stopped. With a busy-poll window it does not
  // sleep in the reactor while work came within the window: it polls (a non-blocking look at
  // its sockets and queue) again and again, and sleeps only once the window passed with nothing.
  // A message that arrives meanwhile is read at once instead of after a thread wake-up.
  void run(std::chrono::microseconds busy_poll);

  // This thread, before delivering messages: puts the delivery inside one batch
  // (host->batch_begin/batch_end) that spans every connection served in this round of the
  // reactor. The host may hold replies until the batch ends, so what it answers to the nodes
  // whose messages arrived together leaves in one write per destination: an operator waiting
  // for many nodes' results gets them in one write, not one each. The first delivery of a round
  // opens the batch and posts its end, which runs after the round's other ready handlers (they
  // are queued before it). A round is bounded: asio takes at most 128 events from one poll.
  // Does nothing on a host without ABI 1.2's batching.
  void join_round(const vsp::Host& host) noexcept;
  // This thread, when its io_context stops running: ends a batch still open.
  void end_round() noexcept;
  // Any thread: the host's wake-up of this thread (link's wake): queues a run of what the host
  // queued for it. VSP_E_CLOSED once the thread is stopping, so the host gives it to another.
  int wake() noexcept;

 private:
  // This thread only.
  const vsp_host_api* round_api_ = nullptr;  // non-null while a round's batch is open
  vsp_host_instance* round_instance_ = nullptr;
};

class IoPool {
 public:
  explicit IoPool(unsigned threads);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  // Starts the threads, each polling for `busy_poll` before it sleeps (0: sleeps at once). `host`
  // is used to report exceptions that escape a handler.
  void start(vsp::Host host, std::chrono::microseconds busy_poll);
  // Stops every io_context and joins the threads. Must not be called from one of them. Handlers
  // still queued are dropped (destroyed with the io_contexts). Idempotent.
  void stop_and_join();
  bool running() const noexcept { return started_ && !joined_; }
  // True on any of the pool's threads.
  bool on_pool_thread() noexcept;

  IoThread& at(std::size_t i) { return *threads_[i]; }
  // Round robin over the threads, for new connections.
  IoThread& next() noexcept;

 private:
  std::vector<std::unique_ptr<IoThread>> threads_;
  std::atomic<std::size_t> rr_{0};
  bool started_ = false;
  bool joined_ = false;
};

}  // namespace vespid::bridge
