// The last lines the gateway logged, kept in memory for gateway administrators (operator.v1
// `logs.tail`), and a live feed of new ones.
//
// It is a spdlog sink beside the stderr one, so it sees every component's lines at the levels
// configured for them. Lines come from any thread (plugins log from their own); the sink only
// copies the line into a ring of `capacity` lines and, while someone follows the feed, into a
// bounded queue of new lines. It never blocks on anything but its own short lock and never logs
// (that would re-enter it): when the queue is full the line is counted as dropped, and `wake`
// (set by the feed's reader) is called only when the queue goes from empty to not empty, so the
// reader drains whole batches on its own thread.
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace vespid::log {

struct TailLine {
  int64_t ts_ms = 0;
  std::string level, component, message;
};

class LogTail final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // `capacity` lines kept; at most `live_capacity` waiting for the feed's reader.
  LogTail(size_t capacity, size_t live_capacity)
      : capacity_(capacity), live_capacity_(live_capacity) {}

  // The last `n` lines kept, oldest first.
  std::vector<TailLine> last(size_t n);
  size_t capacity() const noexcept { return capacity_; }

  // Starts (a `wake`) or stops (empty) queueing new lines for a reader. `wake` runs on the
  // logging thread under the sink's lock: it must not block, log or call back into the sink.
  void set_live(std::function<void()> wake);

  struct Batch {
    std::vector<TailLine> lines;
    uint64_t dropped = 0;  // lines lost since the previous batch (the queue was full)
  };
  // What queued since the last take.
  Batch take();

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  const size_t capacity_;
  const size_t live_capacity_;
  std::deque<TailLine> ring_;
  std::function<void()> wake_;
  std::vector<TailLine> live_;
  uint64_t dropped_ = 0;
};

}  // namespace vespid::log
