#include "cluster/relay_history.hpp"

namespace vespid::cluster {

using nlohmann::json;

RelayHistory::Kept& RelayHistory::entry(const std::string& request_id, bool starts_whole) {
  auto [it, fresh] = kept_.try_emplace(request_id);
  if (fresh) {
    it->second.whole = starts_whole;
    order_.push_back(request_id);
    forget_oldest_over_limits();
    // The newest entry holds no bytes yet and is last in line, so it is never the one dropped.
    it = kept_.find(request_id);
  }
  return it->second;
}

void RelayHistory::received(const std::string& request_id) {
  entry(request_id, true);
}

void RelayHistory::event(const std::string& request_id, const json& event, std::size_t bytes) {
  // A host numbers its events from 1; a history that starts later missed the beginning (the
  // host reconnected here mid-dispatch), and one without numbers is whole only after received.
  const bool first = event.is_object() && event.value("seq", int64_t{0}) == 1;
  Kept& k = entry(request_id, first);
  if (!k.whole) return;
  if (k.events.size() >= kMaxEventsPerDispatch || k.bytes + bytes > kMaxBytesPerDispatch) {
    bytes_ -= k.bytes;
    k.events = {};
    k.bytes = 0;
    k.whole = false;
    return;
  }
  k.events.push_back(event);
  k.bytes += bytes;
  bytes_ += bytes;
  forget_oldest_over_limits();
}

void RelayHistory::finished(const std::string& request_id) {
  auto it = kept_.find(request_id);
  if (it == kept_.end()) return;
  bytes_ -= it->second.bytes;
  kept_.erase(it);
  // order_ keeps the id until it reaches the front; a request id is not reused.
}

std::optional<std::vector<json>> RelayHistory::whole(const std::string& request_id) const {
  auto it = kept_.find(request_id);
  if (it == kept_.end() || !it->second.whole) return std::nullopt;
  return it->second.events;
}

void RelayHistory::forget_oldest_over_limits() {
  while ((bytes_ > kMaxBytesTotal || kept_.size() > kMaxDispatches) && !order_.empty()) {
    auto it = kept_.find(order_.front());
    order_.pop_front();
    if (it == kept_.end()) continue;  // finished already
    bytes_ -= it->second.bytes;
    kept_.erase(it);
  }
  // Finished dispatches leave their ids behind; drop them once they outnumber the kept ones.
  if (order_.size() > 2 * kept_.size() + 1024) {
    std::deque<std::string> live;
    for (auto& id : order_) {
      if (kept_.count(id) != 0) live.push_back(std::move(id));
    }
    order_.swap(live);
  }
}

}  // namespace vespid::cluster
