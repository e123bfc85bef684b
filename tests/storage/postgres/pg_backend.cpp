#include "pg_backend.hpp"

#include <memory>
#include <stdexcept>

#include "skip_or_fail.hpp"

namespace vespid::storage_test::postgres {
namespace {

std::unique_ptr<vespid::test::PostgresServer>& server_slot() {
  static std::unique_ptr<vespid::test::PostgresServer> server;
  return server;
}

// Starts the shared server before the first test and stops it after the last, or skips every
// test (fails them in CI) when this machine has no PostgreSQL server programs.
class PostgresEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    if (auto why = vespid::test::PostgresServer::unavailable()) VESPID_SKIP_UNLESS_CI(*why);
    try {
      auto server = std::make_unique<vespid::test::PostgresServer>();
      server->start();
      server_slot() = std::move(server);
    } catch (const std::exception& e) {
      GTEST_FAIL() << "cannot start the test PostgreSQL server: " << e.what();
    }
  }
  void TearDown() override { server_slot().reset(); }
};

[[maybe_unused]] testing::Environment* const kEnvironment =
    testing::AddGlobalTestEnvironment(new PostgresEnvironment);

}  // namespace

vespid::test::PostgresServer& shared_server() {
  if (!server_slot()) throw std::runtime_error("the test PostgreSQL server is not running");
  return *server_slot();
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string schema_for(const std::filesystem::path& dir) {
  std::string out = "t_";
  for (char c : dir.filename().string()) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out += ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? c : '_';
  }
  return out.substr(0, 63);
}

std::string config_for(const std::string& conninfo, const std::string& schema,
                       const std::string& extra_members) {
  std::string json =
      "{\"conninfo\": " + json_string(conninfo) + ", \"schema\": " + json_string(schema);
  if (!extra_members.empty()) json += ", " + extra_members;
  return json + "}";
}

StorageBackend postgres_backend(const std::string& extra_members) {
  return StorageBackend{
      "postgres", VESPID_POSTGRES_MODULE, "postgres",
      [extra_members](const std::filesystem::path& dir) {
        return config_for(shared_server().conninfo(), schema_for(dir), extra_members);
      },
      [](const std::filesystem::path& dir) {
        shared_server().query("DROP SCHEMA IF EXISTS \"" + schema_for(dir) + "\" CASCADE");
      }};
}

void PostgresTest::SetUp() {
  try {
    harness_ = std::make_unique<StoreHarness>(postgres_backend());
  } catch (const std::exception& e) {
    FAIL() << e.what();
  }
}

void PostgresTest::TearDown() {
  if (!harness_) return;
  EXPECT_TRUE(harness_->close());
  EXPECT_TRUE(harness_->host().forbidden_calls().empty());
  harness_.reset();
}

void PostgresTest::open(const std::string& extra_members) {
  std::string msg;
  ASSERT_EQ(h().open_with(config_for(server().conninfo(), schema(), extra_members), &msg), VSP_OK)
      << msg;
}

bool PostgresTest::logged(const std::string& text) const {
  for (const auto& line : harness_->host().log_lines()) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace vespid::storage_test::postgres
