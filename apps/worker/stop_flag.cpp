#include "stop_flag.hpp"

namespace vespid::worker {

void StopFlag::request() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
}

bool StopFlag::sleep_for(std::chrono::milliseconds d) const {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return requested(); });
}

}  // namespace vespid::worker
