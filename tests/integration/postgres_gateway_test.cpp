// The real vespid-gateway with the postgres plugin as its storage instance, against a throwaway
// PostgreSQL server: operator and REST operations land in the database and survive a gateway
// restart; a database restart under a running gateway costs nothing visible; while the database
// is down requests are answered UNAVAILABLE (503) naming it, and work again when it is back; a
// gateway whose database is down does not start (exit 7, naming host:port); a dispatch goes out
// while its record's deferred sync runs and is answered after it, as on SQLite.
#include <fstream>
#include <nlohmann/json.hpp>

#include "node_host_support.hpp"
#include "operator_client.hpp"
#include "postgres_server.hpp"
#include "skip_or_fail.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;

class PostgresGateway : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    if (auto why = PostgresServer::unavailable()) VESPID_SKIP_UNLESS_CI(*why);
    try {
      pg_ = std::make_unique<PostgresServer>();
      pg_->start();
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    // The node-host gateway's instances, with storage on PostgreSQL instead of SQLite.
    json instances = config()["plugins"]["instances"];
    for (auto& i : instances) {
      if (i["name"] == "storage") {
        i = {{"name", "storage"},
             {"plugin", "postgres"},
             {"config", {{"conninfo", pg_->conninfo()}, {"schema", "gateway"}}}};
      } else if (i["name"] == "api") {
        i["config"]["routes"].push_back({{"path", "/metrics"}, {"dialect", "rest.v1"}});
      }
    }
    config_patch_ = {{"plugins", {{"instances", instances}}}};
  }

  void TearDown() override {
    NodeHostGateway::TearDown();
    pg_.reset();
  }

  std::string label() const { return "127.0.0.1:" + std::to_string(pg_->port()); }

  // A sample's value from GET /metrics (loopback: no token needed), or -1 when it is missing.
  double metric(const std::string& sample) {
    HttpReply r = rest("GET", "/metrics", "");
    EXPECT_EQ(r.status, 200) << r.raw_body;
    const std::string line = "\n" + sample + " ";
    const size_t at = r.raw_body.find(line);
    return at == std::string::npos ? -1 : std::stod(r.raw_body.substr(at + line.size()));
  }

  std::unique_ptr<PostgresServer> pg_;
};

TEST_F(PostgresGateway, DataLandsInPostgresAndSurvivesAGatewayRestart) {
  start_gateway();
  EXPECT_NE(gw_.log_text().find("postgres: created schema \"gateway\" on " + label()),
            std::string::npos)
      << gw_.log_text();
  bootstrap_identity();
  const PairedAgent agent = pair("builder-1", json::array({"linux"}));
  ASSERT_FALSE(agent.id.empty());
  const std::string rows = pg_->query("SELECT count(*) FROM gateway.kv");
  EXPECT_GT(std::stoi(rows), 0) << "the gateway's tables live in PostgreSQL";

  restart_gateway();
  EXPECT_NE(gw_.log_text().find("postgres: opened schema \"gateway\""), std::string::npos);
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  json orgs = admin.call("orgs.list")["orgs"];
  std::set<std::string> names;
  for (const auto& o : orgs) names.insert(o["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"acme", "globex"}));
  // REST with a token issued before the restart: the hash was stored, and still matches.
  HttpReply r = rest("GET", "/v1/orgs/" + org_id_ + "/agents", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw_body;
  EXPECT_NE(r.raw_body.find(agent.id), std::string::npos) << r.raw_body;
  json status = admin.call("status");
  EXPECT_EQ(status["storage"]["plugin"], "postgres") << status.dump();
  // The gateway's start-up commit got the store's next revision: it went on from before.
  EXPECT_GT(status["storage"]["revision"].get<uint64_t>(), 5u) << status.dump();
}

TEST_F(PostgresGateway, ADatabaseRestartUnderARunningGatewayIsRidden) {
  start_gateway();
  bootstrap_identity();
  pg_->stop();
  pg_->start();
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  admin.call("orgs.create", {{"name", "initech"}});
  json orgs = admin.call("orgs.list")["orgs"];
  EXPECT_EQ(orgs.size(), 3u) << orgs.dump();
  HttpReply r = rest("GET", "/v1/orgs/" + org_id_ + "/agents", admin_token_);
  EXPECT_EQ(r.status, 200) << r.raw_body;
}

TEST_F(PostgresGateway, WhileTheDatabaseIsDownRequestsAreAnsweredUnavailableNamingIt) {
  start_gateway();
  bootstrap_identity();
  pg_->stop();
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  try {
    admin.call("orgs.create", {{"name", "initech"}});
    ADD_FAILURE() << "orgs.create succeeded with the database down";
  } catch (const cli::OperatorError& e) {
    EXPECT_EQ(e.code, "UNAVAILABLE") << e.what();
    EXPECT_NE(e.message.find("cannot connect to " + label()), std::string::npos) << e.what();
  }
  HttpReply r = rest("GET", "/v1/orgs/" + org_id_ + "/agents", admin_token_);
  EXPECT_EQ(r.status, 503) << r.raw_body;
  EXPECT_TRUE(gw_.running()) << "a storage outage does not stop the gateway";

  pg_->start();
  admin.call("orgs.create", {{"name", "initech"}});
  r = rest("GET", "/v1/orgs/" + org_id_ + "/agents", admin_token_);
  EXPECT_EQ(r.status, 200) << r.raw_body;
}

TEST_F(PostgresGateway, ADispatchGoesOutWhileItsRecordSyncsAndIsAnsweredAfter) {
  start_gateway();
  bootstrap_identity();
  const double syncs_before = metric("vespid_storage_sync_duration_seconds_count");
  ASSERT_GE(syncs_before, 0) << "no deferred-sync histogram in /metrics";
  PairedAgent a = pair("builder-1");
  auto host = connect_agent(a);
  HttpReply d = internal("POST", "/internal/v1/dispatch-async", dispatch_body("pg-run"));
  ASSERT_EQ(d.status, 201) << d.raw_body;
  auto ex = host->read_type("execute", std::chrono::seconds(5));
  ASSERT_TRUE(ex.has_value()) << "no execute arrived";
  EXPECT_EQ((*ex)["requestId"], request_id("pg-run"));
  host->send({{"type", "execute_result"},
              {"requestId", request_id("pg-run")},
              {"status", "succeeded"},
              {"output", {{"v", 7}}}});
  ASSERT_TRUE(host->read_type("execute_ack", std::chrono::seconds(5)).has_value());
  HttpReply r = internal("GET", "/internal/v1/results/" + request_id("pg-run"));
  ASSERT_EQ(r.status, 200) << r.raw_body;
  EXPECT_EQ(r.body["output"]["v"], 7);
  // The record went to PostgreSQL without waiting for the flush, and a sync followed it.
  EXPECT_GT(metric("vespid_storage_sync_duration_seconds_count"), syncs_before);
  EXPECT_EQ(metric("vespid_storage_sync_failures_total"), 0);
}

TEST_F(PostgresGateway, TheGatewayDoesNotStartWhenItsDatabaseIsDown) {
  pg_->stop();
  std::ofstream(dir_.file("cfg.json")) << config().dump(2);
  gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
  EXPECT_EQ(gw_.wait_exit(std::chrono::seconds(30)), 7) << gw_.log_text();
  EXPECT_NE(gw_.log_text().find("postgres: cannot connect to " + label()), std::string::npos)
      << gw_.log_text();
}

}  // namespace
}  // namespace vespid::test
