// Conformance: ABI 1.4's deferred syncs. Both functions or neither; a batch applied by
// commit_unsynced is a batch like commit's (results, revisions, visibility, conflicts); sync
// makes it durable and is cheap to repeat; the revision counter goes on across both kinds.
#include "conformance.hpp"

// Referenced by the library's link options so that a static link keeps this file's cases.
extern "C" void vespid_storage_conformance_deferred() {}

namespace vespid::storage_test {
namespace {

TEST_P(StorageConformance, DeferredSyncFunctionsComeBothOrNeither) {
  // The host uses them only as a pair; a table with one of them is a broken table.
  const vsp_storage_vtbl& v = harness().plugin().vtbl;
  EXPECT_EQ(v.commit_unsynced == nullptr, v.sync == nullptr)
      << "commit_unsynced and sync must both be set or both be NULL";
}

TEST_P(StorageConformance, AnUnsyncedBatchIsAppliedLikeACommittedOne) {
  if (!store().has_deferred_sync()) {
    // Nothing more to hold such a backend to: the host syncs every commit of it. What it must
    // still do is take a plain commit after the case above said it has no pair.
    EXPECT_GT(put("plain", "1"), 0u);
    return;
  }
  const uint64_t before = put("a", "1");
  Outcome o = store().commit_unsynced(
      {Txn().put("b", "2"), Txn().absent("a").put("x", "never"), Txn().put("c", "3")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  ASSERT_EQ(o.results.size(), 3u);
  EXPECT_EQ(o.results[0].status, VSP_OK);
  EXPECT_EQ(o.results[1].status, VSP_E_CONFLICT);
  EXPECT_EQ(o.results[1].failed_compare, 0u);
  EXPECT_EQ(o.results[2].status, VSP_OK);
  EXPECT_GT(o.results[0].revision, before);
  EXPECT_GT(o.results[2].revision, o.results[0].revision);
  // Visible to every later call before any sync.
  EXPECT_EQ(value_of("b"), "2");
  EXPECT_EQ(version_of("c"), o.results[2].revision);
  EXPECT_FALSE(get("x").has_value()) << "a conflict applies nothing, unsynced or not";

  std::string message;
  EXPECT_EQ(store().sync(&message), VSP_OK) << message;
  EXPECT_EQ(store().sync(&message), VSP_OK) << "a sync with nothing to do: " << message;
  EXPECT_GT(put("d", "4"), o.results[2].revision) << "revisions go on past the unsynced batch";
}

TEST_P(StorageConformance, AnUnsyncedBatchSurvivesReopenWithAndWithoutASync) {
  if (!store().has_deferred_sync()) {
    EXPECT_GT(put("plain", "1"), 0u);
    return;
  }
  Outcome synced = store().commit_unsynced({Txn().put("synced", "s")});
  ASSERT_EQ(synced.status, VSP_OK) << synced.message;
  ASSERT_EQ(store().sync(), VSP_OK);
  Outcome unsynced = store().commit_unsynced({Txn().put("unsynced", "u")});
  ASSERT_EQ(unsynced.status, VSP_OK) << unsynced.message;
  reopen();  // a clean stop: it must not throw away what was applied
  EXPECT_EQ(value_of("synced"), "s");
  EXPECT_EQ(value_of("unsynced"), "u");
  EXPECT_GT(put("after", "1"), unsynced.results.at(0).revision);
}

}  // namespace
}  // namespace vespid::storage_test
