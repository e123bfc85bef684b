// Conformance: revisions, versions, compares and batches of transactions.
#include "conformance.hpp"

// Referenced by the library's link options so that a static link keeps this file's cases.
extern "C" void vespid_storage_conformance_txn() {}

namespace vespid::storage_test {
namespace {

// One transaction that writes `marker` when applied, so a test can see whether it applied.
Txn marked(Txn t, const Bytes& marker) {
  return t.put(marker, "applied");
}

// "k0", "k1", ... (built by appending: GCC 12 at -O3 warns falsely about "k" + std::string).
Bytes numbered(const char* prefix, int i) {
  Bytes k = prefix;
  k += std::to_string(i);
  return k;
}

TEST_P(StorageConformance, FirstRevisionOfAFreshStoreIsOne) {
  EXPECT_EQ(put("k", "v"), 1u);
}

TEST_P(StorageConformance, VersionEqualsTheRevisionCommitReturned) {
  Outcome o = commit({Txn().put("a", "1"), Txn().put("b", "2").put("c", "3")});
  ASSERT_EQ(o.results.size(), 2u);
  ASSERT_EQ(o.results[0].status, VSP_OK);
  ASSERT_EQ(o.results[1].status, VSP_OK);
  EXPECT_EQ(version_of("a"), o.results[0].revision);
  EXPECT_EQ(version_of("b"), o.results[1].revision);
  EXPECT_EQ(version_of("c"), o.results[1].revision);
  // The versions a scan reports are the same.
  for (const Kv& kv : scan_all()) EXPECT_EQ(kv.version, version_of(kv.key)) << kv.key;
}

TEST_P(StorageConformance, RevisionsStrictlyIncreaseAcrossCommits) {
  uint64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    // Alternate kinds of commit: a put, a delete of an absent key, a put to the same key.
    uint64_t rev = (i % 3 == 1) ? del(numbered("gone", i)) : put("k", std::to_string(i));
    EXPECT_GT(rev, last) << "commit " << i;
    last = rev;
  }
}

TEST_P(StorageConformance, RevisionsStrictlyIncreaseWithinABatch) {
  uint64_t before = put("seed", "0");
  std::vector<Txn> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(Txn().put(numbered("k", i), "v"));
  Outcome o = commit(batch);
  ASSERT_EQ(o.results.size(), 5u);
  uint64_t last = before;
  for (size_t i = 0; i < o.results.size(); ++i) {
    ASSERT_EQ(o.results[i].status, VSP_OK) << "txn " << i;
    EXPECT_GT(o.results[i].revision, last) << "txn " << i;
    last = o.results[i].revision;
    EXPECT_EQ(version_of(numbered("k", i)), o.results[i].revision);
  }
  EXPECT_GT(put("after", "x"), last) << "the next commit continues after the batch";
}

TEST_P(StorageConformance, CompareAbsentHoldsForAMissingKey) {
  put("other", "x");
  uint64_t rev = commit_ok(Txn().absent("k").put("k", "v"));
  EXPECT_EQ(version_of("k"), rev);
}

TEST_P(StorageConformance, CompareAbsentFailsForAnExistingKey) {
  uint64_t r1 = put("k", "v1");
  Outcome o = commit({marked(Txn().absent("k").put("k", "v2"), "m")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].status, VSP_E_CONFLICT);
  EXPECT_EQ(o.results[0].failed_compare, 0u);
  EXPECT_EQ(value_of("k"), "v1") << "nothing may be applied on a failed compare";
  EXPECT_EQ(version_of("k"), r1);
  EXPECT_FALSE(get("m").has_value());
}

TEST_P(StorageConformance, CompareAbsentHoldsAfterADelete) {
  put("k", "v");
  del("k");
  commit_ok(Txn().absent("k").put("k2", "v"));
}

TEST_P(StorageConformance, ComparePresentHoldsForAnExistingKey) {
  uint64_t r1 = put("k", "v1");
  uint64_t r2 = commit_ok(Txn().present("k").put("k", "v2"));
  EXPECT_GT(r2, r1);
  EXPECT_EQ(value_of("k"), "v2");
}

TEST_P(StorageConformance, ComparePresentFailsForAMissingKey) {
  put("other", "x");
  Outcome o = commit({marked(Txn().present("k").put("k", "v"), "m")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].status, VSP_E_CONFLICT);
  EXPECT_EQ(o.results[0].failed_compare, 0u);
  EXPECT_FALSE(get("k").has_value());
  EXPECT_FALSE(get("m").has_value());
}

TEST_P(StorageConformance, CompareVersionHoldsForTheCurrentVersion) {
  uint64_t r1 = put("k", "v1");
  uint64_t r2 = commit_ok(Txn().version_is("k", r1).put("k", "v2"));
  EXPECT_EQ(version_of("k"), r2);
  // And again with the new version: the classic optimistic read-modify-write loop.
  uint64_t r3 = commit_ok(Txn().version_is("k", r2).put("k", "v3"));
  EXPECT_EQ(version_of("k"), r3);
}

TEST_P(StorageConformance, CompareVersionFailsForAStaleVersion) {
  uint64_t r1 = put("k", "v1");
  uint64_t r2 = put("k", "v2");
  Outcome o = commit({marked(Txn().version_is("k", r1).put("k", "lost update"), "m")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].status, VSP_E_CONFLICT);
  EXPECT_EQ(o.results[0].failed_compare, 0u);
  EXPECT_EQ(value_of("k"), "v2");
  EXPECT_EQ(version_of("k"), r2);
  EXPECT_FALSE(get("m").has_value());
  // A version from the future fails as well.
  o = commit({Txn().version_is("k", r2 + 1000).put("k", "x")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].status, VSP_E_CONFLICT);
}

TEST_P(StorageConformance, CompareVersionFailsForAMissingKey) {
  uint64_t r1 = put("k", "v");
  del("k");
  for (uint64_t v : {uint64_t{0}, r1}) {
    Outcome o = commit({marked(Txn().version_is("k", v).put("k", "x"), "m")});
    ASSERT_EQ(o.results.size(), 1u);
    EXPECT_EQ(o.results[0].status, VSP_E_CONFLICT) << "version " << v << " of a deleted key";
  }
  EXPECT_FALSE(get("k").has_value());
  EXPECT_FALSE(get("m").has_value());
}

TEST_P(StorageConformance, FailedCompareIsTheIndexOfTheFirstFailingOne) {
  uint64_t ra = put("a", "1");
  put("b", "2");
  struct Case {
    Txn txn;
    uint32_t first_failing;
  };
  std::vector<Case> cases;
  cases.push_back({Txn().present("a").absent("b").version_is("a", ra + 99), 1});
  cases.push_back({Txn().present("nope").absent("b"), 0});
  cases.push_back({Txn().version_is("a", ra).present("b").absent("c").absent("a"), 3});
  cases.push_back({Txn().absent("x").absent("y").version_is("b", 0).present("nope"), 2});
  for (size_t i = 0; i < cases.size(); ++i) {
    Outcome o = commit({cases[i].txn.put("m", "applied")});
    ASSERT_EQ(o.results.size(), 1u);
    EXPECT_EQ(o.results[0].status, VSP_E_CONFLICT) << "case " << i;
    EXPECT_EQ(o.results[0].failed_compare, cases[i].first_failing) << "case " << i;
  }
  EXPECT_FALSE(get("m").has_value());
}

TEST_P(StorageConformance, AConflictAppliesNoneOfItsWrites) {
  uint64_t ra = put("a", "old");
  uint64_t rb = put("b", "old");
  Outcome o = commit({Txn().present("a").absent("b").put("a", "new").del("b").put("c", "new")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].status, VSP_E_CONFLICT);
  EXPECT_EQ(o.results[0].failed_compare, 1u);
  EXPECT_EQ(value_of("a"), "old");
  EXPECT_EQ(version_of("a"), ra);
  EXPECT_EQ(value_of("b"), "old");
  EXPECT_EQ(version_of("b"), rb);
  EXPECT_FALSE(get("c").has_value());
  EXPECT_EQ(scan_all().size(), 2u);
}

TEST_P(StorageConformance, TransactionsOfABatchAreIndependent) {
  uint64_t r0 = put("taken", "x");
  Outcome o = commit({
      Txn().absent("one").put("one", "1"),
      Txn().absent("taken").put("two", "2").del("taken"),  // conflicts
      Txn().absent("three").put("three", "3"),
  });
  ASSERT_EQ(o.results.size(), 3u);
  EXPECT_EQ(o.results[0].status, VSP_OK);
  EXPECT_EQ(o.results[1].status, VSP_E_CONFLICT);
  EXPECT_EQ(o.results[1].failed_compare, 0u);
  EXPECT_EQ(o.results[2].status, VSP_OK);
  EXPECT_GT(o.results[0].revision, r0);
  EXPECT_GT(o.results[2].revision, o.results[0].revision);
  EXPECT_EQ(version_of("one"), o.results[0].revision);
  EXPECT_EQ(version_of("three"), o.results[2].revision);
  EXPECT_FALSE(get("two").has_value());
  EXPECT_EQ(version_of("taken"), r0) << "the conflicting txn's delete must not apply";
}

TEST_P(StorageConformance, TransactionsOfABatchApplyInOrder) {
  // Each txn's compares see the writes of the txns before it in the same batch.
  Outcome o = commit({
      Txn().absent("k").put("k", "v1"),
      Txn().present("k").put("k", "v2"),
      Txn().absent("k").put("never", "x"),  // k exists by now: conflicts
      Txn().present("k").del("k"),
      Txn().absent("k").put("after-delete", "x"),
  });
  ASSERT_EQ(o.results.size(), 5u);
  EXPECT_EQ(o.results[0].status, VSP_OK);
  EXPECT_EQ(o.results[1].status, VSP_OK);
  EXPECT_EQ(o.results[2].status, VSP_E_CONFLICT);
  EXPECT_EQ(o.results[3].status, VSP_OK);
  EXPECT_EQ(o.results[4].status, VSP_OK);
  EXPECT_FALSE(get("k").has_value());
  EXPECT_FALSE(get("never").has_value());
  EXPECT_EQ(version_of("after-delete"), o.results[4].revision);
}

TEST_P(StorageConformance, VersionCompareSeesARevisionFromEarlierInTheBatch) {
  uint64_t r1 = put("k", "v1");
  // The first txn writes k at some revision R > r1; the second compares against r1 and must
  // fail because k's version is now R.
  Outcome o = commit({Txn().put("k", "v2"), Txn().version_is("k", r1).put("k", "v3")});
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0].status, VSP_OK);
  EXPECT_EQ(o.results[1].status, VSP_E_CONFLICT);
  EXPECT_EQ(value_of("k"), "v2");
  EXPECT_EQ(version_of("k"), o.results[0].revision);
}

TEST_P(StorageConformance, AnEmptyBatchSucceeds) {
  uint64_t r1 = put("k", "v");
  Outcome o = store().commit({});
  EXPECT_EQ(o.status, VSP_OK) << o.message;
  EXPECT_TRUE(o.results.empty());
  EXPECT_GT(put("k2", "v"), r1);
}

TEST_P(StorageConformance, ABatchOfOnlyConflictsSucceedsAndChangesNothing) {
  uint64_t r1 = put("k", "v");
  Outcome o = commit({Txn().absent("k").put("a", "1"), Txn().present("z").put("b", "2")});
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0].status, VSP_E_CONFLICT);
  EXPECT_EQ(o.results[1].status, VSP_E_CONFLICT);
  auto all = scan_all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0], (Kv{"k", "v", r1}));
  EXPECT_GT(put("c", "3"), r1);
}

}  // namespace
}  // namespace vespid::storage_test
