// operator.v1 on the wire: framing errors, ordering, roles and access tokens, through the real
// gateway and its Unix socket.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "gateway_process.hpp"
#include "operator_client.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class OperatorProtocol : public ::testing::Test {
 protected:
  void SetUp() override {
    gw_.start(dir_.file("state"));
    ASSERT_TRUE(gw_.wait_ready());
    client_ = cli::OperatorClient::connect(gw_.socket_path());
  }

  json roundtrip(const std::string& raw) {
    client_.send_raw(raw + "\n");
    auto line = client_.read_line(5s);
    if (!line) return json();
    return json::parse(*line);
  }

  TempDir dir_;
  GatewayProcess gw_;
  cli::OperatorClient client_;
};

TEST_F(OperatorProtocol, MalformedFramesGetClearErrorsAndTheConnectionStaysUsable) {
  json r = roundtrip("{not json");
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["error"]["code"], "INVALID_REQUEST");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("invalid JSON"), std::string::npos);

  r = roundtrip(R"({"type":"hello","id":"1"})");
  EXPECT_EQ(r["error"]["code"], "INVALID_REQUEST");
  EXPECT_EQ(r["id"], "1");

  r = roundtrip(R"({"type":"req","method":"health"})");
  EXPECT_EQ(r["error"]["code"], "INVALID_REQUEST") << "an id is required";

  r = roundtrip(R"({"type":"req","id":"2","method":"health","params":[1]})");
  EXPECT_EQ(r["error"]["code"], "INVALID_REQUEST");

  r = roundtrip(R"({"type":"req","id":"3","method":"orgs.explode"})");
  EXPECT_EQ(r["error"]["code"], "METHOD_NOT_FOUND");
  EXPECT_EQ(r["error"]["details"]["method"], "orgs.explode");

  r = roundtrip(R"({"type":"req","id":"4","method":"orgs.create","params":{}})");
  EXPECT_EQ(r["error"]["code"], "INVALID_REQUEST");
  EXPECT_EQ(r["error"]["details"]["param"], "name");

  EXPECT_EQ(client_.call("health")["ok"], true) << "still usable after all of the above";
}

TEST_F(OperatorProtocol, PipelinedRequestsAreAnsweredInOrder) {
  std::string batch;
  for (int i = 0; i < 60; ++i) {
    json req = {{"type", "req"}, {"id", i}};
    if (i % 3 == 0) {
      req["method"] = "orgs.create";
      req["params"] = {{"name", "pipelined-" + std::to_string(i)}};
    } else {
      req["method"] = i % 3 == 1 ? "health" : "orgs.list";
    }
    batch += req.dump() + "\n";
  }
  client_.send_raw(batch);
  for (int i = 0; i < 60; ++i) {
    auto line = client_.read_line(10s);
    ASSERT_TRUE(line) << "response " << i << " missing";
    json r = json::parse(*line);
    EXPECT_EQ(r["id"], i);
    EXPECT_EQ(r["ok"], true) << *line;
    if (i % 3 == 2) {
      // Every org created before this request is visible to it.
      EXPECT_EQ(r["payload"]["orgs"].size(), static_cast<size_t>(i / 3 + 1));
    }
  }
}

TEST_F(OperatorProtocol, OversizedLineIsAnsweredThenTheConnectionCloses) {
  std::string huge = R"({"type":"req","id":"big","method":"health","params":{"pad":")" +
                     std::string(1100 * 1024, 'x') + "\"}}\n";
  // The gateway stops reading at the limit and closes, so the rest of this write may fail with
  // EPIPE; the error line it sent first must still be readable.
  try {
    client_.send_raw(huge);
  } catch (const cli::ConnectionError&) {
  }
  auto line = client_.read_line(5s);
  ASSERT_TRUE(line);
  json r = json::parse(*line);
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["error"]["code"], "INVALID_REQUEST");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("max_message_bytes"), std::string::npos);
  EXPECT_THROW(
      {
        for (int i = 0; i < 10; ++i) client_.read_line(2s);
      },
      cli::ConnectionError);
  // The gateway itself is fine.
  auto fresh = cli::OperatorClient::connect(gw_.socket_path());
  EXPECT_EQ(fresh.call("health")["ok"], true);
}

