// The storage service hands queued commits of many writers to the backend as one batch. When
// the backend fails that batch as a whole (nothing of it applied, storage.h), one transaction
// may be to blame: it must fail alone, and the other writers' transactions must commit, with
// revisions that keep increasing and are never handed out twice.
#include <gtest/gtest.h>

#include <random>
#include <set>

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

std::string noise(size_t n) {
  // Random bytes do not compress or share pages: their size on disk is what it says.
  std::mt19937 rng(7);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

Task<std::optional<KV>> read(StorageService& s, std::string key) {
  std::optional<KV> kv = co_await s.get(std::move(key));
  co_return kv;
}

TEST(StorageBatchFailure, OneTransactionThatFailsTheBatchFailsAloneAndTheOthersCommit) {
  // max_size_mb: 1 makes a 2 MiB value a real SQLITE_FULL for its batch, while small writes
  // still fit: the failure belongs to one transaction.
  StorageInterposer ip;
  StorageHarness h({}, R"({"max_size_mb": 1})", ip.interpose());
  Submitted sub(h);

  // Hold the storage thread in a first commit so that the next ones queue up into one batch.
  ip.hold_next();
  StorageOp& first = sub.commit(put("first", "1"));
  ip.wait_until_held();
  ip.forget_calls();
  StorageOp& a = sub.commit(put("a", "from writer a"));
  StorageOp& big = sub.commit(put("big", noise(2u << 20)));
  StorageOp& c = sub.commit(put("c", "from writer c"));
  ip.release();
  sub.wait_all();

  ASSERT_EQ(ip.calls().size(), 4u);
  EXPECT_EQ(ip.calls()[0], 3u) << "the three queued commits went to the backend as one batch";

  EXPECT_EQ(big.status, VSP_E_FULL) << big.error;
  EXPECT_NE(big.error.find("database or disk is full"), std::string::npos) << big.error;
  for (StorageOp* op : {&first, &a, &c}) {
    ASSERT_EQ(op->status, VSP_OK) << op->error;
    EXPECT_TRUE(op->outcome.applied);
  }
  EXPECT_GT(a.outcome.revision, first.outcome.revision);
  EXPECT_GT(c.outcome.revision, a.outcome.revision) << "revisions increase in submission order";

  auto ka = h.run(read(h.storage(), "a"));
  auto kc = h.run(read(h.storage(), "c"));
  ASSERT_TRUE(ka && kc);
  EXPECT_EQ(ka->value, "from writer a");
  EXPECT_EQ(ka->version, a.outcome.revision);
  EXPECT_EQ(kc->value, "from writer c");
  EXPECT_EQ(kc->version, c.outcome.revision);
  EXPECT_FALSE(h.run(read(h.storage(), "big")));
  EXPECT_EQ(h.storage().last_revision(), c.outcome.revision);

  // The failed attempts consumed no revision that a later commit could be handed again.
  Submitted more(h);
  StorageOp& after = more.commit(put("after", "x"));
  more.wait_all();
  ASSERT_EQ(after.status, VSP_OK) << after.error;
  EXPECT_GT(after.outcome.revision, c.outcome.revision);
  std::set<uint64_t> revisions{first.outcome.revision, a.outcome.revision, c.outcome.revision,
                               after.outcome.revision};
  EXPECT_EQ(revisions.size(), 4u);
}

TEST(StorageBatchFailure, ConflictsInARetriedBatchStayConflicts) {
  StorageInterposer ip;
  StorageHarness h({}, R"({"max_size_mb": 1})", ip.interpose());
  Submitted sub(h);
  ip.hold_next();
  sub.commit(put("taken", "1"));
  ip.wait_until_held();
  Txn claim = put("taken", "2");
  claim.compares.push_back(Compare::absent("taken"));
  StorageOp& conflict = sub.commit(std::move(claim));
  StorageOp& big = sub.commit(put("big", noise(2u << 20)));
  StorageOp& good = sub.commit(put("good", "1"));
  ip.release();
  sub.wait_all();

  EXPECT_EQ(conflict.status, VSP_OK) << "a conflict is an outcome, not a failure";
  EXPECT_FALSE(conflict.outcome.applied);
  EXPECT_EQ(big.status, VSP_E_FULL);
  ASSERT_EQ(good.status, VSP_OK) << good.error;
  EXPECT_TRUE(good.outcome.applied);
  auto taken = h.run(read(h.storage(), "taken"));
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->value, "1");
}

TEST(StorageBatchFailure, AStoreThatFailsEverythingIsNotRetriedPastTwoFailures) {
  // A store-wide fault (a full disk, an I/O error, a lock held elsewhere for busy_timeout_ms)
  // fails every transaction on its own too. Retrying all of them would cost one full attempt
  // each, so after two failures in a row the rest fail with the batch's error.
  StorageInterposer ip;
  StorageHarness h({}, "{}", ip.interpose());
  Submitted sub(h);
  ip.hold_next();
  StorageOp& first = sub.commit(put("first", "1"));
  ip.wait_until_held();
  std::vector<StorageOp*> batch;
  for (int i = 0; i < 6; ++i) batch.push_back(&sub.commit(put("k" + std::to_string(i), "v")));
  ip.fail_every_commit(VSP_E_IO, "the disk is on fire");
  ip.forget_calls();
  ip.release();
  sub.wait_all();

  EXPECT_EQ(first.status, VSP_E_IO);
  EXPECT_EQ(ip.calls(), (std::vector<size_t>{6, 1, 1}))
      << "the batch, then two transactions on their own, then no more attempts";
  for (StorageOp* op : batch) {
    EXPECT_EQ(op->status, VSP_E_IO);
    EXPECT_NE(op->error.find("the disk is on fire"), std::string::npos) << op->error;
  }
}

}  // namespace
}  // namespace vespid::core
