// Deferred syncs (ABI 1.4, storage.md): a commit that asks only to be applied hears back before
// its round's sync, the synced commits of the round and the writers waiting on durability after
// it, and a table without commit_unsynced and sync keeps every commit synced. Driven through the
// real sqlite plugin, with an interposer recording the calls the service makes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core_harness.hpp"
#include "storage/storage_service.hpp"
#include "storage_interposer.hpp"
#include "storage_submitted.hpp"

namespace vespid::core {
namespace {

using testing::put;
using testing::StorageHarness;
using testing::StorageInterposer;
using Submitted = testing::SubmittedOps;
using Calls = std::vector<std::string>;

// Waits on the storage thread (inside a sync) until `done` says so, for at most two seconds.
bool wait_for(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(StorageDeferredSync, AnAppliedCommitHearsBackBeforeItsRoundsSyncAndASyncedOneAfter) {
  StorageInterposer ip;
  StorageHarness h({}, "{}", ip.interpose());
  ASSERT_TRUE(h.storage().defers_syncs()) << "the sqlite plugin offers commit_unsynced and sync";
  Submitted sub(h);

  // Hold the storage thread so that the next two commits queue up into one round.
  ip.hold_next();
  StorageOp& first = sub.commit(put("first", "1"), Durability::Synced);
  ip.wait_until_held();
  ip.forget_calls();
  StorageOp& record = sub.commit(put("record", "applied"), Durability::Applied);
  StorageOp& result = sub.commit(put("result", "synced"), Durability::Synced);

  // Inside the sync: the Applied writer must already have heard back (the loop thread, which is
  // this test's, delivers it meanwhile), and the Synced one must not have.
  std::atomic<bool> applied_before_sync{false}, synced_before_sync{true};
  ip.on_sync([&] {
    applied_before_sync = wait_for([&] { return sub.done(record); });
    synced_before_sync = sub.done(result);
    return VSP_OK;
  });
  ip.release();
  sub.wait_all();

  EXPECT_EQ(ip.calls_log(), (Calls{"unsynced 2", "sync"})) << "the held commit was forgotten";
  EXPECT_TRUE(applied_before_sync) << "the Applied commit waited for the sync";
  EXPECT_FALSE(synced_before_sync) << "the Synced commit heard back before its sync";
  for (StorageOp* op : {&first, &record, &result}) {
    EXPECT_EQ(op->status, VSP_OK) << op->error;
    EXPECT_TRUE(op->outcome.applied);
  }
  EXPECT_LT(record.outcome.revision, result.outcome.revision) << "submission order kept";
  EXPECT_GE(h.storage().synced_revision(), result.outcome.revision);
}

TEST(StorageDeferredSync, DurableThroughWaitsForTheSyncUnderWayAndNoMore) {
  // An Applied commit alone: its round syncs right after telling the writer, and a writer that
  // then waits on durability resumes only once that sync has finished, with no second one.
  StorageInterposer ip;
  StorageHarness h({}, "{}", ip.interpose());
  ip.forget_calls();
  std::atomic<bool> sync_finished{false};
  ip.on_sync([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a slow disk
    sync_finished = true;
    return VSP_OK;
  });
  StorageService& s = h.storage();

  auto flow = [&]() -> Task<bool> {
    TxnOutcome out = co_await s.commit(put("k", "v"), Durability::Applied);
    const bool told_before_the_sync_ended = !sync_finished;
    co_await s.durable_through(out.revision);
    EXPECT_TRUE(sync_finished) << "resumed before the sync that covers it had finished";
    EXPECT_GE(s.synced_revision(), out.revision);
    co_await s.durable_through(out.revision);  // already durable: no trip, no second sync
    co_return told_before_the_sync_ended;
  };
  EXPECT_TRUE(h.run(flow())) << "the Applied writer waited for the slow sync";
  EXPECT_EQ(ip.calls_log(), (Calls{"unsynced 1", "sync"}));
}

TEST(StorageDeferredSync, AFailedSyncFailsItsWaitersAndTheWriteStaysApplied) {
  StorageInterposer ip;
  StorageHarness h({}, "{}", ip.interpose());
  ip.on_sync([] { return VSP_E_IO; });
  StorageService& s = h.storage();

  auto flow = [&]() -> Task<std::string> {
    TxnOutcome out = co_await s.commit(put("k", "kept"), Durability::Applied);
    try {
      co_await s.durable_through(out.revision);
    } catch (const StorageError& e) {
      EXPECT_EQ(e.status(), VSP_E_IO);
      co_return e.what();
    }
    co_return "";
  };
  const std::string error = h.run(flow());
  EXPECT_NE(error.find("could not make the write durable"), std::string::npos) << error;
  EXPECT_NE(error.find("the test's disk went away"), std::string::npos) << error;

  auto read = [&]() -> Task<std::optional<KV>> { co_return co_await s.get("k"); };
  std::optional<KV> kv = h.run(read());
  ASSERT_TRUE(kv.has_value()) << "the write stays applied";
  EXPECT_EQ(kv->value, "kept");
}

TEST(StorageDeferredSync, AWriteWhoseSyncFailedIsNeverReportedDurableLater) {
  // An fsync that failed may have dropped the pages it was to write, and a database server
  // that crashed may have lost the commits: a later sync that succeeds says nothing about them.
  StorageInterposer ip;
  StorageHarness h({}, "{}", ip.interpose());
  std::atomic<int> sync_status{VSP_E_IO};
  ip.on_sync([&] { return sync_status.load(); });
  StorageService& s = h.storage();

  auto durable = [&](uint64_t revision) -> Task<std::string> {
    try {
      co_await s.durable_through(revision);
    } catch (const StorageError& e) {
      co_return e.what();
    }
    co_return "durable";
  };
  auto applied = [&](std::string key) -> Task<uint64_t> {
    co_return (co_await s.commit(put(key, "v"), Durability::Applied)).revision;
  };
  const uint64_t lost = h.run(applied("lost"));
  EXPECT_NE(h.run(durable(lost)).find("the test's disk went away"), std::string::npos);

  sync_status = VSP_OK;
  const uint64_t later = h.run(applied("later"));
  EXPECT_EQ(h.run(durable(later)), "durable") << "later writes sync again";
  ASSERT_GE(s.synced_revision(), lost) << "the later sync moved past the unsure revision";
  EXPECT_FALSE(s.known_durable(lost));
  const std::string asked_after = h.run(durable(lost));
  EXPECT_NE(asked_after.find("could not make the write durable"), std::string::npos)
      << "asked after the later sync: " << asked_after;
  // A synced commit covers everything before it, but not what a failed sync left unsure.
  auto synced = [&]() -> Task<uint64_t> {
    co_return (co_await s.commit(put("synced", "v"), Durability::Synced)).revision;
  };
  EXPECT_GT(h.run(synced()), later);
  EXPECT_NE(h.run(durable(lost)), "durable");
  EXPECT_EQ(h.run(durable(later)), "durable");
}

TEST(StorageDeferredSync, ATableWithoutTheFunctionsSyncsEveryCommit) {
  // A backend built against ABI 1.3 (or postgres today): Applied is Synced, and durability
  // never needs a trip to the storage thread.
  StorageInterposer ip;
  ip.without_deferred_syncs();
  StorageHarness h({}, "{}", ip.interpose());
  ASSERT_FALSE(h.storage().defers_syncs());
  ip.forget_calls();
  StorageService& s = h.storage();

  auto flow = [&]() -> Task<bool> {
    TxnOutcome out = co_await s.commit(put("k", "v"), Durability::Applied);
    const bool synced_at_once = s.synced_revision() >= out.revision;
    co_await s.durable_through(out.revision);
    co_return synced_at_once;
  };
  EXPECT_TRUE(h.run(flow()));
  EXPECT_EQ(ip.calls_log(), (Calls{"commit 1"}));
}

TEST(StorageDeferredSync, SwitchedOffEveryCommitIsSynced) {
  // storage.defer_syncs: false, with a backend that could defer: nothing is.
  StorageInterposer ip;
  StorageService::Options options;
  options.defer_syncs = false;
  StorageHarness h(options, "{}", ip.interpose());
  ASSERT_FALSE(h.storage().defers_syncs());
  ip.forget_calls();
  auto flow = [&]() -> Task<bool> {
    TxnOutcome out = co_await h.storage().commit(put("k", "v"), Durability::Applied);
    co_return h.storage().synced_revision() >= out.revision;
  };
  EXPECT_TRUE(h.run(flow()));
  EXPECT_EQ(ip.calls_log(), (Calls{"commit 1"}));
}

TEST(StorageDeferredSync, AnAppliedCommitSurvivesTheStoreBeingReopened) {
  StorageHarness h;
  auto write = [&]() -> Task<uint64_t> {
    TxnOutcome out = co_await h.storage().commit(put("k", "applied"), Durability::Applied);
    co_return out.revision;
  };
  const uint64_t revision = h.run(write());
  h.reopen();
  EXPECT_GE(h.storage().last_revision(), revision + 1) << "the revision counter kept it too";
  auto read = [&]() -> Task<std::optional<KV>> { co_return co_await h.storage().get("k"); };
  std::optional<KV> kv = h.run(read());
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "applied");
}

}  // namespace
}  // namespace vespid::core
