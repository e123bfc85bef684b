// The load driver: callers that each keep K requests in flight on one channel (closed loop), or
// send at a fixed rate (open loop, latency counted from the intended send time so a stall is
// not hidden: no coordinated omission). The same driver runs the gateway and every baseline,
// so their figures differ only in what is on the other end of the channel.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "histogram.hpp"

namespace boost::asio {
class io_context;
}

namespace vespid::bench {

// A request/response client on one connection. The driver calls send_request() on the
// channel's own thread and expects reply(id, ok) for each id, in any order.
class Channel {
 public:
  using Reply = std::function<void(uint64_t id, bool ok, std::string_view error_code)>;
  virtual ~Channel() = default;
  virtual boost::asio::io_context& io() = 0;
  virtual void send_request(uint64_t id) = 0;
  // Closes the connection (asynchronously, on its own thread).
  virtual void close() = 0;
  void on_reply(Reply r) { reply_ = std::move(r); }

 protected:
  Reply reply_;
};

// When to measure: requests sent in [start, end) count; the driver stops sending at end.
struct Window {
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
};

struct LoadSpec {
  int in_flight = 1;  // K per caller
  double rate = 0;    // requests/s across all callers; 0: closed loop
  double warmup_s = 1;
  double duration_s = 5;
};

struct LoadResult {
  Histogram latency;
  uint64_t sent = 0;                 // in the window
  uint64_t ok = 0;                   // answered ok, sent in the window
  uint64_t errors = 0;               // answered not ok, sent in the window
  uint64_t lost = 0;                 // sent in the window, not answered by the drain deadline
  uint64_t completed_in_window = 0;  // answers received inside the window (any)
  double window_s = 0;
  std::vector<std::pair<std::string, uint64_t>> error_codes;
  double throughput() const { return window_s > 0 ? completed_in_window / window_s : 0; }
};

// Runs the load over `channels` (each already connected), blocking the calling thread for
// warmup + duration + the drain of what is still in flight (at most drain_s).
LoadResult run_load(const std::vector<std::shared_ptr<Channel>>& channels, const LoadSpec& spec,
                    double drain_s = 5);

}  // namespace vespid::bench
