#include "sqlite_backend.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace vespid::storage_test::sqlite {
namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

struct Conn {
  Conn(const std::filesystem::path& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      throw std::runtime_error("opening " + path.string() + ": " + msg);
    }
  }
  ~Conn() { sqlite3_close(db); }
  sqlite3* db = nullptr;
};

}  // namespace

StorageBackend sqlite_backend(const std::string& synchronous) {
  return StorageBackend{"sqlite_" + synchronous, VESPID_SQLITE_MODULE, "sqlite",
                        [synchronous](const std::filesystem::path& dir) {
                          return config_for(dir / "store.db",
                                            "\"synchronous\": " + json_string(synchronous));
                        }};
}

std::string config_for(const std::filesystem::path& path, const std::string& extra_members) {
  std::string json = "{\"path\": " + json_string(path.string());
  if (!extra_members.empty()) json += ", " + extra_members;
  return json + "}";
}

std::string query(const std::filesystem::path& path, const std::string& sql) {
  Conn c(path, SQLITE_OPEN_READWRITE);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(c.db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    throw std::runtime_error(sql + ": " + sqlite3_errmsg(c.db));
  }
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(st, 0);
    if (text != nullptr) out = reinterpret_cast<const char*>(text);
  }
  sqlite3_finalize(st);
  return out;
}

void exec(const std::filesystem::path& path, const std::string& sql) {
  Conn c(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  char* err = nullptr;
  if (sqlite3_exec(c.db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error(sql + ": " + msg);
  }
}

void SqliteTest::SetUp() {
  try {
    harness_ = std::make_unique<StoreHarness>(sqlite_backend());
  } catch (const std::exception& e) {
    FAIL() << e.what();
  }
}

void SqliteTest::TearDown() {
  if (!harness_) return;
  EXPECT_TRUE(harness_->close());
  EXPECT_TRUE(harness_->host().forbidden_calls().empty());
  harness_.reset();
}

void SqliteTest::open(const std::string& extra_members) {
  std::string msg;
  ASSERT_EQ(h().open_with(config_for(db_path(), extra_members), &msg), VSP_OK) << msg;
}

}  // namespace vespid::storage_test::sqlite
