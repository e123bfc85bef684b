#include "runtime/wake_list.hpp"

#include <algorithm>

namespace vespid::core {

WakeList::~WakeList() {
  for (auto& [id, w] : waiters_) deadlines_.cancel(w.timer);
}

void WakeList::Wait::await_suspend(std::coroutine_handle<> h) {
  const uint64_t id = list->next_id_++;
  Waiter w{this, h, 0, *key};
  if (timeout.count() > 0) {
    WakeList* l = list;
    w.timer = list->deadlines_.after(timeout, [l, id] { l->timed_out(id); });
  }
  list->by_key_[*key].push_back(id);
  list->waiters_.emplace(id, std::move(w));
}

void WakeList::timed_out(uint64_t id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;  // woken meanwhile
  std::coroutine_handle<> h = it->second.handle;
  if (auto k = by_key_.find(it->second.key); k != by_key_.end()) {
    auto& ids = k->second;
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
    if (ids.empty()) by_key_.erase(k);
  }
  waiters_.erase(it);
  h.resume();  // already inside a posted deadline: not inline to anyone's step
}

void WakeList::wake(const std::string& key) {
  auto k = by_key_.find(key);
  if (k == by_key_.end()) return;
  std::vector<std::coroutine_handle<>> woken;
  for (uint64_t id : k->second) {
    auto it = waiters_.find(id);
    if (it == waiters_.end()) continue;
    deadlines_.cancel(it->second.timer);
    it->second.awaiter->woken = true;
    woken.push_back(it->second.handle);
    waiters_.erase(it);
  }
  by_key_.erase(k);
  deadlines_.after(std::chrono::milliseconds(0), [woken] {
    for (auto h : woken) h.resume();
  });
}

}  // namespace vespid::core
