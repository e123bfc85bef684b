#include "services/workflows/cron_trigger.hpp"

#include <algorithm>

#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "runtime/logging.hpp"
#include "runtime/name_uuid.hpp"
#include "runtime/time.hpp"
#include "runtime/time_zone.hpp"
#include "services/workflows/cron_schedule.hpp"
#include "services/workflows/run_service.hpp"
#include "storage/keys.hpp"

namespace vespid::workflows {

using core::Compare;
using core::Task;
using core::Write;
using nlohmann::json;
namespace keys = repo::keys;

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("cron");
}

}  // namespace

std::optional<int64_t> next_cron_tick(const json& dsl, int64_t after_ms) {
  if (!dsl.is_object()) return std::nullopt;
  const json trigger = dsl.value("trigger", json::object());
  if (!trigger.is_object() || trigger.value("type", "") != "trigger.cron") return std::nullopt;
  const json config = trigger.value("config", json::object());
  std::string error;
  auto schedule = CronSchedule::parse(config.value("cron", ""), &error);
  if (!schedule) throw api::invalid(error, {{"field", "dsl.trigger.config.cron"}});
  auto zone = util::TimeZone::load(config.value("timezone", "UTC"), &error);
  if (!zone) throw api::invalid(error, {{"field", "dsl.trigger.config.timezone"}});
  return schedule->next_after(after_ms, *zone);
}

CronTrigger::CronTrigger(core::StorageService& storage, core::Deadlines& deadlines,
                         RunService& runs, CronSettings settings)
    : storage_(storage), deadlines_(deadlines), runs_(runs), settings_(settings) {}

CronTrigger::~CronTrigger() {
  stop();
}

void CronTrigger::start() {
  stopped_ = false;
  arm_at(util::now_ms());
}

void CronTrigger::stop() {
  stopped_ = true;
  if (timer_ != 0) deadlines_.cancel(timer_);
  timer_ = 0;
  armed_for_ms_ = 0;
}

void CronTrigger::tick_at(int64_t fire_ms) {
  if (stopped_ || looking_) return;  // the running look arms the next one from storage
  if (armed_for_ms_ == 0 || fire_ms < armed_for_ms_) arm_at(fire_ms);
}

void CronTrigger::arm_at(int64_t when_ms) {
  if (stopped_) return;
  if (timer_ != 0) deadlines_.cancel(timer_);
  armed_for_ms_ = when_ms;
  const auto delay = std::chrono::milliseconds(std::max<int64_t>(0, when_ms - util::now_ms()));
  timer_ = deadlines_.after(delay, [this] {
    timer_ = 0;
    armed_for_ms_ = 0;
    looking_ = true;
    core::spawn(
        look(), [this] { looking_ = false; },
        [this](std::exception_ptr e) {
          looking_ = false;
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            L()->error("looking for due cron ticks failed: {}; looking again in {} ms", ex.what(),
                       settings_.check_interval.count());
          }
          arm_at(util::now_ms() + settings_.check_interval.count());
        });
  });
}

Task<void> CronTrigger::look() {
  const int64_t now = util::now_ms();
  auto due = co_await storage_.scan(
      keys::kCronDuePrefix, keys::kCronDuePrefix + keys::padded(static_cast<uint64_t>(now + 1)),
      settings_.batch, false);
  for (const auto& row : due) {
    const std::string tail = row.key.substr(keys::kCronDuePrefix.size());
    const size_t slash = tail.find('/');
    if (slash == std::string::npos) continue;
    Task<void> t = fire(row.key, std::stoll(tail.substr(0, slash)), tail.substr(slash + 1));
    co_await std::move(t);
  }
  // Next: a full batch means more are due now; else the earliest tick ahead, or the interval.
  int64_t next = now + settings_.check_interval.count();
  if (due.size() == settings_.batch) {
    next = util::now_ms();
  } else {
    auto ahead =
        co_await storage_.scan(keys::kCronDuePrefix + keys::padded(static_cast<uint64_t>(now + 1)),
                               core::StorageService::prefix_end(keys::kCronDuePrefix), 1, false);
    if (!ahead.empty()) {
      const std::string tail = ahead[0].key.substr(keys::kCronDuePrefix.size());
      next = std::min(next, static_cast<int64_t>(std::stoll(tail.substr(0, tail.find('/')))));
    }
  }
  looking_ = false;
  arm_at(next);
}

Task<void> CronTrigger::fire(std::string index_key, int64_t fire_ms, std::string workflow_id) {
  std::optional<core::KV> wkv = co_await storage_.get(keys::workflow(workflow_id));
  json workflow = wkv ? json::parse(wkv->value) : json();
  std::optional<int64_t> next;
  bool keep = wkv && workflow.value("status", "") == "published";
  if (keep) {
    try {
      // From now, not from the tick: ticks missed while nobody looked collapse into this one.
      next = next_cron_tick(workflow["dsl"], std::max(util::now_ms(), fire_ms));
      keep = next.has_value();
    } catch (const std::exception& e) {
      L()->warn("workflow {}: its cron schedule cannot be read ({}); it runs no more", workflow_id,
                e.what());
      keep = false;
    }
  }
  if (!keep) {
    core::Txn drop;
    drop.writes.push_back(Write::del(index_key));
    co_await storage_.commit(std::move(drop));
    co_return;
  }
  RunService::NewRun n;
  n.input = {{"__trigger", {{"type", "cron"}, {"scheduledAt", util::iso8601(fire_ms)}}}};
  n.trigger_type = "cron";
  n.trigger_source = "cron.schedule";
  n.trigger_key = "cron:" + std::to_string(fire_ms);
  const std::string publisher = workflow.value("publishedByUserId", "");
  n.requested_by = publisher.empty() ? crypto::name_uuid("local-admin") : publisher;
  // The tick moves on in the run's own transaction: only the instance that moves it runs it.
  n.compares.push_back(Compare::present(index_key));
  n.writes.push_back(Write::del(index_key));
  n.writes.push_back(Write::put(keys::cron_due(*next, workflow_id), ""));
  Task<std::optional<json>> t = runs_.create_run(std::move(workflow), std::move(n));
  std::optional<json> run = co_await std::move(t);
  if (run) {
    L()->info("workflow {}: cron tick {} started run {}; next tick {}", workflow_id,
              util::iso8601(fire_ms), (*run)["id"].get<std::string>(), util::iso8601(*next));
  }
}

}  // namespace vespid::workflows
