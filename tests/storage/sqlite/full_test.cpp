// max_size_mb: a write past the cap fails the whole batch with VSP_E_FULL, leaves nothing of it
// behind and the revision counter where it was, and the store keeps working. This is a real
// "disk full" from SQLite's point of view (SQLITE_FULL), not a simulation.
#include <random>

#include "sqlite_backend.hpp"

namespace vespid::storage_test::sqlite {
namespace {

Bytes noise(size_t n, uint32_t seed) {
  // Random bytes do not compress or share pages, so their size on disk is predictable.
  std::mt19937 rng(seed);
  Bytes b(n, '\0');
  for (auto& c : b) c = static_cast<char>(rng() & 0xff);
  return b;
}

TEST_F(SqliteTest, ABatchPastMaxSizeFailsWithFullAndAppliesNothing) {
  open(R"("max_size_mb": 1)");
  Outcome o = store().commit({Txn().put("small", "1")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  const uint64_t r1 = o.results.at(0).revision;

  o = store().commit({
      Txn().put("a", "fits"),
      Txn().put("big", noise(2u << 20, 1)),  // 2 MiB: past the 1 MiB cap
      Txn().put("c", "fits too"),
  });
  EXPECT_EQ(o.status, VSP_E_FULL) << o.message;
  EXPECT_NE(o.message.find("database or disk is full"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find(db_path().string()), std::string::npos)
      << "the message must name the database: " << o.message;

  // Nothing of the batch is visible, not even the transactions before and after the big one.
  std::vector<Kv> all;
  ASSERT_EQ(store().scan("", "", 0, 0, &all), VSP_OK);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0], (Kv{"small", "1", r1}));

  // The counter did not move, and smaller writes still work.
  o = store().commit({Txn().put("after", noise(100 * 1024, 2))});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  EXPECT_EQ(o.results.at(0).revision, r1 + 1) << "the failed batch must not consume revisions";

  // And the persisted counter agrees after a reopen.
  ASSERT_TRUE(h().close());
  EXPECT_EQ(query(db_path(), "SELECT value FROM meta WHERE name = 'revision'"),
            std::to_string(r1 + 1));
  open(R"("max_size_mb": 1)");
  o = store().commit({Txn().put("again", "x")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  EXPECT_EQ(o.results.at(0).revision, r1 + 2);
}

TEST_F(SqliteTest, FillingUpToMaxSizeThenDeletingMakesRoomAgain) {
  open(R"("max_size_mb": 1)");
  std::vector<Bytes> stored;
  Outcome o;
  for (int i = 0; i < 64; ++i) {
    Bytes key = "fill/" + std::to_string(i);
    o = store().commit({Txn().put(key, noise(64 * 1024, static_cast<uint32_t>(i)))});
    if (o.status != VSP_OK) break;
    stored.push_back(key);
  }
  ASSERT_EQ(o.status, VSP_E_FULL) << "1 MiB must fill up before 64 x 64 KiB";
  EXPECT_GE(stored.size(), 8u);
  for (size_t i = 0; i < stored.size(); ++i) {
    Kv kv;
    EXPECT_EQ(store().get(stored[i], &kv), VSP_OK) << stored[i];
    EXPECT_EQ(kv.value, noise(64 * 1024, static_cast<uint32_t>(i)));
  }
  Kv kv;
  EXPECT_EQ(store().get("fill/" + std::to_string(stored.size()), &kv), VSP_E_NOT_FOUND);

  // An operator's way out: delete, and the freed pages take new writes.
  Txn cleanup;
  for (const auto& k : stored) cleanup.del(k);
  o = store().commit({cleanup});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  o = store().commit({Txn().put("fresh", noise(64 * 1024, 99))});
  EXPECT_EQ(o.status, VSP_OK) << o.message;
}

TEST_F(SqliteTest, AFileAlreadyPastMaxSizeIsCappedWhereItIsWithAWarning) {
  open();
  Outcome o = store().commit({Txn().put("big", noise(3u << 20, 3))});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  ASSERT_TRUE(h().close());

  open(R"("max_size_mb": 1)");
  bool warned = false;
  for (const auto& line : h().host().log_lines()) {
    warned |= line.rfind("WARN", 0) == 0 && line.find("max_size_mb=1") != std::string::npos;
  }
  EXPECT_TRUE(warned) << "opening a file past the cap should warn";
  Kv kv;
  EXPECT_EQ(store().get("big", &kv), VSP_OK) << "the data stays readable";
  o = store().commit({Txn().put("more", noise(1u << 20, 4))});
  EXPECT_EQ(o.status, VSP_E_FULL) << "it may not grow further";
  o = store().commit({Txn().del("big")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  o = store().commit({Txn().put("more", noise(1u << 20, 4))});
  EXPECT_EQ(o.status, VSP_OK) << "deleting made room: " << o.message;
}

}  // namespace
}  // namespace vespid::storage_test::sqlite
