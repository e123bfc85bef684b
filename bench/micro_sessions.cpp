// Session events through SessionService::append: numbered (gap-free seq, compare that the
// first new seq is free), stored durably by the storage thread on SQLite, then handed to the
// fan-out, as host deltas are. Many sessions write at once, as many turns do; the storage thread
// groups what queues up into one transaction. The figure is events per second stored and fanned
// out; micro_storage.cpp's BM_CommitEventBatch (raw commits of the same events, same binary)
// is the baseline.
#include <benchmark/benchmark.h>

#include <boost/asio/executor_work_guard.hpp>

#include "core_harness.hpp"
#include "runtime/deadlines.hpp"
#include "services/dispatch/dispatcher.hpp"
#include "services/dispatch/result_store.hpp"
#include "services/nodes/node_router.hpp"
#include "services/sessions/session_service.hpp"
#include "storage/repository.hpp"

namespace {

using vespid::core::Task;
using vespid::sessions::EventDraft;

struct SessionsRig {
  vespid::core::testing::StorageHarness h;
  vespid::repo::Repository repo{h.storage()};
  vespid::core::Deadlines deadlines{h.loop()};
  vespid::nodes::LocalNodeRouter router{deadlines, 64};
  vespid::dispatch::ResultStore results{h.storage(), 60000};
  vespid::dispatch::Dispatcher dispatcher{h.storage(), router, deadlines, results, {}};
  vespid::sessions::SessionService sessions{h.storage(), repo, router, dispatcher, {}};
  uint64_t fanned_out = 0;
  SessionsRig() {
    h.run(repo.migrate());
    sessions.set_fan_out([this](const std::string&, const std::vector<nlohmann::json>& evs) {
      fanned_out += evs.size();
    });
  }
};

SessionsRig& rig() {
  static SessionsRig r;
  return r;
}

// One writer: `batches` appends of `per_batch` deltas to its session.
Task<void> writer(std::string session_id, int batches, int per_batch) {
  for (int b = 0; b < batches; ++b) {
    std::vector<EventDraft> drafts;
    for (int i = 0; i < per_batch; ++i) {
      drafts.push_back(EventDraft{"agent_delta", "info", {{"text", " world"}}});
    }
    Task<std::vector<nlohmann::json>> t = rig().sessions.append(session_id, std::move(drafts));
    co_await std::move(t);
  }
}

// args: concurrent sessions, events per append.
void BM_SessionAppendAndFanOut(benchmark::State& state) {
  const int sessions = static_cast<int>(state.range(0));
  const int per_batch = static_cast<int>(state.range(1));
  constexpr int kBatchesPerWriter = 16;
  static uint64_t round = 0;
  auto& loop = rig().h.loop();
  const uint64_t batches_before = rig().h.storage().batches();
  for (auto _ : state) {
    ++round;
    int running = sessions;
    for (int s = 0; s < sessions; ++s) {
      std::string id = "ses_bench_" + std::to_string(round) + "_" + std::to_string(s);
      vespid::core::spawn(
          writer(std::move(id), kBatchesPerWriter, per_batch), [&running] { --running; },
          [&running, &state](std::exception_ptr) {
            --running;
            state.SkipWithError("append failed");
          });
    }
    loop.io().restart();
    auto guard = boost::asio::make_work_guard(loop.io());
    while (running > 0) loop.io().run_one();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * sessions * kBatchesPerWriter *
                          per_batch);
  state.counters["fanned_out"] = static_cast<double>(rig().fanned_out);
  // Durable transactions (one fsync each) the storage thread made: what bounds the rate when
  // the disk is slow, and the same on any machine.
  const double events =
      static_cast<double>(state.iterations()) * sessions * kBatchesPerWriter * per_batch;
  const auto batches = static_cast<double>(rig().h.storage().batches() - batches_before);
  state.counters["events_per_commit"] = batches > 0 ? events / batches : 0;
}
BENCHMARK(BM_SessionAppendAndFanOut)
    ->Args({1, 1})
    ->Args({64, 1})
    ->Args({64, 8})
    ->Args({256, 4})
    ->UseRealTime();

}  // namespace
