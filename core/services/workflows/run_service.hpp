// Workflow runs (docs/workflows.md): a run is one execution of a published workflow. Users start,
// list, read, follow (its event log) and cancel runs over rest.v1; workers (vespid-worker, over
// the internal routes) claim a run with a lease, checkpoint their progress (the cursor, the
// dispatch the run is blocked on, events) and end it. The gateway executes nothing itself.
//
// Guarantees kept here, whatever the workers do:
// - One worker at a time holds a run: a claim takes a queued run, or a running run whose lease
//   expired (its worker died), with a compare-and-swap on the run record; a checkpoint is
//   accepted only with the current lease token (constant-time compared; stored as a hash).
// - The event log is append-only with a gap-free seq per run: events are stored in the same
//   transaction as the state change they describe.
// - A takeover keeps the attempt number, so a node host node dispatched by the dead worker is
//   asked for again with the same request id and never runs twice (the dispatcher dedups it).
//
// Runs inside the Sequencer.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "runtime/deadlines.hpp"
#include "runtime/task.hpp"
#include "runtime/wake_list.hpp"
#include "services/identity/org_access.hpp"
#include "services/workflows/workflow_service.hpp"
#include "storage/storage_service.hpp"

namespace vespid::workflows {

struct RunSettings {
  int max_attempts = 3;                 // workflows.max_attempts
  int64_t default_lease_ms = 30000;     // workflows.lease_ms (a claim may ask for another)
  size_t max_state_bytes = 256 * 1024;  // workflows.max_state_bytes: input, cursor, output each
  int max_events_per_checkpoint = 200;  // a checkpoint appending more is refused
  std::chrono::milliseconds claim_recheck{1000};  // leases expire and other instances queue
};

class RunService {
 public:
  RunService(core::StorageService& storage, repo::Repository& repo, core::Deadlines& deadlines,
             RunSettings settings);
  ~RunService();
  RunService(const RunService&) = delete;
  RunService& operator=(const RunService&) = delete;

  // rest.v1. Each throws api::ApiError: UNAUTHORIZED / FORBIDDEN, WORKFLOW_NOT_FOUND,
  // RUN_NOT_FOUND (also another workflow's or org's run), BAD_REQUEST, CONFLICT.
  // {input?} -> the run, queued (the workflow must be published). Every member may start one.
  core::Task<nlohmann::json> start(Caller caller, std::string workflow_id, nlohmann::json body);
  // A webhook trigger fired: `token` from POST /v1/triggers/webhook/:token, the request's JSON
  // body (null when empty), its idempotency key ("" for none). {accepted, runId}, or {accepted,
  // duplicate: true} when a run was already made for that key. Throws TRIGGER_NOT_FOUND for a
  // token no published workflow has.
  core::Task<nlohmann::json> trigger_webhook(std::string token, nlohmann::json body,
                                             std::string idempotency_key);
  // A run of a published `workflow` (its stored record) made by a trigger: the scheduler's cron
  // ticks come through here. nullopt when `trigger_key` already made one.
  struct NewRun {
    nlohmann::json input;
    std::string trigger_type = "manual";
    std::string trigger_source = "api.manual";
    std::string trigger_key;  // "" for none
    std::string requested_by;
    // Stored with the run, atomically: the cron trigger moves its tick here. When a compare
    // fails, nothing is stored and the result is nullopt (another instance fired it).
    std::vector<core::Compare> compares;
    std::vector<core::Write> writes;
  };
  core::Task<std::optional<nlohmann::json>> create_run(nlohmann::json workflow, NewRun run);
  // {runs, nextCursor}, newest first.
  core::Task<nlohmann::json> list(Caller caller, std::string workflow_id, int limit,
                                  std::string cursor);
  core::Task<nlohmann::json> get(Caller caller, std::string workflow_id, std::string run_id);
  // {events, nextCursor}: the events after `after_seq`, oldest first; nextCursor is the last
  // seq returned when more may follow (null once the run has ended and all were read). With a
  // `wait`, a live run with nothing new answers when its next events are stored, or after
  // `wait` with none (a follower's long-poll).
  core::Task<nlohmann::json> events(Caller caller, std::string workflow_id, std::string run_id,
                                    uint64_t after_seq, int limit,
                                    std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  // Ends a queued or running run as canceled (owners, admins, or whoever started it). The
  // worker holding it learns at its next checkpoint (409 RUN_CANCELED); a node host node in
  // flight is asked to stop (set_on_canceled).
  core::Task<nlohmann::json> cancel(Caller caller, std::string workflow_id, std::string run_id);

  // Internal routes (the caller holds the gateway service token).
  // {workerId, leaseMs?, waitMs?} -> {run, workflow, leaseToken} or {run: null} after waitMs.
  core::Task<nlohmann::json> claim(nlohmann::json body);
  // {leaseToken, events?, expectedSeq?, cursor?, blocked?, outcome?, output?, error?,
  // retryDelayMs?, leaseMs?} -> {run, seqs}. With expectedSeq (the seq the first event should
  // get), a checkpoint the log has already moved past is answered {run, seqs, duplicate: true}
  // and stores nothing: a worker's resend after a lost answer. Throws LEASE_LOST,
  // RUN_CANCELED, RUN_NOT_FOUND, BAD_REQUEST, CONFLICT.
  core::Task<nlohmann::json> checkpoint(std::string run_id, nlohmann::json body);

  // Called after a run blocked on a dispatch is canceled: (runId, requestId).
  void set_on_canceled(std::function<void(const std::string&, const std::string&)> f) {
    on_canceled_ = std::move(f);
  }
  // Called with a run's events once they are stored (for followers of the run).
  void set_on_events(
      std::function<void(const nlohmann::json& run, const nlohmann::json& events)> f) {
    on_events_ = std::move(f);
  }

 private:
  struct Loaded {
    nlohmann::json run;
    uint64_t version = 0;
  };
  core::Task<std::string> require_workflow(Caller caller, std::string workflow_id,
                                           repo::OrgRole role, nlohmann::json* workflow);
  core::Task<Loaded> require_run(Caller caller, std::string workflow_id, std::string run_id,
                                 repo::OrgRole role);
  core::Task<std::optional<nlohmann::json>> try_claim(std::string worker_id, int64_t lease_ms);
  void wake_claimers_at(int64_t ready_ms);
  // Events of `run` were stored: wakes its followers and tells on_events_.
  void stored(const nlohmann::json& run, const nlohmann::json& events);

  core::StorageService& storage_;
  repo::Repository& repo_;
  core::Deadlines& deadlines_;
  RunSettings settings_;
  core::WakeList claimers_;   // one key: workers long-polling for a claimable run
  core::WakeList followers_;  // keyed by run id: readers long-polling its events
  std::unordered_set<core::Deadlines::Id> wake_timers_;  // retries' ready times, armed
  std::function<void(const std::string&, const std::string&)> on_canceled_;
  std::function<void(const nlohmann::json&, const nlohmann::json&)> on_events_;
};

}  // namespace vespid::workflows
