#include "registry.hpp"

#include <algorithm>

namespace vespid::ws {

Registry::Added Registry::add(std::shared_ptr<Session> s) {
  std::lock_guard lock(mu_);
  if (stopping_) return Added::Stopping;
  if (sessions_.size() + extra_slots_ >= max_) return Added::Full;
  sessions_.emplace(s.get(), std::move(s));
  return Added::Ok;
}

bool Registry::replace(Session* old_session, std::shared_ptr<Session> s) {
  std::lock_guard lock(mu_);
  sessions_.erase(old_session);
  sessions_.emplace(s.get(), std::move(s));
  return stopping_;
}

bool Registry::take_extra_slot() {
  std::lock_guard lock(mu_);
  if (stopping_ || sessions_.size() + extra_slots_ >= max_) return false;
  ++extra_slots_;
  return true;
}

void Registry::return_extra_slots(std::size_t n) {
  std::lock_guard lock(mu_);
  extra_slots_ -= std::min(n, extra_slots_);
}

void Registry::remove(Session* s) {
  std::function<void()> drained;
  std::shared_ptr<Session> last_ref;  // released outside the lock
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(s);
    if (it == sessions_.end()) return;
    last_ref = std::move(it->second);
    sessions_.erase(it);
    drained = take_drained_locked();
  }
  if (drained) drained();
}

std::vector<std::shared_ptr<Session>> Registry::begin_stop(std::function<void()> drained) {
  std::vector<std::shared_ptr<Session>> out;
  std::function<void()> now;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    drained_ = std::move(drained);
    out.reserve(sessions_.size());
    for (auto& [p, s] : sessions_) out.push_back(s);
    now = take_drained_locked();
  }
  if (now) now();
  return out;
}

void Registry::listener_closed() {
  std::function<void()> drained;
  {
    std::lock_guard lock(mu_);
    listener_open_ = false;
    drained = take_drained_locked();
  }
  if (drained) drained();
}

std::vector<std::shared_ptr<Session>> Registry::snapshot() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Session>> out;
  out.reserve(sessions_.size());
  for (auto& [p, s] : sessions_) out.push_back(s);
  return out;
}

std::vector<std::shared_ptr<Session>> Registry::take_all() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Session>> out;
  out.reserve(sessions_.size());
  for (auto& [p, s] : sessions_) out.push_back(std::move(s));
  sessions_.clear();
  return out;
}

std::size_t Registry::size() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

std::function<void()> Registry::take_drained_locked() {
  if (stopping_ && !listener_open_ && sessions_.empty() && drained_)
    return std::exchange(drained_, nullptr);
  return nullptr;
}

}  // namespace vespid::ws
