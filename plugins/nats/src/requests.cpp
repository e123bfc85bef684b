#include "requests.hpp"

#include <vector>

namespace vespid::natsbus {

Requests::Requests() : thread_([this] { watch_deadlines(); }) {}

Requests::~Requests() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    wake_.notify_all();
  }
  thread_.join();
  fail_all(VSP_E_CLOSED);
}

uint64_t Requests::add(vsp_bus_reply_fn fn, void* ctx, std::chrono::milliseconds timeout) {
  std::lock_guard lock(mu_);
  const uint64_t id = ++next_id_;
  const auto deadline = Clock::now() + timeout;
  const bool earliest = deadlines_.empty() || deadline < deadlines_.begin()->first;
  pending_.emplace(id, Pending{fn, ctx, deadlines_.emplace(deadline, id)});
  if (earliest) wake_.notify_all();
  return id;
}

Requests::Pending Requests::take_locked(std::map<uint64_t, Pending>::iterator it) {
  Pending p = it->second;
  deadlines_.erase(p.deadline);
  pending_.erase(it);
  return p;
}

void Requests::complete(uint64_t id, int status, const uint8_t* data, size_t len) {
  Pending p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    p = take_locked(it);
  }
  // Outside the lock: the callback may send another request.
  p.fn(p.ctx, status, status == VSP_OK ? data : nullptr, status == VSP_OK ? len : 0);
}

bool Requests::cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return false;
  take_locked(it);
  return true;
}

void Requests::fail_all(int status) {
  std::map<uint64_t, Pending> failed;
  {
    std::lock_guard lock(mu_);
    failed.swap(pending_);
    deadlines_.clear();
  }
  for (auto& [id, p] : failed) p.fn(p.ctx, status, nullptr, 0);
}

void Requests::watch_deadlines() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (deadlines_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto next = deadlines_.begin()->first;
    if (Clock::now() < next) {
      wake_.wait_until(lock, next);
      continue;
    }
    std::vector<Pending> expired;
    const auto now = Clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      expired.push_back(take_locked(pending_.find(deadlines_.begin()->second)));
    }
    lock.unlock();
    for (auto& p : expired) p.fn(p.ctx, VSP_E_TIMEOUT, nullptr, 0);
    lock.lock();
  }
}

}  // namespace vespid::natsbus
