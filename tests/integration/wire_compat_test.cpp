// The reference clients, unchanged (issue 20), frame for frame as the reference code writes
// them: the fixtures here were written from reading vespid-ai/vespid at b83a043 and
// clawdbot/clawdbot at b347d5d9ccbb (docs/wire-facts.md names each source file).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "bridge_client.hpp"
#include "node_host_support.hpp"
#include "operator_client.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class WireCompat : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    bridge_port_ = pick_free_port();
    extra_instances_.push_back(
        {{"name", "bridge"}, {"plugin", "bridge"}, {"config", {{"port", bridge_port_}}}});
    start_gateway();
    bootstrap_identity();
    admin_ = cli::OperatorClient::connect(gw_.socket_path());
  }

  // A bridge node paired into acme and authenticated, as the reference client leaves it.
  BridgeClient paired_node(const std::string& node_id) {
    auto c = BridgeClient::connect("127.0.0.1", bridge_port_);
    c.pair_request(node_id, {{"displayName", node_id}});
    std::string rid;
    for (int i = 0; i < 100 && rid.empty(); ++i) {
      const json pending = admin_.call("nodes.pending");
      for (const auto& p : pending["pending"])
        if (p["nodeId"] == node_id) rid = p["requestId"];
      if (rid.empty()) std::this_thread::sleep_for(20ms);
    }
    EXPECT_FALSE(rid.empty());
    admin_.call("nodes.approve", {{"requestId", rid}, {"org", "acme"}});
    EXPECT_TRUE(c.read_type("hello-ok", 5s));
    // As the reference gateway does, the org's voice wake triggers follow hello-ok.
    EXPECT_TRUE(c.read_until(
        [](const json& f) { return f.value("event", "") == "voicewake.changed"; }, 5s));
    c.clear_kept();  // pair-ok, read past on the way to hello-ok
    return c;
  }

  int bridge_port_ = 0;
  cli::OperatorClient admin_;
};

// Point 6: path parameters are percent-decoded once, in one place, as the reference's router
// does: a result id with its ':' escaped is the same result.
TEST_F(WireCompat, PathParametersArePercentDecodedOnce) {
  PairedAgent a = pair("decoder");
  auto host = connect_agent(a);
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("run-7")).status, 201);
  auto ex = host->read_type("execute", 5s);
  ASSERT_TRUE(ex);
  const std::string rid = (*ex)["requestId"];
  ASSERT_EQ(rid, "run-7:node-a:1");
  host->send({{"type", "execute_result"},
              {"requestId", rid},
              {"status", "succeeded"},
              {"output", {{"n", 7}}}});
  ASSERT_TRUE(host->read_type("execute_ack", 5s));

  HttpReply raw = internal("GET", "/internal/v1/results/run-7:node-a:1");
  ASSERT_EQ(raw.status, 200) << raw.raw_body;
  HttpReply escaped = internal("GET", "/internal/v1/results/run-7%3Anode-a%3A1");
  ASSERT_EQ(escaped.status, 200) << escaped.raw_body;
  EXPECT_EQ(escaped.body, raw.body);
  // Decoded once: an escaped '%' stays a '%', not a second escape.
  EXPECT_EQ(internal("GET", "/internal/v1/results/run-7%253Anode-a%253A1").status, 404);
  HttpReply bad = internal("GET", "/internal/v1/results/run-7%zz");
  EXPECT_EQ(bad.status, 400) << bad.raw_body;
}

// Point 8: events have no answer. chat.subscribe to a session the node cannot see is dropped
// silently as the reference server does; an `error` would make the reference client abandon a
// live connection.
TEST_F(WireCompat, AnEventTheGatewayCannotUseGetsNoErrorFrame) {
  auto c = paired_node("phone-1");
  c.send({{"type", "event"},
          {"event", "chat.subscribe"},
          {"payloadJSON", R"({"sessionKey":"no-such-session"})"}});
  c.send({{"type", "event"}, {"event", "chat.subscribe"}, {"payloadJSON", "not json"}});
  c.send({{"type", "event"}, {"event", 42}});
  c.send({{"type", "req"}, {"id", "h"}, {"method", "health"}});
  // The next frame is the health answer: nothing came before it.
  auto next = c.read(5s);
  ASSERT_TRUE(next) << gw_.log_text();
  EXPECT_EQ((*next)["type"], "res") << next->dump();
  EXPECT_EQ((*next)["id"], "h");
  EXPECT_EQ((*next)["ok"], true);
}

