#include "io_pool.hpp"

namespace vespid::bench {

IoPool::IoPool(int threads) {
  for (int i = 0; i < threads; ++i) {
    // concurrency hint 1: each context is run by exactly one thread, so asio can skip locking.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
  for (auto& c : contexts_) threads_.emplace_back([io = c.get()] { io->run(); });
}

IoPool::~IoPool() {
  stop();
}

void IoPool::stop() {
  guards_.clear();
  for (auto& c : contexts_) c->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace vespid::bench
