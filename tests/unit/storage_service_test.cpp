// The storage thread: ordering, batching, and what a failure looks like to a coroutine.
#include "storage/storage_service.hpp"

#include <gtest/gtest.h>

#include "core_harness.hpp"
#include "storage_interposer.hpp"

namespace vespid::core {
namespace {

using testing::StorageHarness;

Task<std::optional<KV>> put_then_get(StorageService& s, std::string key, std::string value) {
  Txn txn;
  txn.writes.push_back(Write::put(key, value));
  TxnOutcome out = co_await s.commit(std::move(txn));
  if (!out.applied) throw std::runtime_error("not applied");
  std::optional<KV> kv = co_await s.get(key);
  co_return kv;
}

TEST(StorageService, AReadSubmittedAfterACommitSeesIt) {
  StorageHarness h;
  auto kv = h.run(put_then_get(h.storage(), "k", "v"));
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->value, "v");
  EXPECT_GT(kv->version, 0u);
  EXPECT_EQ(h.storage().last_revision(), kv->version);
}

Task<int> many_commits(StorageService& s, int n) {
  // Submit n commits without waiting for each: they queue up behind the storage thread and
  // must come back applied, each with its own revision.
  std::vector<StorageOp> ops(static_cast<size_t>(n));
  int completed = 0;
  std::coroutine_handle<> waiter;
  struct Wait {
    int& completed;
    int n;
    std::coroutine_handle<>& waiter;
    bool await_ready() const noexcept { return completed == n; }
    void await_suspend(std::coroutine_handle<> h) { waiter = h; }
    void await_resume() const noexcept {}
  };
  for (int i = 0; i < n; ++i) {
    auto& op = ops[static_cast<size_t>(i)];
    op.kind = StorageOp::Kind::Commit;
    op.txn.writes.push_back(Write::put("batch/" + std::to_string(i), "x"));
    op.on_done = [&completed, &waiter, n] {
      if (++completed == n && waiter) waiter.resume();
    };
    s.submit(&op);
  }
  co_await Wait{completed, n, waiter};
  std::set<uint64_t> revisions;
  for (auto& op : ops) {
    if (op.status != VSP_OK || !op.outcome.applied) throw std::runtime_error("a commit failed");
    revisions.insert(op.outcome.revision);
  }
  co_return static_cast<int>(revisions.size());
}

TEST(StorageService, QueuedCommitsShareDurableBatches) {
  StorageHarness h;
  const int n = 2000;
  int distinct = h.run(many_commits(h.storage(), n));
  EXPECT_EQ(distinct, n) << "every transaction gets its own revision";
  EXPECT_EQ(h.storage().commits(), static_cast<uint64_t>(n));
  EXPECT_LT(h.storage().batches(), static_cast<uint64_t>(n) / 4)
      << "commits that queued together must share fsyncs";
}

TEST(StorageService, BatchesNeverExceedMaxBatch) {
  StorageHarness h(StorageService::Options{16, 65536});
  h.run(many_commits(h.storage(), 400));
  EXPECT_GE(h.storage().batches(), 400u / 16);
}

Task<bool> conflicting(StorageService& s) {
  Txn first;
  first.compares.push_back(Compare::absent("unique"));
  first.writes.push_back(Write::put("unique", "a"));
  TxnOutcome a = co_await s.commit(std::move(first));
  Txn second;
  second.compares.push_back(Compare::absent("unique"));
  second.writes.push_back(Write::put("unique", "b"));
  TxnOutcome b = co_await s.commit(std::move(second));
  auto kv = co_await s.get("unique");
  co_return a.applied && !b.applied && kv && kv->value == "a";
}

TEST(StorageService, ComparesMakeUniquenessRaceFree) {
  StorageHarness h;
  EXPECT_TRUE(h.run(conflicting(h.storage())));
}

Task<std::vector<KV>> prefix(StorageService& s) {
  Txn txn;
  for (const char* k : {"a/1", "a/2", "a/3", "b/1", "a"}) txn.writes.push_back(Write::put(k, k));
  co_await s.commit(std::move(txn));
  std::vector<KV> rows = co_await s.scan_prefix("a/", 0, true);
  co_return rows;
}

TEST(StorageService, PrefixScansStayInsideThePrefix) {
  StorageHarness h;
  auto rows = h.run(prefix(h.storage()));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].key, "a/3");
  EXPECT_EQ(rows[2].key, "a/1");
  EXPECT_EQ(StorageService::prefix_end("a/"), "a0");
  EXPECT_EQ(StorageService::prefix_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(StorageService::prefix_end(std::string("\xff\xff", 2)), "");
}

TEST(StorageService, AFullQueueFailsFastInsteadOfGrowing) {
  // 20000 submissions in a tight loop outrun any storage thread: each get is a SQLite query.
  StorageHarness h(StorageService::Options{512, 16});
  std::vector<StorageOp> ops(20000);
  int overflowed = 0, done = 0;
  for (auto& op : ops) {
    op.kind = StorageOp::Kind::Get;
    op.key = "k";
    op.on_done = [&, p = &op] {
      done++;
      if (p->status == VSP_E_OVERFLOW) overflowed++;
    };
    h.storage().submit(&op);
  }
  h.loop().io().restart();
  auto guard = boost::asio::make_work_guard(h.loop().io());
  while (done < 20000) h.loop().io().run_one();
  EXPECT_GT(overflowed, 0) << "queue_depth 16 cannot hold 20000 operations at once";
  for (auto& op : ops) {
    if (op.status == VSP_E_OVERFLOW) {
      EXPECT_NE(op.error.find("storage.queue_depth"), std::string::npos);
    }
  }
}

Task<uint64_t> put_one(StorageService& s, std::string key) {
  Txn txn;
  txn.writes.push_back(Write::put(std::move(key), "v"));
  TxnOutcome out = co_await s.commit(std::move(txn));
  co_return out.revision;
}

TEST(StorageService, AfterARestartItReportsTheRevisionTheStoreReached) {
  // Not 0: /healthz, status and the start-up log show it, and a store that has handed out
  // revision N must never look like one that could hand it out again.
  StorageHarness h;
  uint64_t last = 0;
  for (int i = 0; i < 3; ++i) last = h.run(put_one(h.storage(), "k" + std::to_string(i)));
  h.reopen();
  EXPECT_GE(h.storage().last_revision(), last);
  EXPECT_GT(h.run(put_one(h.storage(), "after")), last);
}

TEST(StorageService, OpenRefusesAStoreThatTakesNoWrites) {
  // Whatever the backend: a store that opens but fails every commit must not start "ready".
  testing::StorageInterposer ip;
  ip.fail_every_commit(VSP_E_IO, "attempt to write a readonly database");
  try {
    StorageHarness h({}, "{}", ip.interpose());
    FAIL() << "the storage service opened a store that takes no writes";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.status(), VSP_E_IO);
    EXPECT_NE(std::string(e.what()).find("attempt to write a readonly database"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace vespid::core
