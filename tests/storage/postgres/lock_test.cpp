// Another gateway holds the revision lock and does not let go: the commit gives up after three
// quarters of request_timeout_ms with the server's lock-timeout error, applies nothing, and
// the plugin's session stays usable.
#include <chrono>

#include "pg_backend.hpp"
#include "raw_session.hpp"

namespace vespid::storage_test::postgres {
namespace {

TEST_F(PostgresTest, ACommitStuckBehindAnotherHoldersLockFailsWithTheLockTimeout) {
  open(R"("request_timeout_ms": 2000)");
  ASSERT_EQ(store().commit({Txn().put("k", "0")}).status, VSP_OK);
  const std::string pid_before =
      sql(std::string("SELECT pid FROM pg_stat_activity WHERE application_name = '") +
          kPluginApplication + "'");
  {
    RawSession holder(server().conninfo());
    holder.exec("BEGIN");
    holder.exec("SELECT value FROM \"" + schema() + "\".meta WHERE name = 'revision' FOR UPDATE");
    const auto t0 = std::chrono::steady_clock::now();
    Outcome o = store().commit({Txn().put("k", "1")});
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(o.status, VSP_E_IO);
    EXPECT_NE(o.message.find("canceling statement due to lock timeout (SQLSTATE 55P03)"),
              std::string::npos)
        << o.message;
    EXPECT_NE(o.message.find("nothing of the batch was applied"), std::string::npos);
    EXPECT_GE(took, std::chrono::milliseconds(1400));
    EXPECT_LT(took, std::chrono::milliseconds(2000)) << "the server's timeout came first";
    holder.exec("ROLLBACK");
  }
  Kv kv;
  ASSERT_EQ(store().get("k", &kv), VSP_OK);
  EXPECT_EQ(kv.value, "0");
  ASSERT_EQ(store().commit({Txn().put("k", "2")}).status, VSP_OK);
  EXPECT_EQ(sql(std::string("SELECT pid FROM pg_stat_activity WHERE application_name = '") +
                kPluginApplication + "'"),
            pid_before)
      << "the same session went on";
}

}  // namespace
}  // namespace vespid::storage_test::postgres
