// ABI 1.4's deferred syncs on PostgreSQL, against a server of this suite's own whose WAL writer
// the tests can freeze (SIGSTOP), so that a batch committed at synchronous_commit off stays in
// the server's memory until something flushes it. The plugin sends the sync in the batch's own
// round trip, right after COMMIT, and it normally commits (flushing the batch) a moment after
// the answer to COMMIT; to reach a crash inside that moment, a test may make the server refuse
// the sync's statement (a trigger), as if the crash had come before it ran. Asserted here:
//   - such a batch is lost by a crash of the server (SIGKILL), and sync then says so, with the
//     revisions it may have taken; the revision counter goes on past them;
//   - a batch synced before the crash survives it;
//   - a commit on a new session finds the lost batch before committing anything;
//   - a session that merely ended (not a crash) does not fail the sync;
//   - a sync the server refused leaves the batch unsynced, and the next sync asks again.
#include <signal.h>

#include <chrono>
#include <future>
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

  // Runs `body` (PL/pgSQL) in a trigger `name` whenever the sync's statement runs: it rewrites
  // this instance's commit-log row without changing its token (a batch's own log write
  // changes it).
  void on_sync_statement(const std::string& name, const std::string& body) {
    const std::string s = "\"" + schema() + "\"";
    own().query("CREATE FUNCTION " + s + "." + name +
                "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " + body + " END $$");
    own().query("CREATE TRIGGER " + name + " BEFORE UPDATE ON " + s +
                ".commit_log FOR EACH ROW WHEN (OLD.token = NEW.token) EXECUTE FUNCTION " + s +
                "." + name + "()");
  }

  // Makes the server refuse the sync's statement, so that nothing but a later sync or synced
  // commit flushes an unsynced batch.
  void hold_syncs_back() {
    on_sync_statement("hold_sync", "RAISE EXCEPTION 'the test holds the sync back';");
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
  hold_syncs_back();
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
  // The sync that rides in the batch's round trip flushes it, with the WAL writer frozen.
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
  hold_syncs_back();
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

TEST_F(DeferredSyncTest, ASessionThatEndedWithoutACrashDoesNotFailTheSync) {
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

TEST_F(DeferredSyncTest, TheAnswerToCommitDoesNotWaitForTheSyncThatFollowsIt) {
  // The sync's statement waits for an advisory lock the test holds; commit_unsynced must
  // return all the same, and sync only once the lock is let go.
  on_sync_statement("wait_sync", "PERFORM pg_advisory_xact_lock(4242); RETURN NEW;");
  const std::string s = "\"" + schema() + "\"";
  put("first", "0");  // the log row exists: the next batch's log write is an update
  RawSession holder(own().conninfo());
  holder.exec("SELECT pg_advisory_lock(4242)");

  const uint64_t rev = put_unsynced("record", "1");
  ASSERT_GT(rev, 0u);
  // Committed and visible to every session while its sync waits (through the plugin, a read
  // would first collect that sync: the connection is still busy with it).
  EXPECT_EQ(own().query("SELECT count(*) FROM " + s + ".kv WHERE key = 'record'::bytea"), "1");
  EXPECT_TRUE(wait_until([&] {
    return !own()
                .query(std::string("SELECT pid FROM pg_stat_activity WHERE application_name = '") +
                       kPluginApplication + "' AND wait_event_type = 'Lock'")
                .empty();
  })) << "the sync never started";
  auto synced = std::async(std::launch::async, [&] { return store().sync(); });
  EXPECT_EQ(synced.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "sync returned while its statement still waited for the lock";
  holder.exec("SELECT pg_advisory_unlock(4242)");
  EXPECT_EQ(synced.get(), VSP_OK);
  EXPECT_TRUE(has("record"));
}

TEST_F(DeferredSyncTest, ASyncTheServerRefusedIsAskedAgainByTheNextSync) {
  hold_syncs_back();
  const uint64_t rev = put_unsynced("kept", "1");
  std::string msg;
  EXPECT_EQ(store().sync(&msg), VSP_E_IO) << "the refused sync, asked again on its own";
  EXPECT_NE(msg.find("the test holds the sync back"), std::string::npos) << msg;
  own().query("DROP TRIGGER hold_sync ON \"" + schema() + "\".commit_log");
  EXPECT_EQ(store().sync(&msg), VSP_OK) << msg;
  EXPECT_EQ(put("next", "2"), rev + 1);
}

}  // namespace
}  // namespace vespid::storage_test::postgres
