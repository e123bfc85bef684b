// One storage commit of a batch of session events, through the real StorageService thread and
// the SQLite plugin on a file in /tmp (durable: the commit is acknowledged after the backend
// said so). The figure is events per second. Baseline in the same run: the same events, one
// commit each, all queued at once (the storage thread still groups queued commits into one
// transaction, so this is the cost of many small transactions, not of many fsyncs), and one
// event per commit, waited for one by one (one durable transaction per event). Then reads: a
// page of events in one scan, against the same rows read one get at a time.
#include <benchmark/benchmark.h>

#include <boost/asio/executor_work_guard.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core_harness.hpp"

namespace {

using vespid::core::StorageOp;
using vespid::core::Txn;
using vespid::core::Write;
using vespid::core::testing::StorageHarness;

// Completions reach the core through the loop (as in the gateway: the storage thread posts
// them); the bench thread drives the loop until all have arrived.
class Completions {
 public:
  explicit Completions(vespid::core::Loop& loop) : loop_(loop) {}
  void expect(int n) { left_ = n; }
  void done() { --left_; }
  void wait() {
    loop_.io().restart();
    auto guard = boost::asio::make_work_guard(loop_.io());
    while (left_ > 0) loop_.io().run_one();
  }

 private:
  vespid::core::Loop& loop_;
  int left_ = 0;
};

std::string event_value(uint64_t seq) {
  return nlohmann::json{
      {"sessionId", "ses_bench"},        {"seq", seq},
      {"eventType", "agent_delta"},      {"level", "info"},
      {"payload", {{"text", " world"}}}, {"createdAt", "2026-11-22T10:01:02.345Z"}}
      .dump();
}

std::string event_key(uint64_t seq) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "sess-ev/ses_bench/%016llu", static_cast<unsigned long long>(seq));
  return buf;
}

StorageHarness& harness() {
  static StorageHarness h;
  return h;
}

uint64_t next_seq = 0;

void submit(StorageOp& op, Completions& c) {
  op.kind = StorageOp::Kind::Commit;
  op.on_done = [&c] { c.done(); };
  harness().storage().submit(&op);
}

// `batch` events in one transaction (as SessionService::append writes them), plus the seq
// counter it moves.
void BM_CommitEventBatch(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  Completions c(harness().loop());
  for (auto _ : state) {
    StorageOp op;
    for (int i = 0; i < batch; ++i) {
      ++next_seq;
      op.txn.writes.push_back(Write::put(event_key(next_seq), event_value(next_seq)));
    }
    op.txn.writes.push_back(Write::put("sess-seq/ses_bench", std::to_string(next_seq)));
    c.expect(1);
    submit(op, c);
    c.wait();
    if (op.status != VSP_OK) state.SkipWithError(op.error.c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}
BENCHMARK(BM_CommitEventBatch)->Arg(64)->Arg(512)->UseRealTime();

// Baseline: the same events as one commit each, queued together.
void BM_Baseline_CommitEventsQueuedSeparately(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  Completions c(harness().loop());
  for (auto _ : state) {
    std::vector<StorageOp> ops(static_cast<size_t>(batch));
    c.expect(batch);
    for (auto& op : ops) {
      ++next_seq;
      op.txn.writes.push_back(Write::put(event_key(next_seq), event_value(next_seq)));
      submit(op, c);
    }
    c.wait();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}
BENCHMARK(BM_Baseline_CommitEventsQueuedSeparately)->Arg(64)->UseRealTime();

// Baseline: one durable transaction per event, each waited for.
void BM_Baseline_CommitOneEventAtATime(benchmark::State& state) {
  Completions c(harness().loop());
  for (auto _ : state) {
    StorageOp op;
    ++next_seq;
    op.txn.writes.push_back(Write::put(event_key(next_seq), event_value(next_seq)));
    c.expect(1);
    submit(op, c);
    c.wait();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Baseline_CommitOneEventAtATime)->UseRealTime();

// Reading back a page of 256 session events, as a replay does: one ordered scan. Baseline in the
// same run: the same 256 events read with one get each, all queued at once. Both read rows a
// commit wrote just before, from a store of 4096 events whose first ones the scan skips.
constexpr uint64_t kReadBase = 1'000'000'000;  // above any seq the commit benches reach
constexpr int kReadStored = 4096;
constexpr int kReadPage = 256;

void store_read_events_once() {
  static bool stored = false;
  if (stored) return;
  stored = true;
  Completions c(harness().loop());
  for (int first = 0; first < kReadStored; first += 512) {
    StorageOp op;
    for (int i = first; i < first + 512; ++i) {
      const uint64_t seq = kReadBase + static_cast<uint64_t>(i);
      op.txn.writes.push_back(Write::put(event_key(seq), event_value(seq)));
    }
    c.expect(1);
    submit(op, c);
    c.wait();
  }
}

void BM_ScanEventPage(benchmark::State& state) {
  store_read_events_once();
  Completions c(harness().loop());
  const uint64_t first = kReadBase + kReadStored / 2;
  for (auto _ : state) {
    StorageOp op;
    op.kind = StorageOp::Kind::Scan;
    op.key = event_key(first);
    op.end = event_key(first + kReadPage);
    op.limit = kReadPage;
    op.on_done = [&c] { c.done(); };
    c.expect(1);
    harness().storage().submit(&op);
    c.wait();
    if (op.status != VSP_OK || op.rows.size() != kReadPage) state.SkipWithError("scan: wrong page");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kReadPage));
}
BENCHMARK(BM_ScanEventPage)->UseRealTime();

void BM_Baseline_GetEventsOneByOne(benchmark::State& state) {
  store_read_events_once();
  Completions c(harness().loop());
  const uint64_t first = kReadBase + kReadStored / 2;
  for (auto _ : state) {
    std::vector<StorageOp> ops(kReadPage);
    c.expect(kReadPage);
    for (int i = 0; i < kReadPage; ++i) {
      ops[static_cast<size_t>(i)].kind = StorageOp::Kind::Get;
      ops[static_cast<size_t>(i)].key = event_key(first + static_cast<uint64_t>(i));
      ops[static_cast<size_t>(i)].on_done = [&c] { c.done(); };
      harness().storage().submit(&ops[static_cast<size_t>(i)]);
    }
    c.wait();
    for (const auto& op : ops) {
      if (op.status != VSP_OK || op.rows.size() != 1) state.SkipWithError("get: row missing");
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kReadPage));
}
BENCHMARK(BM_Baseline_GetEventsOneByOne)->UseRealTime();

}  // namespace
