// What PostgreSQL limits: a key longer than a B-tree entry may be (about 2.7 KB) fails its
// batch with VSP_E_INVALID, naming the cause, and nothing of the batch is applied; the empty
// key is an ordinary key.
#include <random>

#include "pg_backend.hpp"

namespace vespid::storage_test::postgres {
namespace {

TEST_F(PostgresTest, AKeyTooLongForTheIndexFailsItsBatchAndAppliesNothing) {
  open();
  const Outcome first = store().commit({Txn().put("before", "1")});
  ASSERT_EQ(first.status, VSP_OK) << first.message;
  std::mt19937 rng(7);
  std::string long_key(8000, '\0');
  for (auto& c : long_key) c = static_cast<char>(rng() & 0xff);  // incompressible
  const Outcome o = store().commit({Txn().put("a", "1"), Txn().put(long_key, "v")});
  EXPECT_EQ(o.status, VSP_E_INVALID) << o.message;
  EXPECT_NE(o.message.find("index row size"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("SQLSTATE 54000"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("nothing of the batch was applied"), std::string::npos) << o.message;
  Kv kv;
  EXPECT_EQ(store().get("a", &kv), VSP_E_NOT_FOUND);
  const Outcome after = store().commit({Txn().put("after", "1")});
  ASSERT_EQ(after.status, VSP_OK) << after.message;
  EXPECT_EQ(after.results[0].revision, first.results[0].revision + 1)
      << "the failed batch took no revision";
}

TEST_F(PostgresTest, TheEmptyKeyIsAnOrdinaryKey) {
  open();
  ASSERT_EQ(store().commit({Txn().absent("").put("", "empty key")}).status, VSP_OK);
  Kv kv;
  ASSERT_EQ(store().get("", &kv), VSP_OK);
  EXPECT_EQ(kv.value, "empty key");
  std::vector<Kv> rows;
  ASSERT_EQ(store().scan("", "\x01", 0, 0, &rows), VSP_OK);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, "");
}

}  // namespace
}  // namespace vespid::storage_test::postgres
