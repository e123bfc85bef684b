#include "services/dispatch/recent_results.hpp"

namespace vespid::dispatch {

void RecentResults::keep(const std::string& request_id, std::string stored_text,
                         int64_t expires_at_ms) {
  forget(request_id);
  const std::size_t bytes = stored_text.size() + 2 * request_id.size() + kEntryOverhead;
  if (bytes > max_bytes_) return;
  evict_to(max_bytes_ - bytes);
  const uint64_t seq = ++next_seq_;
  order_.emplace_back(request_id, seq);
  by_id_.insert_or_assign(request_id, Entry{std::move(stored_text), expires_at_ms, bytes, seq});
  bytes_ += bytes;
  drop_forgotten_places();
}

const std::string* RecentResults::find(const std::string& request_id, int64_t now_ms) const {
  const auto it = by_id_.find(request_id);
  if (it == by_id_.end() || it->second.expires_at_ms <= now_ms) return nullptr;
  return &it->second.text;
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

// Places left behind by forget() and by keeping a request again are also dropped when eviction
// reaches them; this keeps a cache that mostly forgets (timeouts, sweeps) from growing its queue.
void RecentResults::drop_forgotten_places() {
  if (order_.size() <= 2 * by_id_.size() + 64) return;
  std::deque<std::pair<std::string, uint64_t>> live;
  for (auto& place : order_) {
    const auto it = by_id_.find(place.first);
    if (it != by_id_.end() && it->second.seq == place.second) live.push_back(std::move(place));
  }
  order_.swap(live);
}

}  // namespace vespid::dispatch
