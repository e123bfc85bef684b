// Node hosts through the real gateway: pairing over REST, the vespid.node.v1 WebSocket with its
// admission, org boundaries on every REST call, revoke closing open sockets, bad input.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "node_host_support.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;

class NodeHosts : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    ws_config_extra_ = {{"max_message_bytes", 65536}};
    start_gateway();
    bootstrap_identity();
  }
};

TEST_F(NodeHosts, PairingTokenPairsOnceAndTheAgentConnects) {
  HttpReply t = rest("POST", "/v1/orgs/" + org_id_ + "/agents/pairing-tokens", admin_token_);
  ASSERT_EQ(t.status, 201) << t.raw_body;
  std::string token = t.body["token"];
  EXPECT_EQ(token.rfind(org_id_ + ".", 0), 0u) << "pairing tokens carry their org: " << token;
  EXPECT_TRUE(t.body["expiresAt"].is_string());

  json pair_body = {{"pairingToken", token},
                    {"name", "build-01"},
                    {"agentVersion", "1.2.3"},
                    {"capabilities", {{"kinds", {"agent.execute"}}}}};
  HttpReply p = rest("POST", "/v1/agents/pair", "", pair_body);
  ASSERT_EQ(p.status, 201) << p.raw_body;
  EXPECT_EQ(p.body["organizationId"], org_id_);
  EXPECT_EQ(p.body["gatewayWsUrl"], "ws://127.0.0.1:" + std::to_string(ws_port_) + "/ws");
  std::string agent_token = p.body["agentToken"];
  EXPECT_EQ(agent_token.rfind(org_id_ + ".", 0), 0u);

  HttpReply again = rest("POST", "/v1/agents/pair", "", pair_body);
  EXPECT_EQ(again.status, 401) << again.raw_body;
  EXPECT_EQ(again.body["code"], "PAIRING_TOKEN_INVALID");

  PairedAgent a{p.body["agentId"], agent_token, org_id_, p.body["gatewayWsUrl"]};
  EXPECT_TRUE(wait_agent_status(a.id, "offline"));
  auto c = connect_agent(a, {{"kinds", {"agent.execute"}}, {"maxInFlight", 3}});
  ASSERT_TRUE(wait_agent_status(a.id, "online"));
  HttpReply list = rest("GET", "/v1/orgs/" + org_id_ + "/agents", member_token_);
  ASSERT_EQ(list.status, 200) << list.raw_body;
  ASSERT_EQ(list.body["agents"].size(), 1u);
  EXPECT_EQ(list.body["agents"][0]["name"], "build-01");
  EXPECT_EQ(list.body["agents"][0]["kind"], "agent");
  EXPECT_EQ(list.body["agents"][0]["agentVersion"], "0.9.0") << "the hello's version is recorded";
  EXPECT_EQ(list.body["agents"][0]["capabilities"]["maxInFlight"], 3);
  EXPECT_EQ(list.raw_body.find(agent_token.substr(agent_token.find('.') + 1)), std::string::npos)
      << "the secret is never shown again";
  c->close();
  EXPECT_TRUE(wait_agent_status(a.id, "offline"));
}

TEST_F(NodeHosts, TwoConcurrentPairsWithOneTokenExactlyOneWins) {
  for (int round = 0; round < 5; ++round) {
    std::string token = pairing_token(admin_token_);
    std::atomic<int> created{0}, refused{0};
    auto attempt = [&](const std::string& name) {
      HttpReply r = rest("POST", "/v1/agents/pair", "",
                         {{"pairingToken", token}, {"name", name}, {"agentVersion", "1"}});
      if (r.status == 201) created++;
      if (r.status == 401 && r.body.value("code", "") == "PAIRING_TOKEN_INVALID") refused++;
    };
    std::thread a(attempt, "a"), b(attempt, "b");
    a.join();
    b.join();
    EXPECT_EQ(created.load(), 1) << "round " << round;
    EXPECT_EQ(refused.load(), 1) << "round " << round;
  }
  HttpReply list = rest("GET", "/v1/orgs/" + org_id_ + "/agents", admin_token_);
  EXPECT_EQ(list.body["agents"].size(), 5u);
}