TEST_F(OperatorProtocol, AccessTokensScopeAConnectionToItsUser) {
  client_.call("orgs.create", {{"name", "acme"}});
  client_.call("orgs.create", {{"name", "globex"}});
  client_.call("users.create", {{"name", "alice"}, {"org", "acme"}, {"role", "admin"}});
  json issued = client_.call("tokens.create", {{"user", "alice"}, {"name", "laptop"}});
  std::string token = issued["token"];
  EXPECT_EQ(token.rfind("vat_", 0), 0u);

  // The token is never shown again.
  json listed = client_.call("tokens.list", {{"user", "alice"}});
  ASSERT_EQ(listed["tokens"].size(), 1u);
  EXPECT_EQ(listed["tokens"][0]["name"], "laptop");
  EXPECT_EQ(listed["tokens"][0].dump().find(token.substr(24)), std::string::npos);

  auto alice = cli::OperatorClient::connect(gw_.socket_path());
  EXPECT_THROW(alice.call("auth", {{"token", token + "x"}}), cli::OperatorError);
  try {
    alice.call("auth", {{"token", "vat_0000000000000000_" + std::string(43, 'A')}});
    FAIL() << "a made-up token must be refused";
  } catch (const cli::OperatorError& e) {
    EXPECT_EQ(e.code, "UNAUTHORIZED");
  }
  alice.call("auth", {{"token", token}});
  EXPECT_EQ(alice.call("whoami")["role"], "operator");
  json orgs = alice.call("orgs.list")["orgs"];
  ASSERT_EQ(orgs.size(), 1u) << "alice sees only her org";
  EXPECT_EQ(orgs[0]["name"], "acme");
  try {
    alice.call("orgs.create", {{"name", "mine"}});
    FAIL() << "operators may not create orgs";
  } catch (const cli::OperatorError& e) {
    EXPECT_EQ(e.code, "FORBIDDEN");
    EXPECT_EQ(e.details["method"], "orgs.create");
  }

  client_.call("tokens.revoke", {{"tokenId", issued["tokenId"]}});
  auto later = cli::OperatorClient::connect(gw_.socket_path());
  try {
    later.call("auth", {{"token", token}});
    FAIL() << "a revoked token must be refused";
  } catch (const cli::OperatorError& e) {
    EXPECT_EQ(e.code, "UNAUTHORIZED");
  }
}

TEST_F(OperatorProtocol, ExpiredTokensAreRefused) {
  client_.call("users.create", {{"name", "bob"}});
  std::string token = client_.call("tokens.create", {{"user", "bob"}, {"ttlSeconds", 1}})["token"];
  auto bob = cli::OperatorClient::connect(gw_.socket_path());
  EXPECT_EQ(bob.call("auth", {{"token", token}})["role"], "operator");
  std::this_thread::sleep_for(1100ms);
  auto later = cli::OperatorClient::connect(gw_.socket_path());
  EXPECT_THROW(later.call("auth", {{"token", token}}), cli::OperatorError);
}

TEST_F(OperatorProtocol, TokenForAnOrgRequiresMembership) {
  client_.call("orgs.create", {{"name", "acme"}});
  client_.call("users.create", {{"name", "carol"}});
  try {
    client_.call("tokens.create", {{"user", "carol"}, {"org", "acme"}});
    FAIL();
  } catch (const cli::OperatorError& e) {
    EXPECT_EQ(e.code, "INVALID_REQUEST");
    EXPECT_NE(e.message.find("not a member"), std::string::npos);
  }
  try {
    client_.call("users.create", {{"name", "dave"}, {"org", "nope"}});
    FAIL();
  } catch (const cli::OperatorError& e) {
    EXPECT_EQ(e.code, "NOT_FOUND");
  }
  // Nothing half-made: dave was not created because the org check came first.
  json users = client_.call("users.list")["users"];
  for (const auto& u : users) EXPECT_NE(u["name"], "dave");
}

}  // namespace
}  // namespace vespid::test
