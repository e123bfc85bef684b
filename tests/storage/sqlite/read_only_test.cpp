// A store the gateway cannot write to must not start. Before this was checked, a read-only file
// opened "successfully": reads worked, every write failed, and the gateway reported itself ready.
// Whatever makes the store unwritable (the file's mode, a read-only file system, a read-only
// directory, another process holding the write lock), start fails with a message that names the
// file and the cause, leaves nothing behind, and once the cause is gone the store goes on from
// the revision it had: no revision is ever handed out twice.
//
// Tests run as root in CI, where mode bits stop nothing: there the attempt runs in a child that
// drops to an unprivileged user, or that mounts the directory read-only in its own namespace.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.hpp"
#include "skip_or_fail.hpp"
#include "sqlite_backend.hpp"

namespace vespid::storage_test::sqlite {
namespace {

struct StartAttempt {
  bool setup_ok = false;  // false: the child could not prepare (message says why)
  int status = VSP_OK;
  std::string message;
};

class SqliteReadOnlyTest : public SqliteTest {
 protected:
  // Three commits, then closed: the last revision the store handed out.
  uint64_t populate() {
    open();
    uint64_t last = 0;
    for (int i = 0; i < 3; ++i) {
      Outcome o = store().commit({Txn().put("k" + std::to_string(i), "v")});
      EXPECT_EQ(o.status, VSP_OK) << o.message;
      if (!o.results.empty()) last = o.results[0].revision;
    }
    EXPECT_TRUE(h().close());
    return last;
  }

  // create + start in a child process after `setup` ran there (dropping root, mounting).
  StartAttempt start_in_child(const std::string& config, const std::function<std::string()>& setup,
                              const std::string& host_name = "read-only-child") {
    const StoragePlugin& plugin = h().plugin();
    const std::filesystem::path dir = h().dir();
    ChildResult r = run_in_child([&](std::string& out) {
      out = setup();
      if (!out.empty()) return 2;
      TestHost host(dir, host_name);
      StoreClient store(plugin.vtbl, host);
      std::string msg;
      int rc = store.create(config, &msg);
      if (rc == VSP_OK) rc = store.start(&msg);
      out = std::to_string(rc) + "\n" + msg;
      return 0;
    });
    StartAttempt a;
    a.setup_ok = r.exit_code == 0;
    if (!a.setup_ok) {
      a.message = "child exit " + std::to_string(r.exit_code) + ": " + r.output;
      return a;
    }
    size_t nl = r.output.find('\n');
    a.status = std::stoi(r.output.substr(0, nl));
    a.message = nl == std::string::npos ? "" : r.output.substr(nl + 1);
    return a;
  }

  void expect_refused(const StartAttempt& a, int status, const std::string& cause) {
    EXPECT_EQ(a.status, status) << "start must be refused: " << a.message;
    EXPECT_NE(a.message.find("\"" + db_path().string() + "\""), std::string::npos)
        << "the message must name the file: " << a.message;
    EXPECT_NE(a.message.find(cause), std::string::npos)
        << "the message must give the cause (" << cause << "): " << a.message;
  }

  // Nothing the refused attempt made may stay: a -shm file left read-only would keep the store
  // read-only after the cause is fixed.
  void expect_nothing_left_behind() {
    for (const char* suffix : {"-wal", "-shm"}) {
      EXPECT_FALSE(std::filesystem::exists(db_path().string() + suffix))
          << "a refused start left " << db_path().string() << suffix << " behind";
    }
  }

  // Once writable again, the next commit continues after `last`.
  void expect_continues_after(uint64_t last) {
    open();
    Outcome o = store().commit({Txn().put("after", "v")});
    ASSERT_EQ(o.status, VSP_OK) << o.message;
    EXPECT_EQ(o.results.at(0).revision, last + 1) << "no revision may be handed out twice";
  }
};

// As root, the attempt runs as user kNobody, who then owns the directory and the file.
std::function<std::string()> as_unprivileged_user(const std::vector<std::filesystem::path>& give) {
  const bool root = ::geteuid() == 0;
  if (root) {
    for (const auto& p : give) give_to_nobody(p);
  }
  return [root] { return root ? drop_to_nobody() : std::string(); };
}

TEST_F(SqliteReadOnlyTest, AReadOnlyFileIsRefusedNamingItAndTheCause) {
  const uint64_t last = populate();
  ASSERT_EQ(::chmod(db_path().c_str(), 0444), 0);
  auto setup = as_unprivileged_user({h().dir(), db_path()});
  StartAttempt a = start_in_child(config_for(db_path()), setup);
  ASSERT_TRUE(a.setup_ok) << a.message;
  expect_refused(a, VSP_E_PERMISSION, "read-only (Permission denied)");
  expect_nothing_left_behind();

  ASSERT_EQ(::chmod(db_path().c_str(), 0644), 0);
  expect_continues_after(last);
}

TEST_F(SqliteReadOnlyTest, AStoreOnAReadOnlyFileSystemIsRefusedNamingItAndTheCause) {
  const uint64_t last = populate();
  const std::filesystem::path dir = h().dir();
  StartAttempt a = start_in_child(config_for(db_path()), [dir] { return mount_read_only(dir); });
  if (!a.setup_ok) {
    VESPID_SKIP_UNLESS_CI("a read-only mount needs root (a mount namespace): " << a.message);
  }
  expect_refused(a, VSP_E_PERMISSION, "read-only (Read-only file system)");
  expect_continues_after(last);
}

TEST_F(SqliteReadOnlyTest, AReadOnlyDirectoryIsRefusedNamingItAndTheCause) {
  // The file is writable, but WAL mode needs to create its -wal and -shm files beside it.
  const uint64_t last = populate();
  auto setup = as_unprivileged_user({h().dir(), db_path()});
  ASSERT_EQ(::chmod(h().dir().c_str(), 0555), 0);
  StartAttempt a = start_in_child(config_for(db_path()), setup);
  ASSERT_EQ(::chmod(h().dir().c_str(), 0755), 0);
  ASSERT_TRUE(a.setup_ok) << a.message;
  expect_refused(a, VSP_E_PERMISSION, "Permission denied");
  EXPECT_NE(a.message.find("\"" + h().dir().string() + "\" is not writable"), std::string::npos)
      << "the message must name the directory: " << a.message;
  expect_continues_after(last);
}

TEST_F(SqliteReadOnlyTest, AWriteLockHeldElsewhereFailsStartAfterBusyTimeout) {
  const uint64_t last = populate();
  // Another connection (an operator's sqlite3, a backup tool) holds the write lock throughout.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_path().c_str(), &other, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::string msg;
  ASSERT_EQ(store().create(config_for(db_path(), R"("busy_timeout_ms": 50)"), &msg), VSP_OK);
  const int rc = store().start(&msg);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  h().close();
  StartAttempt a{true, rc, msg};
  expect_refused(a, VSP_E_IO, "database is locked");
  EXPECT_NE(msg.find("busy_timeout_ms=50"), std::string::npos) << "and how long it waited: " << msg;
  expect_continues_after(last);
}

}  // namespace
}  // namespace vespid::storage_test::sqlite
