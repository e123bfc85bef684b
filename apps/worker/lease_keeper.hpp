// Keeps the leases of the runs this worker holds alive. The gateway gives a run to another
// worker once its lease expires; a run that waits minutes for a node host must not look dead,
// so a keeper thread renews each held lease (a checkpoint with only the leaseToken) every
// leaseMs/3. When a renewal hears LEASE_LOST or RUN_CANCELED the lease is marked so, and the
// run's executor stops at its next step (and abandons a long-poll at once) without another call
// for that run.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "gateway_api.hpp"

namespace vespid::worker {

enum class LeaseState {
  held,      // ours
  lost,      // LEASE_LOST: another worker has the run (or it ended)
  canceled,  // RUN_CANCELED by a user
  gone,      // RUN_NOT_FOUND
  released,  // the run ended with our last checkpoint; nothing more to renew
};

const char* to_string(LeaseState s);

// One held run's lease. Shared by the run's executor thread and the keeper thread.
class RunLease {
 public:
  // next_seq: the run's nextSeq as claimed, the seq its next event will get.
  RunLease(std::string run_id, std::string token, int64_t next_seq);

  const std::string& run_id() const { return run_id_; }
  const std::string& token() const { return token_; }
  // The seq the run's next event gets, as the gateway last said (0: not known). A checkpoint
  // that appends events sends it as expectedSeq, fixed before its first try, so that a resend
  // after a lost answer is recognised by the gateway instead of storing its events twice.
  int64_t next_seq();
  // Any thread.
  LeaseState state() const { return state_.load(std::memory_order_acquire); }
  bool held() const { return state() == LeaseState::held; }

  // Executor thread: one checkpoint (body without the token). Waits for a renewal under way:
  // checkpoints of one run go one at a time, so a renewal never lands after the run's last
  // checkpoint (which would read as a lost lease). Marks the lease lost/canceled/gone/released
  // from the answer.
  CheckpointAnswer checkpoint(const GatewayApi& api, nlohmann::json body);

  // Keeper thread: renews when nothing renewed it within `every`, and returns true with the
  // gateway's answer. Returns false without a call when a checkpoint is under way (it renews
  // the lease anyway), one went through within `every`, or the lease is no longer held.
  bool renew_if_due(const GatewayApi& api, std::chrono::milliseconds every, int64_t lease_ms,
                    CheckpointAnswer* answer);

 private:
  void note(const nlohmann::json& body, const CheckpointAnswer& a);  // under io_mu_

  const std::string run_id_;                         // immutable
  const std::string token_;                          // immutable
  std::atomic<LeaseState> state_{LeaseState::held};  // any thread; written under io_mu_
  std::mutex io_mu_;  // held for the whole of one checkpoint round trip (executor or keeper)
  std::chrono::steady_clock::time_point last_ok_;  // under io_mu_: the gateway's last "ok"
  int64_t next_seq_;                               // under io_mu_: see next_seq()
};

class LeaseKeeper {
 public:
  LeaseKeeper(const GatewayApi& api, std::chrono::milliseconds lease);
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // Main thread: starts and stops the keeper thread.
  void start();
  void stop();

  // Executor threads: a claimed run's lease, renewed from now on; and the end of renewing it.
  std::shared_ptr<RunLease> hold(const std::string& run_id, const std::string& token,
                                 int64_t next_seq);
  void drop(const std::shared_ptr<RunLease>& lease);

 private:
  void loop();  // keeper thread

  const GatewayApi& api_;                  // immutable; its calls are thread-safe
  const std::chrono::milliseconds lease_;  // immutable
  const std::chrono::milliseconds every_;  // immutable: lease_ / 3

  std::mutex mu_;  // guards leases_ and stopping_; never held during a gateway call
  std::condition_variable cv_;
  std::vector<std::shared_ptr<RunLease>> leases_;  // under mu_
  bool stopping_ = false;                          // under mu_
  std::thread thread_;                             // main thread: start() and stop() only
};

}  // namespace vespid::worker
