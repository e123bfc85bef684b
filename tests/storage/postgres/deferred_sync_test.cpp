// ABI 1.4's deferred syncs on PostgreSQL, against a server of this suite's own whose WAL writer
// the tests can freeze (SIGSTOP), so that a batch committed at synchronous_commit off stays in
// the server's memory until something flushes it. Asserted here:
//   - such a batch is lost by a crash of the server (SIGKILL), and sync then says so, with the
//     revisions it may have taken; the revision counter goes on past them;
//   - a batch synced before the crash survives it;
//   - a commit on a new session finds the lost batch before committing anything;
//   - a session that merely ended (not a crash) costs the sync one retry, not a failure.
#include <signal.h>

#include <string>

#include "pg_backend.hpp"
#include "raw_session.hpp"

namespace vespid::storage_test::postgres {
namespace {

class DeferredSyncTest : public PostgresTest {
 protected:
  // No background process may flush the WAL on its own while a test holds the WAL writer:
  // autovacuum's ring buffers and the background writer flush WAL before writing a page.
  static vespid::test::PostgresServer& own() {
    static std::unique_ptr<vespid::test::PostgresServer> server = [] {
      auto s = std::make_unique<vespid::test::PostgresServer>(std::vector<std::string>{
          "autovacuum=off", "bgwriter_lru_maxpages=0", "checkpoint_timeout=3600"});
      s->start();
      return s;
    }();
    return *server;
  }

  void SetUp() override {
    PostgresTest::SetUp();
    try {
      own().start();
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    std::string msg;
    ASSERT_EQ(h().open_with(config_for(own().conninfo(), schema()), &msg), VSP_OK) << msg;
    ASSERT_TRUE(store().has_deferred_sync());
  }

  void TearDown() override {
    if (frozen_ > 0) ::kill(frozen_, SIGCONT);
    PostgresTest::TearDown();
  }

  // Stops the server's WAL writer until the server is killed (or the test ends).
  void freeze_wal_writer() {
    const std::string pid =
        own().query("SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'");
    ASSERT_FALSE(pid.empty()) << "the server has no WAL writer";
    frozen_ = static_cast<pid_t>(std::stol(pid));
    ASSERT_EQ(::kill(frozen_, SIGSTOP), 0);
  }

  // SIGKILL to every server process (no shutdown checkpoint, WAL replay at start), then start.
  // The frozen WAL writer first: the server's processes each lead a session of their own and
  // leave when they see the postmaster gone, which a stopped one cannot.
  void crash_server() {
    if (frozen_ > 0) ::kill(frozen_, SIGKILL);
    frozen_ = -1;
    own().kill();
    own().start();
  }

  uint64_t put(const std::string& k, const std::string& v) {
    Outcome o = store().commit({Txn().put(k, v)});
    EXPECT_EQ(o.status, VSP_OK) << o.message;
    return o.status == VSP_OK ? o.results[0].revision : 0;
  }
  uint64_t put_unsynced(const std::string& k, const std::string& v) {
    Outcome o = store().commit_unsynced({Txn().put(k, v)});
    EXPECT_EQ(o.status, VSP_OK) << o.message;
    return o.status == VSP_OK ? o.results[0].revision : 0;
  }
  bool has(const std::string& k) {
    Kv kv;
    std::string msg;
    const int rc = store().get(k, &kv, &msg);
    EXPECT_TRUE(rc == VSP_OK || rc == VSP_E_NOT_FOUND) << msg;
    return rc == VSP_OK;
  }

 private:
  pid_t frozen_ = -1;
};

TEST_F(DeferredSyncTest, ABatchTheServerLostIsReportedBySyncAndItsRevisionsAreNotReused) {
  const uint64_t durable = put("before", "1");
  freeze_wal_writer();
  const uint64_t lost = put_unsynced("lost", "2");
  ASSERT_EQ(lost, durable + 1);
  EXPECT_TRUE(has("lost")) << "visible at once";
  crash_server();

  std::string msg;
  EXPECT_EQ(store().sync(&msg), VSP_E_IO);
  EXPECT_NE(msg.find("no longer has the batches this gateway committed without a sync"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("(revisions " + std::to_string(lost) + " to " + std::to_string(lost)),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("the revision counter goes on after " + std::to_string(lost)),
            std::string::npos)
      << msg;
  EXPECT_TRUE(logged("no longer has the batches")) << "said in the log too";
  EXPECT_FALSE(has("lost")) << "the crash did not lose the unsynced batch: the test proves nothing";
  EXPECT_TRUE(has("before"));
  EXPECT_EQ(put("after", "3"), lost + 1) << "no revision is handed out twice";
  EXPECT_EQ(store().sync(&msg), VSP_OK) << "the loss is reported once: " << msg;
}

TEST_F(DeferredSyncTest, ABatchSyncedBeforeTheCrashSurvivesIt) {
  freeze_wal_writer();
  const uint64_t rev = put_unsynced("kept", "1");
  std::string msg;
  ASSERT_EQ(store().sync(&msg), VSP_OK) << msg;
  crash_server();
  Kv kv;
  ASSERT_EQ(store().get("kept", &kv, &msg), VSP_OK) << msg;
  EXPECT_EQ(kv.version, rev);
  EXPECT_EQ(put("next", "2"), rev + 1);
}

TEST_F(DeferredSyncTest, ACommitOnANewSessionFindsTheLostBatchBeforeCommittingAnything) {
  freeze_wal_writer();
  const uint64_t lost = put_unsynced("lost", "1");
  crash_server();

  Outcome o = store().commit({Txn().put("next", "2")});
  EXPECT_EQ(o.status, VSP_E_IO);
  EXPECT_NE(o.message.find("no longer has the batches"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("nothing of the batch was applied"), std::string::npos) << o.message;
  EXPECT_FALSE(has("next"));
  EXPECT_FALSE(has("lost"));
  EXPECT_EQ(put("next", "2"), lost + 1) << "the next try commits, past the lost revision";
}

TEST_F(DeferredSyncTest, ASessionThatEndedWithoutACrashCostsTheSyncARetryNotAFailure) {
  const uint64_t rev = put_unsynced("kept", "1");
  own().query(std::string("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                          "application_name = '") +
              kPluginApplication + "'");
  std::string msg;
  EXPECT_EQ(store().sync(&msg), VSP_OK) << msg;
  // And a commit on the new session after another unsynced batch and another ended session.
  put_unsynced("also", "2");
  own().query(std::string("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                          "application_name = '") +
              kPluginApplication + "'");
  EXPECT_EQ(put("next", "3"), rev + 2);
  EXPECT_TRUE(has("kept"));
  EXPECT_TRUE(has("also"));
}

}  // namespace
}  // namespace vespid::storage_test::postgres
