#include "blocking_channel.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <exception>

namespace vespid::bench {

std::shared_ptr<BlockingChannel> BlockingChannel::make(boost::asio::io_context& io, Work work) {
  // The thread starts in the constructor and touches only members, never a shared_ptr to the
  // channel, so it cannot keep the channel alive or destroy it from inside itself.
  return std::shared_ptr<BlockingChannel>(new BlockingChannel(io, std::move(work)));
}

BlockingChannel::BlockingChannel(boost::asio::io_context& io, Work work)
    : io_(io), work_(std::move(work)), thread_([this] { loop(); }) {}

BlockingChannel::~BlockingChannel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BlockingChannel::send_request(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(id);
  }
  cv_.notify_one();
}

void BlockingChannel::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    queue_.clear();
  }
  cv_.notify_all();
}

void BlockingChannel::loop() {
  for (;;) {
    uint64_t id = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
      if (closed_) return;
      id = queue_.front();
      queue_.pop_front();
    }
    Outcome out;
    try {
      out = work_([this] { return closed_.load(); });
    } catch (const std::exception& e) {
      out = {false, "EXCEPTION"};
      if (!told_) std::fprintf(stderr, "vespid-bench: a request failed: %s\n", e.what());
      told_ = true;
    }
    // The driver reads replies on the channel's io thread. A weak pointer: a reply that
    // arrives after the channel is gone is dropped, as the driver drops stragglers.
    boost::asio::post(io_, [weak = weak_from_this(), id, out = std::move(out)] {
      auto self = weak.lock();
      if (self && self->reply_) self->reply_(id, out.ok, out.code);
    });
  }
}

}  // namespace vespid::bench
