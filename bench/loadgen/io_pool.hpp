// A few client threads, one io_context each, many sockets per thread: the shape that keeps the
// bench from being the bottleneck on two cores (no locks between a socket and its thread).
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

namespace vespid::bench {

class IoPool {
 public:
  explicit IoPool(int threads);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  std::size_t size() const noexcept { return contexts_.size(); }
  boost::asio::io_context& at(std::size_t i) { return *contexts_[i % contexts_.size()]; }
  // Round robin, for spreading connections over the threads.
  boost::asio::io_context& next() { return at(next_++); }
  // Stops every loop and joins the threads (also done by the destructor).
  void stop();

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::size_t next_ = 0;
};

// Runs f on io's thread and waits for what it returns: how another thread reads the state of a
// socket that lives on that thread. Never call it from io's own thread.
template <typename F>
auto on_thread(boost::asio::io_context& io, F f) -> decltype(f()) {
  using R = decltype(f());
  std::promise<R> done;
  auto result = done.get_future();
  boost::asio::post(io, [&] {
    if constexpr (std::is_void_v<R>) {
      f();
      done.set_value();
    } else {
      done.set_value(f());
    }
  });
  return result.get();
}

}  // namespace vespid::bench
