// vespid-postgres's config: every bad value is refused at create with a message naming the key;
// the sslmode default depends on where the server is, and a weak mode toward another machine is
// logged as a warning at every start.
#include "pg_backend.hpp"

namespace vespid::storage_test::postgres {
namespace {

struct BadConfig {
  const char* name;
  std::string json;
  std::string expected;  // a substring the error message must contain
};

void PrintTo(const BadConfig& c, std::ostream* os) {
  *os << c.json;
}

class PostgresBadConfig : public PostgresTest, public testing::WithParamInterface<BadConfig> {};

TEST_P(PostgresBadConfig, CreateFailsWithAMessageNamingTheKey) {
  std::string msg;
  EXPECT_EQ(store().create(GetParam().json, &msg), VSP_E_INVALID);
  EXPECT_NE(msg.find(GetParam().expected), std::string::npos)
      << "message: " << msg << "\nexpected to contain: " << GetParam().expected;
  EXPECT_FALSE(store().created());
}

const char kSchemaMsg[] = R"(postgres: "schema" must be 1 to 63 characters of a-z, 0-9 and _)";
const char kPoolMsg[] = R"(postgres: "pool_size" must be an integer from 1 to 64)";
const char kConninfoMsg[] = R"(postgres: "conninfo" must be a non-empty string)";

INSTANTIATE_TEST_SUITE_P(
    Config, PostgresBadConfig,
    testing::Values(
        BadConfig{"no_conninfo", R"({})", R"(postgres: config needs "conninfo", a libpq)"},
        BadConfig{"unknown_key", R"({"conninfo": "host=x", "sslmod": "verify-full"})",
                  R"(unknown config key "sslmod")"},
        BadConfig{"conninfo_empty", R"({"conninfo": ""})", kConninfoMsg},
        BadConfig{"conninfo_number", R"({"conninfo": 5432})", kConninfoMsg},
        BadConfig{"conninfo_unparsable", R"({"conninfo": "host"})",
                  R"("conninfo" is not a valid libpq connection string: missing "=")"},
        BadConfig{"conninfo_unknown_keyword", R"({"conninfo": "hots=db"})",
                  R"(invalid connection option "hots")"},
        BadConfig{"schema_upper_case", R"({"conninfo": "host=x", "schema": "Vespid"})", kSchemaMsg},
        BadConfig{"schema_quote", R"({"conninfo": "host=x", "schema": "a\"b"})", kSchemaMsg},
        BadConfig{"schema_digit_first", R"({"conninfo": "host=x", "schema": "1a"})", kSchemaMsg},
        BadConfig{"schema_pg_prefix", R"({"conninfo": "host=x", "schema": "pg_vespid"})",
                  kSchemaMsg},
        BadConfig{"schema_too_long",
                  R"({"conninfo": "host=x", "schema": ")" + std::string(64, 'a') + R"("})",
                  kSchemaMsg},
        BadConfig{"pool_size_zero", R"({"conninfo": "host=x", "pool_size": 0})", kPoolMsg},
        BadConfig{"pool_size_too_big", R"({"conninfo": "host=x", "pool_size": 65})", kPoolMsg},
        BadConfig{"pool_size_string", R"({"conninfo": "host=x", "pool_size": "2"})", kPoolMsg},
        BadConfig{"sslmode_unknown", R"({"conninfo": "host=x", "sslmode": "off"})",
                  R"(postgres: "sslmode" must be one of "disable", "allow", "prefer")"},
        BadConfig{"sslmode_twice",
                  R"({"conninfo": "host=x sslmode=require", "sslmode": "verify-full"})",
                  R"(sslmode is set both in "conninfo" and as "sslmode"; set it in one place)"},
        BadConfig{"sslrootcert_twice",
                  R"({"conninfo": "host=x sslrootcert=/a.crt", "sslrootcert": "/b.crt"})",
                  R"(sslrootcert is set both in "conninfo" and as "sslrootcert")"},
        BadConfig{"sslrootcert_empty", R"({"conninfo": "host=x", "sslrootcert": ""})",
                  R"(postgres: "sslrootcert" must be a non-empty string)"},
        BadConfig{"connect_timeout_too_small", R"({"conninfo": "host=x", "connect_timeout_ms": 5})",
                  R"(postgres: "connect_timeout_ms" must be an integer from 100 to 600000)"},
        BadConfig{"request_timeout_string",
                  R"({"conninfo": "host=x", "request_timeout_ms": "30000"})",
                  R"(postgres: "request_timeout_ms" must be an integer from 100 to 3600000)"},
        BadConfig{"not_an_object", R"(["conninfo"])", "postgres: config must be a JSON object"},
        BadConfig{"not_json", R"({"conninfo": )", "postgres: config is not valid JSON"}),
    [](const testing::TestParamInfo<BadConfig>& p) { return p.param.name; });

TEST_F(PostgresTest, AConninfoThatDoesNotParseNeverEchoesItsPassword) {
  std::string msg;
  EXPECT_EQ(store().create(R"({"conninfo": "host=db password=hunter2 oops"})", &msg),
            VSP_E_INVALID);
  EXPECT_NE(msg.find("is not a valid libpq connection string"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("oops"), std::string::npos) << msg;
}

TEST_F(PostgresTest, AServerOnLoopbackDefaultsToSslmodePrefer) {
  open();
  EXPECT_TRUE(logged("sslmode prefer from default")) << "the start-up line names the mode";
  EXPECT_FALSE(logged("WARN")) << "nothing to warn about on loopback";
}

// A server named by another host than this machine's, dialled at 127.0.0.1 (hostaddr) so no
// packet leaves the machine: the plugin sees a remote server and asks for verify-full, which
// the test server (no TLS) cannot satisfy.
std::string remote_looking(const std::string& extra = "") {
  return "host=db.example hostaddr=127.0.0.1 port=" + std::to_string(shared_server().port()) +
         " dbname=vespid user=vespid" + extra;
}

TEST_F(PostgresTest, AServerElsewhereDefaultsToVerifyFull) {
  std::string msg;
  EXPECT_EQ(h().open_with(config_for(remote_looking(), schema()), &msg), VSP_E_IO);
  const std::string where = "cannot connect to db.example:" + std::to_string(server().port());
  EXPECT_NE(msg.find(where), std::string::npos) << msg;
  EXPECT_NE(msg.find("server does not support SSL, but SSL was required"), std::string::npos)
      << msg;
}

TEST_F(PostgresTest, AWeakSslmodeTowardAServerElsewhereIsLoggedAsAWarning) {
  std::string msg;
  ASSERT_EQ(h().open_with(config_for(remote_looking(), schema(), R"("sslmode": "disable")"), &msg),
            VSP_OK)
      << msg;
  EXPECT_TRUE(logged("WARN postgres: sslmode=disable (config) toward db.example:" +
                     std::to_string(server().port()) +
                     ": the connection may be unencrypted and the server is not authenticated"));
  // Set in the conninfo instead, it is the same warning with its origin.
  ASSERT_TRUE(h().close());
  ASSERT_EQ(h().open_with(config_for(remote_looking(" sslmode=prefer"), schema()), &msg), VSP_OK)
      << msg;
  EXPECT_TRUE(logged("WARN postgres: sslmode=prefer (conninfo) toward db.example"));
}

TEST_F(PostgresTest, PgsslmodeInTheEnvironmentDoesNotWeakenTheDefault) {
  ::setenv("PGSSLMODE", "disable", 1);
  std::string msg;
  const int rc = h().open_with(config_for(remote_looking(), schema()), &msg);
  ::unsetenv("PGSSLMODE");
  EXPECT_EQ(rc, VSP_E_IO) << "the plugin passed verify-full, so the plain server is refused";
  EXPECT_NE(msg.find("SSL was required"), std::string::npos) << msg;
}

}  // namespace
}  // namespace vespid::storage_test::postgres
