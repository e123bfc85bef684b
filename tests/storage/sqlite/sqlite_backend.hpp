// The sqlite backend as the conformance suite sees it, plus helpers the sqlite-only tests share.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "conformance/backend.hpp"
#include "conformance/harness.hpp"

namespace vespid::storage_test::sqlite {

// A store in <dir>/store.db with the given synchronous mode.
StorageBackend sqlite_backend(const std::string& synchronous = "full");

// A config JSON object for a store at `path`, plus extra members (`"k": v, ...`) if any.
std::string config_for(const std::filesystem::path& path, const std::string& extra_members = "");

// Runs `sql` on the file at `path` through a separate SQLite connection and returns the first
// column of the first row as text ("" when there is none). For looking behind the plugin.
std::string query(const std::filesystem::path& path, const std::string& sql);
// Runs `sql` (no result) on the file at `path` (created if missing) through a separate
// connection.
void exec(const std::filesystem::path& path, const std::string& sql);

// Fixture for the sqlite-only tests: a harness over sqlite_backend(), not yet opened.
class SqliteTest : public testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  StoreHarness& h() { return *harness_; }
  StoreClient& store() { return harness_->store(); }
  std::filesystem::path db_path() const { return harness_->dir() / "store.db"; }
  // Opens with config_for(db_path(), extra), asserting success.
  void open(const std::string& extra_members = "");

 private:
  std::unique_ptr<StoreHarness> harness_;
};

}  // namespace vespid::storage_test::sqlite
