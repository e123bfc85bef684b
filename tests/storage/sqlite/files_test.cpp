// vespid-sqlite's file: where it goes, what mode it is in, what it refuses to open.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "sqlite_backend.hpp"

namespace vespid::storage_test::sqlite {
namespace {

// Opens with `path` and expects start to fail with a message naming it.
void expect_start_fails(StoreHarness& h, const std::filesystem::path& path, int status,
                        const std::string& also_expected = "") {
  std::string msg;
  ASSERT_EQ(h.store().create(config_for(path), &msg), VSP_OK) << msg;
  EXPECT_EQ(h.store().start(&msg), status) << msg;
  std::string quoted = "\"";
  quoted += path.string();
  quoted += '"';
  EXPECT_NE(msg.find(quoted), std::string::npos) << "the message must name the path: " << msg;
  if (!also_expected.empty()) {
    EXPECT_NE(msg.find(also_expected), std::string::npos) << msg;
  }
  h.close();  // destroy without stop, as the host does after a failed start
}

TEST_F(SqliteTest, StartFailsInAMissingDirectory) {
  auto path = h().dir() / "missing" / "deeper" / "store.db";
  expect_start_fails(h(), path, VSP_E_IO, "No such file or directory");
  EXPECT_FALSE(std::filesystem::exists(h().dir() / "missing"));
}

TEST_F(SqliteTest, StartFailsWhenAParentIsAFile) {
  std::ofstream(h().dir() / "plain-file") << "not a directory";
  expect_start_fails(h(), h().dir() / "plain-file" / "store.db", VSP_E_IO, "Not a directory");
}

TEST_F(SqliteTest, StartFailsInAReadOnlyDirectory) {
  auto ro = h().dir() / "ro";
  std::filesystem::create_directory(ro);
  ::chmod(ro.c_str(), 0555);
  if (geteuid() == 0) {
    // Root ignores mode bits, so run the attempt as an unprivileged user in a child process.
    ::chmod(h().dir().c_str(), 0755);  // the child must be able to reach ro/
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
      std::string msg;
      if (h().store().create(config_for(ro / "store.db"), &msg) != VSP_OK) ::_exit(4);
      int rc = h().store().start(&msg);
      bool named = msg.find(ro.string()) != std::string::npos;
      ::_exit(rc == VSP_E_PERMISSION && named ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0)
        << "as user 65534, start must fail with VSP_E_PERMISSION naming the path (1: wrong status "
           "or message, 3: could not drop privileges, 4: create failed)";
  } else {
    expect_start_fails(h(), ro / "store.db", VSP_E_PERMISSION);
  }
  ::chmod(ro.c_str(), 0700);
}

TEST_F(SqliteTest, AFileThatIsNotADatabaseIsRefused) {
  std::ofstream(db_path()) << std::string(8192, 'x');
  expect_start_fails(h(), db_path(), VSP_E_IO, "not a database");
  std::ifstream in(db_path());
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, std::string(8192, 'x')) << "the file must be left alone";
}

TEST_F(SqliteTest, AForeignSqliteDatabaseIsRefused) {
  exec(db_path(), "CREATE TABLE kv (k TEXT); INSERT INTO kv VALUES ('theirs')");
  expect_start_fails(h(), db_path(), VSP_E_INVALID, "not a vespid-sqlite one");
  EXPECT_EQ(query(db_path(), "SELECT k FROM kv"), "theirs");
}

TEST_F(SqliteTest, ANewerSchemaVersionIsRefused) {
  open();
  ASSERT_TRUE(h().close());
  exec(db_path(), "PRAGMA user_version = 3");
  expect_start_fails(h(), db_path(), VSP_E_UNSUPPORTED, "has schema version 3");
}

// A file as a vespid-sqlite with schema 1 left it: kv WITHOUT ROWID, the value before the version.
void write_schema1_file(const std::filesystem::path& path, const std::string& rows_sql) {
  exec(path,
       "PRAGMA journal_mode = WAL;"
       "CREATE TABLE kv (key BLOB NOT NULL PRIMARY KEY, value BLOB NOT NULL,"
       " version INTEGER NOT NULL) WITHOUT ROWID;"
       "CREATE TABLE meta (name TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
       "INSERT INTO meta (name, value) VALUES ('revision', 7);" +
           rows_sql + "PRAGMA user_version = 1;");
}

TEST_F(SqliteTest, ASchema1FileIsUpgradedWithEveryRowAndTheRevisionKept) {
  write_schema1_file(db_path(),
                     "INSERT INTO kv VALUES (x'', x'65', 2), (x'61', x'31', 3),"
                     " (x'62', zeroblob(70000), 7), (x'6300', x'', 5);");
  open();
  EXPECT_EQ(query(db_path(), "PRAGMA user_version"), "2");
  EXPECT_EQ(query(db_path(), "SELECT count(*) FROM sqlite_schema WHERE name = 'kv_schema1'"), "0")
      << "the old table is dropped";
  bool logged = false;
  for (const auto& line : h().host().log_lines()) {
    logged = logged || line.find("upgraded the schema") != std::string::npos;
  }
  EXPECT_TRUE(logged) << "the upgrade is logged";

  std::vector<Kv> rows;
  ASSERT_EQ(store().scan("", "", 0, 0, &rows), VSP_OK);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (Kv{"", "e", 2}));
  EXPECT_EQ(rows[1], (Kv{"a", "1", 3}));
  EXPECT_EQ(rows[2], (Kv{"b", std::string(70000, '\0'), 7}));
  EXPECT_EQ(rows[3], (Kv{std::string("c\0", 2), "", 5}));

