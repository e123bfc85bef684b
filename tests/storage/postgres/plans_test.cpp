// How the plugin's statements reach their rows: through the primary key, whatever the server's
// statistics say. A new store's tables have never been analyzed, and a generic plan made from
// that once hashed the whole kv table for every commit's compares, for as long as the session
// lived (docs/performance.md, twenty-second session).
#include <chrono>
#include <thread>

#include "pg_backend.hpp"

namespace vespid::storage_test::postgres {
namespace {

TEST_F(PostgresTest, CommitsAndReadsOnAGrowingNewStoreNeverScanTheWholeTable) {
  open();
  for (int round = 0; round < 40; ++round) {
    std::vector<Txn> batch;
    for (int i = 0; i < 8; ++i) {
      const std::string key = "k/" + std::to_string(round * 8 + i);
      batch.push_back(Txn().absent(key).put(key, std::string(100, 'v')));
    }
    if (round > 0) {
      batch.push_back(
          Txn().present("k/0").version_is("k/1", 1).del("k/" + std::to_string(round * 8 - 1)));
    }
    Outcome o = store().commit(batch);
    ASSERT_EQ(o.status, VSP_OK) << o.message;
    Kv kv;
    ASSERT_EQ(store().get("k/3", &kv), VSP_OK);
    std::vector<Kv> rows;
    ASSERT_EQ(store().scan("k/1", "k/2", 10, 0, &rows), VSP_OK);
  }
  // The sessions end, and each reports its statistics as it exits.
  ASSERT_TRUE(h().close());
  const std::string where =
      " FROM pg_stat_user_tables WHERE schemaname = '" + schema() + "' AND relname = 'kv'";
  std::string index_scans;
  for (int i = 0; i < 100; ++i) {
    index_scans = sql("SELECT idx_scan" + where);
    if (!index_scans.empty() && index_scans != "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(index_scans, "0") << "the statistics never arrived, so the next line proves nothing";
  // One sequential scan is the primary key's index being built when the table was created.
  // Without the session's planner settings this load made 360.
  EXPECT_EQ(sql("SELECT seq_scan" + where), "1")
      << "a statement read the whole kv table (" << index_scans << " index scans)";
}

}  // namespace
}  // namespace vespid::storage_test::postgres