TEST_F(NodeHosts, EveryRestCallChecksTheOrgAndTheRole) {
  const std::string base = "/v1/orgs/" + org_id_ + "/agents";
  HttpReply none = rest("GET", base, "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body["code"], "UNAUTHORIZED");
  HttpReply wrong = rest("GET", base, "vat_0123456789abcdef_nope");
  EXPECT_EQ(wrong.status, 401);
  HttpReply outsider = rest("GET", base, outsider_token_);
  EXPECT_EQ(outsider.status, 403) << outsider.raw_body;
  EXPECT_EQ(outsider.body["code"], "FORBIDDEN");
  HttpReply member = rest("POST", base + "/pairing-tokens", member_token_);
  EXPECT_EQ(member.status, 403) << "members may list but not pair: " << member.raw_body;
  HttpReply unknown_org = rest("GET", "/v1/orgs/no-such-org/agents", admin_token_);
  EXPECT_EQ(unknown_org.status, 403) << "org ids cannot be probed";

  PairedAgent a = pair("host-a");
  // Carol owns globex; acme's agent is not hers to tag or revoke, even through her own org.
  HttpReply cross =
      rest("POST", "/v1/orgs/" + other_org_id_ + "/agents/" + a.id + "/revoke", outsider_token_);
  EXPECT_EQ(cross.status, 404) << cross.raw_body;
  HttpReply tags = rest("PUT", base + "/" + a.id + "/tags", member_token_, {{"tags", {"gpu"}}});
  EXPECT_EQ(tags.status, 403);
  HttpReply ok =
      rest("PUT", base + "/" + a.id + "/tags", admin_token_, {{"tags", {"gpu", "linux"}}});
  ASSERT_EQ(ok.status, 200) << ok.raw_body;
  EXPECT_EQ(ok.body["agent"]["tags"], json({"gpu", "linux"}));
  HttpReply bad = rest("PUT", base + "/" + a.id + "/tags", admin_token_, {{"tags", {"two words"}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["code"], "BAD_REQUEST");
}

TEST_F(NodeHosts, WrongTokensGet401WithAJsonBodyBeforeTheUpgrade) {
  PairedAgent a = pair("host-a");
  WsClient none(ws());
  json refusal;
  EXPECT_EQ(none.connect("/ws", {}, &refusal), 401);
  EXPECT_EQ(refusal["code"], "UNAUTHORIZED");

  WsClient wrong(ws());
  std::string forged = a.org_id + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  EXPECT_EQ(wrong.connect("/ws", {{"Authorization", "Bearer " + forged}}, &refusal), 401);
  EXPECT_EQ(refusal["code"], "UNAUTHORIZED");

  // The right secret under another org's prefix is refused too.
  WsClient other_prefix(ws());
  std::string moved = other_org_id_ + a.token.substr(a.token.find('.'));
  EXPECT_EQ(other_prefix.connect("/ws", {{"Authorization", "Bearer " + moved}}, &refusal), 401);
}

TEST_F(NodeHosts, RevokingClosesTheOpenSocketAndLaterConnectsAreRefused) {
  PairedAgent a = pair("host-a");
  auto c = connect_agent(a);
  ASSERT_TRUE(wait_agent_status(a.id, "online"));
  HttpReply r = rest("POST", "/v1/orgs/" + org_id_ + "/agents/" + a.id + "/revoke", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw_body;
  EXPECT_EQ(r.body["agent"]["status"], "revoked");
  // The socket closes at once: reading sees the close, not a timeout.
  auto m = c->read(std::chrono::seconds(5));
  EXPECT_FALSE(m.has_value());
  EXPECT_TRUE(c->closed()) << "the revoked host's socket must be closed by the gateway";

  WsClient again(ws());
  json refusal;
  EXPECT_EQ(again.connect("/ws", {{"Authorization", "Bearer " + a.token}}, &refusal), 401);
  EXPECT_EQ(refusal["code"], "AGENT_REVOKED");
}

TEST_F(NodeHosts, MalformedAndOversizedMessagesGetClearErrors) {
  PairedAgent a = pair("host-a");
  auto c = connect_agent(a);
  c->send_text("{not json");
  auto e1 = c->read_type("error");
  ASSERT_TRUE(e1.has_value());
  EXPECT_EQ((*e1)["code"], "INVALID_REQUEST");
  EXPECT_NE((*e1)["message"].get<std::string>().find("invalid JSON"), std::string::npos);

  c->send({{"type", "teleport"}});
  auto e2 = c->read_type("error");
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ((*e2)["details"]["type"], "teleport");

  c->send({{"type", "execute_result"}, {"requestId", "r1:n:1"}, {"status", "maybe"}});
  auto e3 = c->read_type("error");
  ASSERT_TRUE(e3.has_value());
  EXPECT_NE((*e3)["message"].get<std::string>().find("succeeded"), std::string::npos);

  // Still usable after bad input.
  c->send({{"type", "ping"}, {"ts", 7}});
  auto pong = c->read_type("pong");
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ((*pong)["ts"], 7);

  // Over ws max_message_bytes (64 KiB here): the error says which limit, then the WebSocket
  // closes (1009, message too big): a frame stream cannot be resynchronised after it.
  c->send_text(std::string(200000, 'x'));
  auto too_big = c->read_type("error");
  ASSERT_TRUE(too_big.has_value()) << c->close_reason();
  EXPECT_NE((*too_big)["message"].get<std::string>().find("max_message_bytes (65536)"),
            std::string::npos);
  EXPECT_FALSE(c->read(std::chrono::seconds(5)).has_value());
  EXPECT_TRUE(c->closed()) << "still open after an oversized message";

  // REST: a malformed body and an unknown route.
  HttpReply bad = http_request(api(), "POST", "/v1/agents/pair", {}, "{oops");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["code"], "BAD_REQUEST");
  HttpReply unknown = rest("GET", "/v1/nothing", admin_token_);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body["code"], "NOT_FOUND");
}

}  // namespace
}  // namespace vespid::test