// Point 8, the other half: when the gateway must refuse a frame on an authenticated bridge
// connection, the error comes with a close, never on a socket left open.
TEST_F(WireCompat, AnErrorToAnAuthenticatedNodeClosesItsConnection) {
  auto c = paired_node("phone-2");
  c.send({{"type", "teleport"}});
  auto e = c.read(5s);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "error");
  EXPECT_EQ((*e)["code"], "INVALID_REQUEST");
  EXPECT_TRUE(c.wait_closed(5s)) << "an error left the node's connection open";

  // Before hello the same frame is only answered: the handshake can go on.
  auto fresh = BridgeClient::connect("127.0.0.1", bridge_port_);
  fresh.send({{"type", "teleport"}});
  auto u = fresh.read(5s);
  ASSERT_TRUE(u);
  EXPECT_EQ((*u)["code"], "UNAUTHORIZED");
  EXPECT_FALSE(fresh.wait_closed(300ms));
}

}  // namespace
}  // namespace vespid::test

namespace vespid::test {
namespace {

// Points 2 and 3: the reference CLI's `session create` body (apps/cli/src/cli.ts,
// cmdSessionCreate) is understood, and session objects carry the fields its `session list`
// prints (`${id}  ${status}  ${engineId}  ${llmProvider}:${llmModel}  ${title}`).
TEST_F(WireCompat, TheReferenceSessionCreateBodyAndSessionFields) {
  const json reference_body = {
      {"title", "ref"},
      {"engineId", "vespid.loop.v1"},
      {"llm", {{"provider", "anthropic"}, {"model", "claude-x"}}},
      {"prompt", {{"system", "be brief"}, {"instructions", "answer in French"}}},
      {"tools", {{"allow", json::array({"shell.run", "web.fetch"})}}},
      {"selector", {{"tag", "gpu"}}}};
  HttpReply created =
      rest("POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_, reference_body);
  ASSERT_EQ(created.status, 201) << created.raw_body;
  const json& s = created.body["session"];
  EXPECT_EQ(s["model"], "claude-x") << "llm.model is the model a node host is asked for";
  EXPECT_EQ(s["instructions"], "answer in French");
  EXPECT_EQ(s["engine"], "vespid.loop.v1");
  const std::string sid = s.value("id", "");

  HttpReply listed = rest("GET", "/v1/orgs/" + org_id_ + "/sessions?limit=100", member_token_);
  ASSERT_EQ(listed.status, 200) << listed.raw_body;
  json item;
  for (const auto& x : listed.body["sessions"])
    if (x["id"] == sid) item = x;
  ASSERT_TRUE(item.is_object()) << listed.raw_body;
  EXPECT_EQ(item["status"], "active");
  EXPECT_EQ(item["engineId"], "vespid.loop.v1");
  EXPECT_EQ(item["llmProvider"], "anthropic");
  EXPECT_EQ(item["llmModel"], "claude-x");
  EXPECT_EQ(item["promptSystem"], "be brief");
  EXPECT_EQ(item["promptInstructions"], "answer in French");
  EXPECT_EQ(item["toolsAllow"], json::array({"shell.run", "web.fetch"}));
  EXPECT_EQ(item["selectorTag"], "gpu");
  EXPECT_TRUE(item["selectorGroup"].is_null());
  EXPECT_EQ(item["organizationId"], org_id_);
  EXPECT_TRUE(item["updatedAt"].is_string());

  // This gateway's own body still works, and its own field wins when both are given.
  HttpReply own = rest("POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                       {{"engine", "vespid.echo.v1"},
                        {"engineId", "vespid.loop.v1"},
                        {"model", "m1"},
                        {"llm", {{"model", "m2"}}}});
  ASSERT_EQ(own.status, 201) << own.raw_body;
  EXPECT_EQ(own.body["session"]["engine"], "vespid.echo.v1");
  EXPECT_EQ(own.body["session"]["llmModel"], "m1");
  EXPECT_EQ(own.body["session"]["llmProvider"], "openai") << "the reference's default";

  // Wrong shapes are answered with the field named.
  HttpReply bad_llm =
      rest("POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_, {{"llm", "gpt"}});
  EXPECT_EQ(bad_llm.status, 400);
  EXPECT_EQ(bad_llm.body["details"]["field"], "llm") << bad_llm.raw_body;
  HttpReply bad_tools = rest("POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                             {{"tools", {{"allow", json::array({1, 2})}}}});
  EXPECT_EQ(bad_tools.status, 400);
  EXPECT_EQ(bad_tools.body["details"]["field"], "tools.allow") << bad_tools.raw_body;
}

}  // namespace
}  // namespace vespid::test
