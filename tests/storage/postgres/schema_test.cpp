// The plugin's tables: created on first start in one transaction with a schema-version row;
// a newer version, a damaged meta table or someone else's tables are refused with a message
// naming the schema, the server and (for a version) both versions; gateways starting together
// on a new schema do not race; the pool opens pool_size sessions.
#include <thread>

#include "pg_backend.hpp"
#include "raw_session.hpp"

namespace vespid::storage_test::postgres {
namespace {

TEST_F(PostgresTest, FirstStartCreatesTheTablesWithASchemaVersionRow) {
  open();
  EXPECT_TRUE(logged("created schema \"" + schema() + "\""));
  const std::string meta = "\"" + schema() + "\".meta";
  EXPECT_EQ(sql("SELECT value FROM " + meta + " WHERE name = 'schema_version'"), "1");
  // The host's first commit is the first revision: the counter starts at 0.
  EXPECT_EQ(sql("SELECT value FROM " + meta + " WHERE name = 'revision'"), "0");
  EXPECT_EQ(sql("SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class c JOIN "
                "pg_namespace n ON n.oid = c.relnamespace WHERE nspname = '" +
                schema() + "' AND relkind = 'r'"),
            "commit_log,kv,meta");
  ASSERT_TRUE(h().close());
  open();
  EXPECT_TRUE(logged("opened schema \"" + schema() + "\""));
}

TEST_F(PostgresTest, ASchemaWrittenByANewerPluginIsRefusedNamingBothVersions) {
  open();
  ASSERT_TRUE(h().close());
  sql("UPDATE \"" + schema() + "\".meta SET value = 2 WHERE name = 'schema_version'");
  std::string msg;
  EXPECT_EQ(h().open(&msg), VSP_E_UNSUPPORTED);
  EXPECT_NE(msg.find("postgres: schema \"" + schema() +
                     "\" on 127.0.0.1:" + std::to_string(server().port())),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("has schema version 2, but this vespid-postgres understands only up to "
                     "version 1"),
            std::string::npos)
      << msg;
  EXPECT_EQ(sql("SELECT value FROM \"" + schema() + "\".meta WHERE name = 'schema_version'"), "2")
      << "the refusal changed nothing";
}

TEST_F(PostgresTest, SomeoneElsesTablesInTheSchemaAreRefusedAndLeftAlone) {
  sql("CREATE SCHEMA \"" + schema() + "\"");
  sql("CREATE TABLE \"" + schema() + "\".accounts (id int)");
  std::string msg;
  EXPECT_EQ(h().open(&msg), VSP_E_INVALID);
  EXPECT_NE(msg.find("holds 1 relation(s) but no vespid-postgres meta table"), std::string::npos)
      << msg;
  EXPECT_EQ(sql("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE nspname = '" +
                schema() + "'"),
            "1");
}

TEST_F(PostgresTest, AnEmptySchemaMadeByTheDbaIsUsed) {
  // A DBA may create the schema for a role that may not create schemas in the database.
  sql("CREATE SCHEMA \"" + schema() + "\"");
  open();
  EXPECT_TRUE(logged("created schema"));
}

TEST_F(PostgresTest, AMetaTableWithoutItsRowsIsReportedDamaged) {
  open();
  ASSERT_TRUE(h().close());
  sql("DELETE FROM \"" + schema() + "\".meta WHERE name = 'revision'");
  std::string msg;
  EXPECT_EQ(h().open(&msg), VSP_E_IO);
  EXPECT_NE(msg.find("without the schema_version and revision rows; it is damaged"),
            std::string::npos)
      << msg;
}

TEST_F(PostgresTest, TwoInstancesStartingTogetherOnANewSchemaBothStart) {
  // Two stores of one schema, as two gateways sharing the database: the advisory lock makes
  // one create the tables and the other find them.
  StoreHarness other(postgres_backend());
  const std::string cfg = config_for(server().conninfo(), schema());
  int rc_a = -1, rc_b = -1;
  std::string msg_a, msg_b;
  std::thread a([&] { rc_a = h().open_with(cfg, &msg_a); });
  std::thread b([&] { rc_b = other.open_with(cfg, &msg_b); });
  a.join();
  b.join();
  EXPECT_EQ(rc_a, VSP_OK) << msg_a;
  EXPECT_EQ(rc_b, VSP_OK) << msg_b;
  // And they share one revision counter.
  Outcome first = store().commit({Txn().put("a", "1")});
  Outcome second = other.store().commit({Txn().put("b", "2")});
  ASSERT_EQ(first.status, VSP_OK) << first.message;
  ASSERT_EQ(second.status, VSP_OK) << second.message;
  EXPECT_EQ(second.results[0].revision, first.results[0].revision + 1);
  EXPECT_TRUE(other.close());
}

TEST_F(PostgresTest, ThePoolOpensPoolSizeSessions) {
  open(R"("pool_size": 4)");
  auto sessions = [this] {
    return sql(std::string("SELECT count(*) FROM pg_stat_activity WHERE application_name = '") +
               kPluginApplication + "'");
  };
  EXPECT_EQ(sessions(), "4");
  ASSERT_TRUE(h().close());
  EXPECT_TRUE(wait_until([&] { return sessions() == "0"; })) << "stop closes them all";
}

}  // namespace
}  // namespace vespid::storage_test::postgres
