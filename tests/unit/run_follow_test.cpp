// Following a run (GET .../runs/:id/events with waitMs, what `vespid workflow run --wait` and
// vespid-bench do): a page with no cursor says the run ended and every event was read, so it
// must never come before the run's verdict event. The race this holds down: the verdict is
// committed, with the run's last status, between the follower's read of the events and its
// read of the run. The storage here is the real sqlite plugin; only its scan is wrapped, so that
// the commit lands at exactly that moment.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "core_harness.hpp"
#include "runtime/deadlines.hpp"
#include "services/workflows/run_service.hpp"
#include "storage/keys.hpp"
#include "storage/repository.hpp"

namespace vespid::workflows {
namespace {

using core::testing::StorageHarness;
using nlohmann::json;
namespace keys = repo::keys;

const std::string kWorkflowId = "wf-follow";
const std::string kRunId = "run-follow";

// Wraps the plugin's scan. After the second scan of the run's events (the first inside the
// follower's wait loop), it commits the run's end straight through the plugin: the status
// "succeeded" and the verdict event, in one transaction, as a worker's last checkpoint does.
class VerdictAfterSecondScan {
 public:
  VerdictAfterSecondScan() { current_ = this; }
  ~VerdictAfterSecondScan() { current_ = nullptr; }

  StorageHarness::Interpose interpose() {
    return [this](const vsp_storage_vtbl& real) {
      real_ = real;
      vsp_storage_vtbl v = real;
      v.scan = &VerdictAfterSecondScan::scan;
      return v;
    };
  }

  json run_record(const std::string& org, const std::string& status) const {
    return {{"id", kRunId},          {"workflowId", kWorkflowId},
            {"organizationId", org}, {"status", status},
            {"attemptCount", 1},     {"nextSeq", status == "running" ? 1 : 2},
            {"readyMs", nullptr}};
  }

  std::string org;
  std::atomic<bool> committed{false};

 private:
  static int scan(vsp_plugin_instance* instance, const uint8_t* start, size_t start_len,
                  const uint8_t* end, size_t end_len, uint32_t limit, uint32_t flags,
                  vsp_kv_sink_fn sink, void* sink_ctx, vsp_error* err) {
    VerdictAfterSecondScan& self = *current_;
    int rc = self.real_.scan(instance, start, start_len, end, end_len, limit, flags, sink, sink_ctx,
                             err);
    const std::string events = keys::workflow_run_events(kRunId);
    const std::string_view from(reinterpret_cast<const char*>(start), start_len);
    if (from.substr(0, events.size()) == events && ++self.event_scans_ == 2) self.end_run(instance);
    return rc;
  }

  void end_run(vsp_plugin_instance* instance) {
    const std::string run_key = keys::workflow_run(kRunId);
    const std::string run_value = run_record(org, "succeeded").dump();
    const std::string event_key = keys::workflow_run_events(kRunId) + keys::padded(1);
    const std::string event_value =
        json{{"seq", 1}, {"runId", kRunId}, {"eventType", "run_succeeded"}}.dump();
    auto bytes = [](const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); };
    const vsp_write writes[2] = {
        {VSP_WRITE_PUT, bytes(run_key), run_key.size(), bytes(run_value), run_value.size()},
        {VSP_WRITE_PUT, bytes(event_key), event_key.size(), bytes(event_value),
         event_value.size()}};
    const vsp_txn txn{nullptr, 0, writes, 2};
    vsp_txn_result result{};
    vsp_error err{};
    if (real_.commit(instance, &txn, 1, &result, &err) == VSP_OK && result.status == VSP_OK) {
      committed = true;
    }
  }

  static inline VerdictAfterSecondScan* current_ = nullptr;
  vsp_storage_vtbl real_{};
  int event_scans_ = 0;  // storage thread
};

TEST(RunFollow, AVerdictCommittedBetweenTheTwoReadsIsStillGivenBeforeTheEnd) {
  VerdictAfterSecondScan verdict;
  StorageHarness h({}, "{}", verdict.interpose());
  repo::Repository repo(h.storage());
  h.run(repo.migrate());
  const repo::Org org = h.run(repo.create_org("acme"));
  verdict.org = org.id;

  core::Txn setup;
  setup.writes.push_back(core::Write::put(
      keys::workflow(kWorkflowId),
      json{{"id", kWorkflowId}, {"organizationId", org.id}, {"status", "published"}}.dump()));
  setup.writes.push_back(
      core::Write::put(keys::workflow_run(kRunId), verdict.run_record(org.id, "running").dump()));
  auto commit = [](core::StorageService& s, core::Txn t) -> core::Task<bool> {
    core::TxnOutcome out = co_await s.commit(std::move(t));
    co_return out.applied;
  };
  ASSERT_TRUE(h.run(commit(h.storage(), std::move(setup))));

  core::Deadlines deadlines(h.loop());
  RunSettings settings;
  settings.claim_recheck = std::chrono::milliseconds(20);  // the follower looks again this often
  RunService runs(h.storage(), repo, deadlines, settings);
  Caller caller{{core::Role::LocalAdmin}, org.id};

  const json page =
      h.run(runs.events(caller, kWorkflowId, kRunId, 0, 100, std::chrono::milliseconds(5000)));
  ASSERT_TRUE(verdict.committed) << "the run's end was never committed; the test proved nothing";
  if (page["nextCursor"].is_null()) {
    // The follower was told the run is over: the page must carry the verdict.
    ASSERT_EQ(page["events"].size(), 1u) << page.dump();
    EXPECT_EQ(page["events"][0]["eventType"], "run_succeeded");
  } else {
    // Or it is told to read on from the cursor, where it will find the verdict.
    EXPECT_EQ(page["nextCursor"], 0) << page.dump();
  }
}

}  // namespace
}  // namespace vespid::workflows
