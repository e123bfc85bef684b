// vespid-sqlite promises more than the ABI's "strictly increasing": applied transactions get
// consecutive revisions, conflicts consume none, and the counter lives in the meta table.
#include "sqlite_backend.hpp"

namespace vespid::storage_test::sqlite {
namespace {

TEST_F(SqliteTest, AppliedTransactionsGetConsecutiveRevisionsAndConflictsNone) {
  open();
  Outcome o = store().commit({Txn().put("k", "v")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  const uint64_t r0 = o.results.at(0).revision;
  EXPECT_EQ(r0, 1u);

  o = store().commit({
      Txn().put("a", "1"), Txn().absent("k").put("b", "2"),  // conflicts
      Txn().put("c", "3"),
      Txn().present("k"),  // applies with no writes: still a committed transaction
  });
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  ASSERT_EQ(o.results.size(), 4u);
  EXPECT_EQ(o.results[0].revision, r0 + 1);
  EXPECT_EQ(o.results[1].status, VSP_E_CONFLICT);
  EXPECT_EQ(o.results[2].revision, r0 + 2);
  EXPECT_EQ(o.results[3].status, VSP_OK);
  EXPECT_EQ(o.results[3].revision, r0 + 3);

  o = store().commit({Txn().present("nope").put("x", "1")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  EXPECT_EQ(o.results.at(0).status, VSP_E_CONFLICT);
  o = store().commit({Txn().put("d", "4")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  EXPECT_EQ(o.results.at(0).revision, r0 + 4) << "conflicts must not consume revisions";

  ASSERT_TRUE(h().close());
  EXPECT_EQ(query(db_path(), "SELECT value FROM meta WHERE name = 'revision'"),
            std::to_string(r0 + 4));
}

TEST_F(SqliteTest, AMalformedBatchIsRefusedWholeBeforeAnythingIsWritten) {
  open();
  Txn good = Txn().put("good", "1");
  vsp_write bad_op{99, reinterpret_cast<const uint8_t*>("k"), 1, nullptr, 0};
  vsp_write null_key{VSP_WRITE_PUT, nullptr, 3, reinterpret_cast<const uint8_t*>("v"), 1};
  for (const vsp_write* bad : {&bad_op, &null_key}) {
    vsp_txn views[2] = {good.view(), vsp_txn{nullptr, 0, bad, 1}};
    vsp_txn_result results[2];
    std::string msg;
    EXPECT_EQ(store().commit_raw(views, 2, results, &msg), VSP_E_INVALID);
    EXPECT_NE(msg.find("txn 1 write 0"), std::string::npos) << msg;
    if (bad == &null_key) {
      EXPECT_NE(msg.find("commit: txn 1 write 0 key is NULL with a non-zero length"),
                std::string::npos)
          << msg;
    }
    Kv kv;
    EXPECT_EQ(store().get("good", &kv), VSP_E_NOT_FOUND) << "txn 0 must not have been applied";
  }
  Outcome o = store().commit({good});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  EXPECT_EQ(o.results.at(0).revision, 1u) << "refused batches consume no revisions";
}

TEST_F(SqliteTest, TwoInstancesOnOneFileNeverRepeatARevision) {
  // Not a supported setup, but a misconfiguration must not corrupt the revision order: each
  // commit reads the counter under SQLite's write lock.
  open();
  TestHost other_host(h().dir(), "second");
  StoreClient other(h().plugin().vtbl, other_host);
  std::string msg;
  ASSERT_EQ(other.create(config_for(db_path()), &msg), VSP_OK) << msg;
  ASSERT_EQ(other.start(&msg), VSP_OK) << msg;
  uint64_t last = 0;
  for (int i = 0; i < 10; ++i) {
    StoreClient& s = (i % 2 == 0) ? store() : other;
    Outcome o = s.commit({Txn().put("k", std::to_string(i))});
    ASSERT_EQ(o.status, VSP_OK) << o.message;
    EXPECT_EQ(o.results.at(0).revision, last + 1) << "commit " << i;
    last = o.results.at(0).revision;
  }
  Kv kv;
  ASSERT_EQ(other.get("k", &kv), VSP_OK);
  EXPECT_EQ(kv.version, last);
  EXPECT_TRUE(other.close());
}

}  // namespace
}  // namespace vespid::storage_test::sqlite
