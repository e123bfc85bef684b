// The cron trigger (docs/workflows.md): published workflows whose trigger is `trigger.cron` get
// a run at each tick of their schedule. The next tick of each is a key in storage
// (idx/cron-due/<fireMs>/<workflowId>), written when the workflow is published; this looks for
// due ticks at its tick time, and at least every check_interval (another instance may have
// published, or fired, meanwhile). Firing a tick moves the key to the next tick in the same
// transaction that stores the run, with the run's trigger key "cron:<fireMs>", so however many
// gateway instances look, a tick makes one run. A gateway that was down when ticks fell due
// fires the oldest one once on its next look and schedules from now: missed ticks are not
// replayed one by one.
//
// Runs inside the Sequencer.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runtime/deadlines.hpp"
#include "runtime/task.hpp"
#include "storage/storage_service.hpp"

namespace vespid::workflows {

class RunService;

// The next tick of a published workflow's cron trigger strictly after `after_ms`, or nullopt
// when its trigger is not cron (or its schedule never fires again). Throws api::ApiError
// BAD_REQUEST when the schedule or time zone cannot be read (a zone removed from the system).
std::optional<int64_t> next_cron_tick(const nlohmann::json& dsl, int64_t after_ms);

struct CronSettings {
  std::chrono::milliseconds check_interval{10000};  // workflows.cron_check_interval_ms
  uint32_t batch = 64;                              // due ticks fired per look
};

class CronTrigger {
 public:
  CronTrigger(core::StorageService& storage, core::Deadlines& deadlines, RunService& runs,
              CronSettings settings);
  ~CronTrigger();
  CronTrigger(const CronTrigger&) = delete;
  CronTrigger& operator=(const CronTrigger&) = delete;

  // Looks at once (ticks that fell due while the gateway was down), then on schedule.
  void start();
  void stop();
  // A workflow was just published with its first tick at `fire_ms`: look then, if sooner than
  // the next look.
  void tick_at(int64_t fire_ms);

 private:
  core::Task<void> look();
  core::Task<void> fire(std::string index_key, int64_t fire_ms, std::string workflow_id);
  void arm_at(int64_t when_ms);

  core::StorageService& storage_;
  core::Deadlines& deadlines_;
  RunService& runs_;
  CronSettings settings_;
  core::Deadlines::Id timer_ = 0;
  int64_t armed_for_ms_ = 0;  // when timer_ fires (0: not armed)
  bool looking_ = false;      // a look is running: it arms the next one when done
  bool stopped_ = false;
};

}  // namespace vespid::workflows
