// vespid-sqlite's config: every bad value is refused at create, with a message that names the
// key; good configs are accepted; create opens no file.
#include <filesystem>

#include "sqlite_backend.hpp"

namespace vespid::storage_test::sqlite {
namespace {

struct BadConfig {
  const char* name;
  std::string json;
  std::string expected;  // a substring the error message must contain
};

void PrintTo(const BadConfig& c, std::ostream* os) {
  *os << c.json;
}

class SqliteBadConfig : public SqliteTest, public testing::WithParamInterface<BadConfig> {};

TEST_P(SqliteBadConfig, CreateFailsWithAMessageNamingTheKey) {
  std::string msg;
  EXPECT_EQ(store().create(GetParam().json, &msg), VSP_E_INVALID);
  EXPECT_NE(msg.find(GetParam().expected), std::string::npos)
      << "message: " << msg << "\nexpected to contain: " << GetParam().expected;
  EXPECT_FALSE(store().created());
  EXPECT_TRUE(std::filesystem::is_empty(h().dir())) << "a refused config must create no file";
}

const char kSyncMsg[] = R"(sqlite: "synchronous" must be one of "full", "normal")";
const char kBusyMsg[] = R"(sqlite: "busy_timeout_ms" must be an integer from 0 to 2147483647)";
const char kSizeMsg[] = R"(sqlite: "max_size_mb" must be an integer from 0 (unlimited) to )";
const char kPathMsg[] = R"(sqlite: "path" must be a non-empty string)";

INSTANTIATE_TEST_SUITE_P(
    Config, SqliteBadConfig,
    testing::Values(
        BadConfig{"unknown_key", R"({"pathh": "x.db"})", R"(unknown config key "pathh")"},
        BadConfig{"unknown_key_with_good_ones", R"({"path": "x.db", "journal_mode": "delete"})",
                  R"(unknown config key "journal_mode")"},
        BadConfig{"path_number", R"({"path": 5})", kPathMsg},
        BadConfig{"path_empty", R"({"path": ""})", kPathMsg},
        BadConfig{"path_null", R"({"path": null})", kPathMsg},
        BadConfig{"path_memory", R"({"path": ":memory:"})", R"("path" must be a file path)"},
        BadConfig{"path_uri", R"({"path": "file:x.db?mode=memory"})",
                  R"("path" must be a file path)"},
        BadConfig{"synchronous_bad_enum", R"({"synchronous": "off"})", kSyncMsg},
        BadConfig{"synchronous_upper_case", R"({"synchronous": "FULL"})", kSyncMsg},
        BadConfig{"synchronous_bool", R"({"synchronous": true})", kSyncMsg},
        BadConfig{"busy_timeout_string", R"({"busy_timeout_ms": "5000"})", kBusyMsg},
        BadConfig{"busy_timeout_negative", R"({"busy_timeout_ms": -1})", kBusyMsg},
        BadConfig{"busy_timeout_fraction", R"({"busy_timeout_ms": 1.5})", kBusyMsg},
        BadConfig{"busy_timeout_too_big", R"({"busy_timeout_ms": 2147483648})", kBusyMsg},
        BadConfig{"max_size_negative", R"({"max_size_mb": -1})", kSizeMsg},
        BadConfig{"max_size_string", R"({"max_size_mb": "10"})", kSizeMsg},
        BadConfig{"max_size_float", R"({"max_size_mb": 1e3})", kSizeMsg},
        BadConfig{"max_size_too_big", R"({"max_size_mb": 99999999999})", kSizeMsg},
        BadConfig{"not_an_object", R"(["path", "x.db"])", "sqlite: config must be a JSON object"},
        BadConfig{"not_json", R"({"path": )", "sqlite: config is not valid JSON"}),
    [](const testing::TestParamInfo<BadConfig>& p) { return std::string(p.param.name); });

TEST_F(SqliteTest, CreateOpensNoFileAndStartDoes) {
  std::string msg;
  ASSERT_EQ(store().create(config_for(db_path()), &msg), VSP_OK) << msg;
  EXPECT_FALSE(std::filesystem::exists(db_path())) << "create must not open the database";
  ASSERT_EQ(store().start(&msg), VSP_OK) << msg;
  EXPECT_TRUE(std::filesystem::exists(db_path()));
}

TEST_F(SqliteTest, AnEmptyConfigUsesVespidDbInTheStateDir) {
  std::string msg;
  ASSERT_EQ(h().open_with("{}", &msg), VSP_OK) << msg;
  EXPECT_TRUE(std::filesystem::exists(h().dir() / "vespid.db"));
  bool logged = false;
  for (const auto& line : h().host().log_lines()) {
    logged |= line.find((h().dir() / "vespid.db").string()) != std::string::npos;
  }
  EXPECT_TRUE(logged) << "start should log the path it opened";
}

TEST_F(SqliteTest, ARelativePathIsResolvedAgainstTheStateDir) {
  std::filesystem::create_directory(h().dir() / "sub");
  std::string msg;
  ASSERT_EQ(h().open_with(R"({"path": "sub/data.db"})", &msg), VSP_OK) << msg;
  EXPECT_TRUE(std::filesystem::exists(h().dir() / "sub" / "data.db"));
}

TEST_F(SqliteTest, EveryKeyTogetherIsAccepted) {
  // Comments are allowed, as in the gateway's own config file.
  open(R"("synchronous": "normal", "busy_timeout_ms": 0, "max_size_mb": 64 /* a cap */)");
  Outcome o = store().commit({Txn().put("k", "v")});
  EXPECT_EQ(o.status, VSP_OK) << o.message;
}

}  // namespace
}  // namespace vespid::storage_test::sqlite
