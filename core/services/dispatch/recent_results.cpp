#include "services/dispatch/recent_results.hpp"

namespace vespid::dispatch {

void RecentResults::keep(StoredResult r, std::size_t bytes) {
  forget(r.request_id);
  if (bytes > max_bytes_) return;
  evict_to(max_bytes_ - bytes);
  const uint64_t seq = ++next_seq_;
  order_.emplace_back(r.request_id, seq);
  std::string id = r.request_id;
  by_id_.insert_or_assign(std::move(id), Entry{std::move(r), bytes, seq});
  bytes_ += bytes;
  // Places left behind by forget() are dropped here as well as when reached, so that a store
  // that keeps forgetting (timeouts, sweeps) does not grow its queue without bound.
  if (order_.size() > 2 * by_id_.size() + 64) {
    std::deque<std::pair<std::string, uint64_t>> live;
    for (auto& place : order_) {
      const auto it = by_id_.find(place.first);
      if (it != by_id_.end() && it->second.seq == place.second) live.push_back(std::move(place));
    }
    order_.swap(live);
  }
}

std::optional<StoredResult> RecentResults::find(const std::string& request_id,
                                                int64_t now_ms) const {
  const auto it = by_id_.find(request_id);
  if (it == by_id_.end() || it->second.result.expires_at_ms <= now_ms) return std::nullopt;
  return it->second.result;
}

void RecentResults::forget(const std::string& request_id) {
  const auto it = by_id_.find(request_id);
  if (it == by_id_.end()) return;
  bytes_ -= it->second.bytes;
  by_id_.erase(it);
}

void RecentResults::evict_to(std::size_t budget) {
  while (bytes_ > budget && !order_.empty()) {
    const auto& [id, seq] = order_.front();
    const auto it = by_id_.find(id);
    if (it != by_id_.end() && it->second.seq == seq) {
      bytes_ -= it->second.bytes;
      by_id_.erase(it);
    }
    order_.pop_front();
  }
}

}  // namespace vespid::dispatch
