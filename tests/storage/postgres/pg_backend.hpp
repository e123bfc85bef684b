// The postgres backend as the conformance suite sees it, and what the postgres-only tests share:
// one throwaway PostgreSQL server per test process (started by a global test environment, which
// skips every test when the server programs are missing, or fails them when CI is set), a schema
// per test, and fixtures.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "conformance/backend.hpp"
#include "conformance/harness.hpp"
#include "postgres_server.hpp"

namespace vespid::storage_test::postgres {

// The process's shared server; throws if the environment did not start it.
vespid::test::PostgresServer& shared_server();

// The schema a test's directory gets: "t_" + its name, lower-cased, [a-z0-9_] only.
std::string schema_for(const std::filesystem::path& dir);

// A config JSON object: conninfo and schema, plus extra members (`"k": v, ...`) if any.
std::string config_for(const std::string& conninfo, const std::string& schema,
                       const std::string& extra_members = "");

// A store in its own schema of the shared server; cleanup drops the schema.
StorageBackend postgres_backend(const std::string& extra_members = "");

// Fixture for postgres-only tests on the shared server: a harness over postgres_backend(), not
// yet opened, and the test's schema.
class PostgresTest : public testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  StoreHarness& h() { return *harness_; }
  StoreClient& store() { return harness_->store(); }
  vespid::test::PostgresServer& server() { return shared_server(); }
  std::string schema() const { return schema_for(harness_->dir()); }
  // Runs SQL on the shared server as the superuser (see PostgresServer::query).
  std::string sql(const std::string& text) { return server().query(text); }
  // Opens with config_for(this server, schema(), extra), asserting success.
  void open(const std::string& extra_members = "");
  // Whether the plugin logged a line containing `text`.
  bool logged(const std::string& text) const;

 private:
  std::unique_ptr<StoreHarness> harness_;
};

// JSON string literal for `s`.
std::string json_string(const std::string& s);

}  // namespace vespid::storage_test::postgres
