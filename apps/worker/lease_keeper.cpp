#include "lease_keeper.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace vespid::worker {

using nlohmann::json;

const char* to_string(LeaseState s) {
  switch (s) {
    case LeaseState::held:
      return "held";
    case LeaseState::lost:
      return "lost";
    case LeaseState::canceled:
      return "canceled";
    case LeaseState::gone:
      return "gone";
    case LeaseState::released:
      return "released";
  }
  return "?";
}

RunLease::RunLease(std::string run_id, std::string token, int64_t next_seq)
    : run_id_(std::move(run_id)),
      token_(std::move(token)),
      last_ok_(std::chrono::steady_clock::now()),
      next_seq_(next_seq) {}

void RunLease::note(const json& body, const CheckpointAnswer& a) {
  switch (a.kind) {
    case CheckpointAnswer::Kind::ok:
      last_ok_ = std::chrono::steady_clock::now();
      if (a.run.is_object() && a.run.value("nextSeq", json()).is_number_integer())
        next_seq_ = a.run["nextSeq"].get<int64_t>();
      // After an outcome the gateway has let the lease go; renewing it would only hear
      // LEASE_LOST.
      if (body.contains("outcome")) state_.store(LeaseState::released, std::memory_order_release);
      break;
    case CheckpointAnswer::Kind::lease_lost:
      state_.store(LeaseState::lost, std::memory_order_release);
      break;
    case CheckpointAnswer::Kind::canceled:
      state_.store(LeaseState::canceled, std::memory_order_release);
      break;
    case CheckpointAnswer::Kind::not_found:
      state_.store(LeaseState::gone, std::memory_order_release);
      break;
    case CheckpointAnswer::Kind::refused:
    case CheckpointAnswer::Kind::unavailable:
      break;
  }
}

CheckpointAnswer RunLease::checkpoint(const GatewayApi& api, json body) {
  std::lock_guard<std::mutex> lock(io_mu_);
  CheckpointAnswer a;
  if (!held()) {
    // Lost while this checkpoint waited for a renewal: no more calls for this run.
    a.kind = state() == LeaseState::canceled ? CheckpointAnswer::Kind::canceled
                                             : CheckpointAnswer::Kind::lease_lost;
    a.failure.code = "LEASE_" + std::string(to_string(state()));
    return a;
  }
  body["leaseToken"] = token_;
  a = api.checkpoint(run_id_, body);
  note(body, a);
  return a;
}

int64_t RunLease::next_seq() {
  std::lock_guard<std::mutex> lock(io_mu_);
  return next_seq_;
}

bool RunLease::renew_if_due(const GatewayApi& api, std::chrono::milliseconds every,
                            int64_t lease_ms, CheckpointAnswer* answer) {
  std::unique_lock<std::mutex> lock(io_mu_, std::try_to_lock);
  if (!lock.owns_lock() || !held()) return false;
  if (std::chrono::steady_clock::now() - last_ok_ < every) return false;
  const json body = {{"leaseToken", token_}, {"leaseMs", lease_ms}};
  *answer = api.checkpoint(run_id_, body);
  note(body, *answer);
  return true;
}

LeaseKeeper::LeaseKeeper(const GatewayApi& api, std::chrono::milliseconds lease)
    : api_(api), lease_(lease), every_(lease / 3) {}

LeaseKeeper::~LeaseKeeper() {
  stop();
}

void LeaseKeeper::start() {
  thread_ = std::thread([this] { loop(); });
}

void LeaseKeeper::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<RunLease> LeaseKeeper::hold(const std::string& run_id, const std::string& token,
                                            int64_t next_seq) {
  auto lease = std::make_shared<RunLease>(run_id, token, next_seq);
  {
    std::lock_guard<std::mutex> lock(mu_);
    leases_.push_back(lease);
  }
  return lease;
}

void LeaseKeeper::drop(const std::shared_ptr<RunLease>& lease) {
  std::lock_guard<std::mutex> lock(mu_);
  leases_.erase(std::remove(leases_.begin(), leases_.end(), lease), leases_.end());
}

void LeaseKeeper::loop() {
  // Looking four times per renewal period keeps a renewal at most a quarter period late.
  const auto tick = std::max(std::chrono::milliseconds(100), every_ / 4);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    const std::vector<std::shared_ptr<RunLease>> now = leases_;
    lock.unlock();
    for (const auto& lease : now) {
      CheckpointAnswer a;
      if (!lease->renew_if_due(api_, every_, lease_.count(), &a)) continue;
      switch (a.kind) {
        case CheckpointAnswer::Kind::ok:
          spdlog::debug("run {}: lease renewed for {} ms", lease->run_id(), lease_.count());
          break;
        case CheckpointAnswer::Kind::lease_lost:
        case CheckpointAnswer::Kind::canceled:
        case CheckpointAnswer::Kind::not_found:
          spdlog::warn("run {}: lease {} ({}); its executor stops at its next step",
                       lease->run_id(), to_string(lease->state()), a.failure.describe());
          break;
        case CheckpointAnswer::Kind::refused:
        case CheckpointAnswer::Kind::unavailable:
          spdlog::warn("run {}: lease renewal failed: {}; trying again in {} ms", lease->run_id(),
                       a.failure.describe(), tick.count());
          break;
      }
    }
    lock.lock();
    cv_.wait_for(lock, tick, [this] { return stopping_; });
  }
}

}  // namespace vespid::worker
