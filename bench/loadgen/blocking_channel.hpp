// A load channel whose requests are whole conversations of blocking HTTP calls (start a
// workflow run, then follow its events; or post a dispatch, then long-poll its result). Such a
// request holds its keep-alive connection for as long as it waits, so it cannot be pipelined
// like the other channels: each channel has its own thread that carries out one request at a
// time and posts the answer back to the channel's io_context, where the load driver expects it.
// One in flight per channel: concurrency is the number of callers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "load.hpp"

namespace vespid::bench {

class BlockingChannel : public Channel, public std::enable_shared_from_this<BlockingChannel> {
 public:
  // One request's outcome: ok, or the error code it is counted under.
  struct Outcome {
    bool ok = false;
    std::string code;
  };
  // True once the channel is closed: a request that waits in a loop of long-polls looks
  // between polls and gives up (the driver has counted it lost by then).
  using Closed = std::function<bool()>;
  // Runs on the channel's own thread, one call at a time. An exception counts as an error
  // ("EXCEPTION"), its message printed once per channel.
  using Work = std::function<Outcome(const Closed&)>;

  static std::shared_ptr<BlockingChannel> make(boost::asio::io_context& io, Work work);
  // Joins the thread: a request still under way is let finish (its HTTP calls are bounded by
  // the socket timeouts).
  ~BlockingChannel() override;

  boost::asio::io_context& io() override { return io_; }
  void send_request(uint64_t id) override;
  void close() override;

 private:
  BlockingChannel(boost::asio::io_context& io, Work work);
  void loop();

  boost::asio::io_context& io_;
  Work work_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<uint64_t> queue_;       // under mu_
  std::atomic<bool> closed_{false};  // set under mu_, read anywhere
  bool told_ = false;                // the channel's thread only: an exception was printed
  std::thread thread_;
};

}  // namespace vespid::bench
