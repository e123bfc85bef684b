#include "runtime/log_tail.hpp"

#include <chrono>

#include "runtime/gateway_metrics.hpp"

namespace vespid::log {

std::vector<TailLine> LogTail::last(size_t n) {
  std::lock_guard lock(mutex_);
  const size_t count = std::min(n, ring_.size());
  return std::vector<TailLine>(ring_.end() - static_cast<std::ptrdiff_t>(count), ring_.end());
}

void LogTail::set_live(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wake_ = std::move(wake);
  if (!wake_) {
    live_.clear();
    dropped_ = 0;
  }
}

LogTail::Batch LogTail::take() {
  std::lock_guard lock(mutex_);
  Batch b;
  b.lines.swap(live_);
  b.dropped = dropped_;
  dropped_ = 0;
  return b;
}

void LogTail::sink_it_(const spdlog::details::log_msg& msg) {
  // Called with mutex_ held (base_sink).
  TailLine line;
  line.ts_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
  const auto level = spdlog::level::to_string_view(msg.level);
  line.level.assign(level.data(), level.size());
  line.component.assign(msg.logger_name.data(), msg.logger_name.size());
  line.message.assign(msg.payload.data(), msg.payload.size());
  if (wake_) {
    if (live_.size() >= live_capacity_) {
      ++dropped_;
      metrics::instruments().log_tail_dropped.inc();
    } else {
      live_.push_back(line);
      if (live_.size() == 1) wake_();
    }
  }
  if (capacity_ == 0) return;
  if (ring_.size() == capacity_) ring_.pop_front();
  ring_.push_back(std::move(line));
}

}  // namespace vespid::log