  // The revision carries on from the stored one, and compares see the carried versions.
  Outcome o = store().commit({Txn().version_is("a", 3).put("a", "2")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  ASSERT_EQ(o.results[0].status, VSP_OK);
  EXPECT_EQ(o.results[0].revision, 8u);
}

TEST_F(SqliteTest, AnUpgradeThatDoesNotFitLeavesTheSchema1FileAsItWas) {
  // The rows exist twice until the old table is dropped: a cap they do not fit twice in fails
  // the upgrade, which must then change nothing.
  write_schema1_file(db_path(), "INSERT INTO kv VALUES (x'61', zeroblob(3000000), 1);");
  ASSERT_EQ(h().store().create(config_for(db_path(), R"("max_size_mb": 4)")), VSP_OK);
  std::string msg;
  EXPECT_EQ(h().store().start(&msg), VSP_E_FULL) << msg;
  EXPECT_NE(msg.find("upgrading the schema"), std::string::npos) << msg;
  h().close();
  EXPECT_EQ(query(db_path(), "PRAGMA user_version"), "1");
  EXPECT_EQ(query(db_path(), "SELECT length(value) FROM kv WHERE key = x'61'"), "3000000");
}

TEST_F(SqliteTest, TheFileIsInWalModeWithTheSchemaVersion) {
  open();
  Outcome o = store().commit({Txn().put("k", "v")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  // journal_mode=WAL is persistent: any new connection sees it, also while the plugin runs.
  EXPECT_EQ(query(db_path(), "PRAGMA journal_mode"), "wal");
  EXPECT_TRUE(std::filesystem::exists(db_path().string() + "-wal"));
  EXPECT_EQ(query(db_path(), "PRAGMA user_version"), "2");
  ASSERT_TRUE(h().close());
  EXPECT_EQ(query(db_path(), "PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteTest, KeysAndValuesAreStoredAsBlobs) {
  open();
  Outcome o = store().commit({Txn().put("k", "v").put("e", "").put(std::string(1, '\0'), "z")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  // SQLite orders BLOBs with memcmp; a TEXT or NULL slipping in would order differently.
  EXPECT_EQ(query(db_path(),
                  "SELECT count(*) FROM kv WHERE typeof(key) <> 'blob' OR "
                  "typeof(value) <> 'blob'"),
            "0");
  EXPECT_EQ(query(db_path(), "SELECT count(*) FROM kv"), "3");
}

TEST_F(SqliteTest, TheEmptyKeyIsAnOrdinaryKeyThatSortsFirst) {
  // The ABI does not forbid an empty key; vespid-sqlite stores it like any other.
  open();
  Outcome o = store().commit({Txn().put("a", "1").put("", "empty key")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  Kv kv;
  ASSERT_EQ(store().get("", &kv), VSP_OK);
  EXPECT_EQ(kv.value, "empty key");
  std::vector<Kv> all;
  ASSERT_EQ(store().scan("", "", 0, 0, &all), VSP_OK);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].key, "");
  o = store().commit({Txn().present("").del("")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  EXPECT_EQ(o.results.at(0).status, VSP_OK);
  EXPECT_EQ(store().get("", &kv), VSP_E_NOT_FOUND);
}

TEST_F(SqliteTest, CallsOnAnInstanceThatIsNotStartedFailClosed) {
  std::string msg;
  ASSERT_EQ(store().create(config_for(db_path()), &msg), VSP_OK) << msg;
  Kv kv;
  EXPECT_EQ(store().get("k", &kv, &msg), VSP_E_CLOSED);
  EXPECT_NE(msg.find("not open"), std::string::npos) << msg;
  EXPECT_EQ(store().commit({Txn().put("k", "v")}).status, VSP_E_CLOSED);
}

}  // namespace
}  // namespace vespid::storage_test::sqlite
