#include "load.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "clock.hpp"

namespace vespid::bench {

namespace asio = boost::asio;

namespace {

// One caller: drives one channel from that channel's thread only, so it needs no locks; its
// results are read after it says it is done.
class Caller : public std::enable_shared_from_this<Caller> {
 public:
  Caller(std::shared_ptr<Channel> ch, const LoadSpec& spec, double rate, Window w,
         std::atomic<int>& done)
      : ch_(std::move(ch)),
        k_(spec.in_flight),
        interval_ns_(rate > 0 ? static_cast<uint64_t>(1e9 / rate) : 0),
        w_(w),
        done_(done),
        timer_(ch_->io()),
        slots_(static_cast<std::size_t>(k_)) {}

  void start(uint64_t first_due) {
    ch_->on_reply([self = shared_from_this()](uint64_t id, bool ok, std::string_view code) {
      self->reply(id, ok, code);
    });
    for (int i = k_ - 1; i >= 0; --i) free_.push_back(static_cast<uint32_t>(i));
    next_due_ = first_due;
    if (interval_ns_ == 0) {
      fill();
    } else {
      arm();
    }
  }

  LoadResult result;

 private:
  struct Slot {
    uint64_t seq = 0;
    uint64_t intended_ns = 0;
    bool busy = false;
  };

  void send_one(uint64_t intended) {
    const uint32_t slot = free_.back();
    free_.pop_back();
    Slot& s = slots_[slot];
    s.busy = true;
    s.seq = ++seq_;
    s.intended_ns = intended;
    if (intended >= w_.start_ns && intended < w_.end_ns) ++result.sent;
    // The slot in the low 16 bits finds the send time; the sequence number rejects a stale id.
    ch_->send_request((s.seq << 16) | slot);
  }

  // Closed loop: keep K in flight until the window ends.
  void fill() {
    while (!free_.empty()) {
      const uint64_t now = now_ns();
      if (now >= w_.end_ns) return maybe_done();
      send_one(now);
    }
  }

  // Open loop: send whatever is due (at most K in flight), then sleep until the next is due.
  void send_due() {
    const uint64_t now = now_ns();
    while (!free_.empty() && next_due_ <= now && next_due_ < w_.end_ns) {
      send_one(next_due_);
      next_due_ += interval_ns_;
    }
  }

  void arm() {
    if (next_due_ >= w_.end_ns) {
      // Nothing more to send. If every answer is back before the window ends, no reply is left
      // to notice the end: look again at the end itself (else the caller sat out the drain).
      timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(w_.end_ns)));
      timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->maybe_done();
      });
      return maybe_done();
    }
    timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(next_due_)));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      self->send_due();
      self->arm();
    });
  }

  void reply(uint64_t id, bool ok, std::string_view code) {
    if (finished_) return;  // a straggler after the drain deadline: already counted as lost
    const uint32_t slot = static_cast<uint32_t>(id & 0xffff);
    if (slot >= slots_.size()) return;
    Slot& s = slots_[slot];
    if (!s.busy || s.seq != (id >> 16)) return;
    const uint64_t now = now_ns();
    s.busy = false;
    free_.push_back(slot);
    if (now >= w_.start_ns && now < w_.end_ns) ++result.completed_in_window;
    if (s.intended_ns >= w_.start_ns && s.intended_ns < w_.end_ns) {
      if (ok) {
        ++result.ok;
        result.latency.record(now - s.intended_ns);
      } else {
        ++result.errors;
        ++codes_[std::string(code)];
      }
    }
    if (interval_ns_ == 0) {
      fill();
    } else {
      send_due();
      maybe_done();
    }
  }

  void maybe_done() {
    if (finished_ || now_ns() < w_.end_ns) return;
    if (free_.size() != slots_.size()) return;  // still waiting for answers
    finish();
  }

 public:
  // Called on the channel's thread at the drain deadline, or when everything came back.
  void finish() {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    for (const auto& s : slots_) {
      if (s.busy && s.intended_ns >= w_.start_ns && s.intended_ns < w_.end_ns) ++result.lost;
    }
    for (auto& [c, n] : codes_) result.error_codes.emplace_back(c, n);
    done_.fetch_add(1);
  }

 private:
  std::shared_ptr<Channel> ch_;
  int k_;
  uint64_t interval_ns_;
  Window w_;
  std::atomic<int>& done_;
  asio::steady_timer timer_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  uint64_t seq_ = 0;
  uint64_t next_due_ = 0;
  bool finished_ = false;
  std::map<std::string, uint64_t> codes_;
};

}  // namespace

LoadResult run_load(const std::vector<std::shared_ptr<Channel>>& channels, const LoadSpec& spec,
                    double drain_s) {
  LoadResult total;
  if (channels.empty()) return total;
  Window w;
  const uint64_t t0 = now_ns() + 20'000'000;  // 20 ms for every caller to be started
  w.start_ns = t0 + static_cast<uint64_t>(spec.warmup_s * 1e9);
  w.end_ns = w.start_ns + static_cast<uint64_t>(spec.duration_s * 1e9);
  const double per_caller_rate = spec.rate > 0 ? spec.rate / channels.size() : 0;
  std::atomic<int> done{0};
  std::vector<std::shared_ptr<Caller>> callers;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    auto c = std::make_shared<Caller>(channels[i], spec, per_caller_rate, w, done);
    callers.push_back(c);
    // Open-loop callers start staggered so their sends do not land in bursts.
    const uint64_t first =
        t0 + (per_caller_rate > 0 ? static_cast<uint64_t>(i * 1e9 / spec.rate) : 0);
    asio::post(channels[i]->io(), [c, first] { c->start(first); });
  }
  const uint64_t deadline = w.end_ns + static_cast<uint64_t>(drain_s * 1e9);
  while (done.load() < static_cast<int>(callers.size()) && now_ns() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Whoever is still waiting gives up now; their unanswered requests count as lost.
  for (std::size_t i = 0; i < callers.size(); ++i) {
    asio::post(channels[i]->io(), [c = callers[i]] { c->finish(); });
  }
  while (done.load() < static_cast<int>(callers.size())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::map<std::string, uint64_t> codes;
  for (auto& c : callers) {
    const LoadResult& r = c->result;
    total.latency.merge(r.latency);
    total.sent += r.sent;
    total.ok += r.ok;
    total.errors += r.errors;
    total.lost += r.lost;
    total.completed_in_window += r.completed_in_window;
    for (auto& [k, n] : r.error_codes) codes[k] += n;
  }
  for (auto& [k, n] : codes) total.error_codes.emplace_back(k, n);
  total.window_s = spec.duration_s;
  return total;
}

}  // namespace vespid::bench
