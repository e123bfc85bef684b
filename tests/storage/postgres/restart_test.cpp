// The server goes away under a running plugin. What the plugin does, asserted here:
//   - a restart between calls: the loop thread notices the closed idle session and logs it;
//     the next call reconnects and succeeds, and revisions go on from where they were;
//   - a server that is down: every call fails at once with VSP_E_IO naming host:port (a commit
//     adds "nothing of the batch was applied"); once it is back, calls succeed again;
//   - a server crash (SIGKILL): every acknowledged commit is there after recovery;
//   - a session ended while its commit waits for the revision lock: the commit is tried again
//     on a new session and applied exactly once.
// These tests stop and start a server of their own, not the one the other tests share.
#include <future>
#include <thread>

#include "pg_backend.hpp"
#include "raw_session.hpp"

namespace vespid::storage_test::postgres {
namespace {

class RestartTest : public PostgresTest {
 protected:
  // One server for this suite, restarted by its tests; it is left running between them.
  static vespid::test::PostgresServer& own() {
    static std::unique_ptr<vespid::test::PostgresServer> server = [] {
      auto s = std::make_unique<vespid::test::PostgresServer>();
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
  }

  void open_own(const std::string& extra = "") {
    std::string msg;
    ASSERT_EQ(h().open_with(config_for(own().conninfo(), schema(), extra), &msg), VSP_OK) << msg;
  }

  uint64_t put(const std::string& k, const std::string& v) {
    Outcome o = store().commit({Txn().put(k, v)});
    EXPECT_EQ(o.status, VSP_OK) << o.message;
    return o.status == VSP_OK ? o.results[0].revision : 0;
  }

  std::string label() const { return "127.0.0.1:" + std::to_string(own().port()); }
};

TEST_F(RestartTest, ARestartBetweenCallsIsNoticedAndTheNextCallReconnects) {
  open_own();
  put("a", "1");
  const uint64_t before = put("b", "2");
  own().stop();
  EXPECT_TRUE(wait_until([&] { return logged("lost the idle connection 1 to " + label()); }))
      << "the loop thread watches idle sessions";
  own().start();
  Kv kv;
  std::string msg;
  ASSERT_EQ(store().get("a", &kv, &msg), VSP_OK) << msg;
  EXPECT_EQ(kv.value, "1");
  EXPECT_TRUE(logged("reconnected to " + label()));
  EXPECT_GT(put("c", "3"), before) << "revisions go on";
}

TEST_F(RestartTest, ARestartThatTheLoopHasNotSeenYetCostsOneRetryOfARead) {
  open_own();
  put("a", "1");
  // End the plugin's session from the server side and read at once: the read is sent on the
  // dead session, fails, and is tried again on a new one.
  own().query(std::string("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                          "application_name = '") +
              kPluginApplication + "'");
  Kv kv;
  std::string msg;
  ASSERT_EQ(store().get("a", &kv, &msg), VSP_OK) << msg;
  EXPECT_EQ(kv.value, "1");
}

TEST_F(RestartTest, WhileTheServerIsDownCallsFailClearlyAndWorkAgainWhenItIsBack) {
  open_own();
  const uint64_t before = put("kept", "yes");
  own().stop();
  Outcome o = store().commit({Txn().put("new", "x")});
  EXPECT_EQ(o.status, VSP_E_IO);
  EXPECT_NE(o.message.find("postgres: cannot connect to " + label() +
                           " (database \"vespid\", user \"vespid\"): "),
            std::string::npos)
      << o.message;
  EXPECT_NE(o.message.find("nothing of the batch was applied"), std::string::npos) << o.message;
  Kv kv;
  std::string msg;
  EXPECT_EQ(store().get("kept", &kv, &msg), VSP_E_IO);
  EXPECT_NE(msg.find("cannot connect to " + label()), std::string::npos) << msg;
  std::vector<Kv> rows;
  EXPECT_EQ(store().scan("", "", 0, 0, &rows, 0, &msg), VSP_E_IO);

  own().start();
  ASSERT_EQ(store().get("kept", &kv, &msg), VSP_OK) << msg;
  EXPECT_EQ(kv.value, "yes");
  EXPECT_EQ(put("new", "x"), before + 1) << "the failed commit took no revision";
}

TEST_F(RestartTest, AcknowledgedCommitsSurviveAServerCrash) {
  open_own();
  std::vector<uint64_t> revisions;
  for (int i = 0; i < 50; ++i) revisions.push_back(put("k" + std::to_string(i), std::to_string(i)));
  own().kill();  // SIGKILL to every server process: no shutdown checkpoint, WAL replay at start
  own().start();
  for (int i = 0; i < 50; ++i) {
    Kv kv;
    std::string msg;
    ASSERT_EQ(store().get("k" + std::to_string(i), &kv, &msg), VSP_OK) << msg;
    EXPECT_EQ(kv.value, std::to_string(i));
    EXPECT_EQ(kv.version, revisions[static_cast<size_t>(i)]);
  }
  EXPECT_EQ(put("after", "crash"), revisions.back() + 1);
}

TEST_F(RestartTest, ASessionEndedWhileItsCommitWaitsForTheLockIsRetriedAndAppliedOnce) {
  open_own();
  const uint64_t before = put("k", "0");
  // Hold the revision lock, as another gateway's commit would.
  RawSession holder(own().conninfo());
  holder.exec("BEGIN");
  holder.exec("SELECT value FROM \"" + schema() + "\".meta WHERE name = 'revision' FOR UPDATE");
  auto waiting = [&] {
    return own().query(std::string("SELECT pid FROM pg_stat_activity WHERE application_name = '") +
                       kPluginApplication + "' AND wait_event_type = 'Lock'");
  };
  auto commit = std::async(std::launch::async, [&] {
    return store().commit({Txn().version_is("k", before).put("k", "1")});
  });
  std::string first;
  ASSERT_TRUE(wait_until([&] { return !(first = waiting()).empty(); }))
      << "the commit never waited for the lock";
  own().query("SELECT pg_terminate_backend(" + first + ")");
  // The plugin reconnects and waits for the lock again, on a new session.
  std::string second;
  ASSERT_TRUE(wait_until([&] { return !(second = waiting()).empty() && second != first; }));
  holder.exec("COMMIT");
  Outcome o = commit.get();
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  ASSERT_EQ(o.results[0].status, VSP_OK) << "the compare held: the first try applied nothing";
  EXPECT_EQ(o.results[0].revision, before + 1);
  Kv kv;
  ASSERT_EQ(store().get("k", &kv), VSP_OK);
  EXPECT_EQ(kv.value, "1");
  EXPECT_EQ(kv.version, before + 1);
}

}  // namespace
}  // namespace vespid::storage_test::postgres
