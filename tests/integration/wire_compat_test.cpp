// The reference clients, unchanged (issue 20), frame for frame as the reference code writes
// them: the fixtures here were written from reading vespid-ai/vespid at b83a043 and
// clawdbot/clawdbot at b347d5d9ccbb (docs/wire-facts.md names each source file).
#include <gtest/gtest.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <thread>

#include "bridge_client.hpp"
#include "node_host_support.hpp"
#include "operator_client.hpp"
#include "reference_agent_run.hpp"

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

  BridgeClient paired_node(const std::string& node_id) {
    return paired_bridge_node(admin_, bridge_port_, node_id);
  }

  int bridge_port_ = 0;
  cli::OperatorClient admin_;
};

// Point 5: the reference's gateway answers 400 unless organizationId, requestedByUserId, runId,
// workflowId (and selectorAgentId) are uuids (apps/gateway/src/server.ts, dispatchRequestSchema),
// and its node agent silently drops an execute whose organizationId or userId is not one
// (apps/node-agent/src/runtime.ts), which would end in NODE_EXECUTION_TIMEOUT. So both routes
// refuse such ids at once, naming the field, with this gateway's INVALID_REQUEST form.
TEST_F(WireCompat, DispatchIdsThatAreNotUuidsAre400NamingTheField) {
  for (const char* route : {"/internal/v1/dispatch-async", "/internal/v1/dispatch"}) {
    for (const char* field :
         {"organizationId", "requestedByUserId", "runId", "workflowId", "selectorAgentId"}) {
      HttpReply r = internal("POST", route, dispatch_body("run-5", 1, {{field, "u1"}}));
      EXPECT_EQ(r.status, 400) << route << " " << field << ": " << r.raw_body;
      EXPECT_EQ(r.body["code"], "BAD_REQUEST") << r.raw_body;
      EXPECT_EQ(r.body["details"]["field"], field) << r.raw_body;
      EXPECT_NE(r.body.value("message", "").find("must be a uuid (8-4-4-4-12 hex digits"),
                std::string::npos)
          << r.raw_body;
    }
  }
  // The reference's check is zod's: the version digit 1-8 and the RFC variant, not just the
  // shape. These would pass a shape-only check and then be dropped by a reference node agent.
  for (const char* almost : {"9491d710-3185-4e06-cea0-6a2f275345e0",       // variant 110
                             "9491d710-3185-0e06-bea0-6a2f275345e0",       // version 0
                             "{9491d710-3185-4e06-bea0-6a2f275345e0}"}) {  // braces
    HttpReply r = internal("POST", "/internal/v1/dispatch-async",
                           dispatch_body("run-5", 1, {{"requestedByUserId", almost}}));
    EXPECT_EQ(r.status, 400) << almost << ": " << r.raw_body;
    EXPECT_EQ(r.body["details"]["field"], "requestedByUserId") << r.raw_body;
  }
  json missing = dispatch_body("run-5");
  missing.erase("workflowId");
  HttpReply r = internal("POST", "/internal/v1/dispatch-async", missing);
  EXPECT_EQ(r.status, 400) << r.raw_body;
  EXPECT_EQ(r.body["details"]["field"], "workflowId") << r.raw_body;
}

// Point 5, what is accepted: uuids in upper case are uuids. The ids the gateway made and compares
// (the org, a selected host) are taken in lower case; the caller's own ids go on as given, since
// a worker computes the requestId from its own runId.
TEST_F(WireCompat, DispatchIdsInUpperCaseAreAccepted) {
  PairedAgent a = pair("upper");
  auto host = connect_agent(a);
  auto upper = [](std::string id) {
    for (char& ch : id) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return id;
  };
  const std::string run = upper(test_uuid("run-upper"));
  json body = dispatch_body("run-upper", 1,
                            {{"organizationId", upper(org_id_)},
                             {"requestedByUserId", upper(test_uuid("user-1"))},
                             {"runId", run},
                             {"workflowId", upper(test_uuid("wf-1"))},
                             {"selectorAgentId", upper(a.id)}});
  HttpReply d = internal("POST", "/internal/v1/dispatch-async", body);
  ASSERT_EQ(d.status, 201) << d.raw_body;
  EXPECT_EQ(d.body["requestId"], run + ":node-a:1");
  auto ex = host->read_type("execute", 5s);
  ASSERT_TRUE(ex) << gw_.log_text();
  EXPECT_EQ((*ex)["requestId"], run + ":node-a:1");
  EXPECT_EQ((*ex)["organizationId"], org_id_);
  EXPECT_EQ((*ex)["userId"], upper(test_uuid("user-1")));
}

// Point 5 on operator.v1: dispatch.submit (what `vespid dispatch send` calls over the admin
// socket) takes the same body, with the org and the user also by name. The user is whom the
// work is for: a member of the org; the admin socket acts for no user, so it must be named.
TEST_F(WireCompat, OperatorDispatchSubmitNamesTheUserTheWorkIsFor) {
  PairedAgent a = pair("for-alice");
  auto host = connect_agent(a);
  auto refusal = [&](const json& body) -> cli::OperatorError {
    try {
      admin_.call("dispatch.submit", body);
    } catch (const cli::OperatorError& e) {
      return e;
    }
    ADD_FAILURE() << "dispatch.submit accepted " << body.dump();
    return cli::OperatorError("", "", nullptr);
  };

  json nobody = dispatch_body("run-op");
  nobody.erase("requestedByUserId");
  cli::OperatorError e = refusal(nobody);
  EXPECT_EQ(e.code, "INVALID_REQUEST");
  EXPECT_EQ(e.details["field"], "requestedByUserId");
  EXPECT_NE(e.message.find("local admin socket"), std::string::npos) << e.message;

  for (const char* field : {"runId", "workflowId", "selectorAgentId"}) {
    e = refusal(dispatch_body("run-op", 1, {{"requestedByUserId", "alice"}, {field, "u1"}}));
    EXPECT_EQ(e.code, "INVALID_REQUEST") << field << ": " << e.message;
    EXPECT_EQ(e.details["field"], field);
    EXPECT_NE(e.message.find("must be a uuid (8-4-4-4-12 hex digits"), std::string::npos)
        << e.message;
  }
  // Here names are welcome, so "u1" is a name nobody has.
  e = refusal(dispatch_body("run-op", 1, {{"requestedByUserId", "u1"}}));
  EXPECT_EQ(e.code, "NOT_FOUND") << e.message;
  EXPECT_EQ(e.details["field"], "requestedByUserId");
  e = refusal(dispatch_body("run-op", 1, {{"organizationId", "u1"}}));
  EXPECT_EQ(e.code, "NOT_FOUND") << e.message;
  e = refusal(dispatch_body("run-op", 1, {{"requestedByUserId", 7}}));
  EXPECT_EQ(e.code, "INVALID_REQUEST") << e.message;
  EXPECT_EQ(e.details["field"], "requestedByUserId");
  // carol belongs to globex, not acme.
  e = refusal(dispatch_body("run-op", 1, {{"requestedByUserId", "carol"}}));
  EXPECT_EQ(e.code, "INVALID_REQUEST") << e.message;
  EXPECT_NE(e.message.find("not a member"), std::string::npos) << e.message;
  EXPECT_FALSE(host->read_type("execute", 200ms)) << "a refused dispatch reached the host";

  std::string alice_id;
  const json members = admin_.call("users.list", {{"org", "acme"}});
  for (const auto& u : members["users"])
    if (u["name"] == "alice") alice_id = u["id"].get<std::string>();
  json sent = admin_.call(
      "dispatch.submit",
      dispatch_body("run-op", 1, {{"organizationId", "acme"}, {"requestedByUserId", "alice"}}));
  EXPECT_EQ(sent["requestId"], request_id("run-op"));
  auto ex = host->read_type("execute", 5s);
  ASSERT_TRUE(ex) << gw_.log_text();
  EXPECT_EQ((*ex)["organizationId"], org_id_);
  EXPECT_EQ((*ex)["userId"], alice_id);
}

// Point 6: path parameters are percent-decoded once, in one place, as the reference's router
// does: a result id with its ':' escaped is the same result.
TEST_F(WireCompat, PathParametersArePercentDecodedOnce) {
  PairedAgent a = pair("decoder");
  auto host = connect_agent(a);
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("run-7")).status, 201);
  auto ex = host->read_type("execute", 5s);
  ASSERT_TRUE(ex);
  const std::string rid = (*ex)["requestId"];
  ASSERT_EQ(rid, request_id("run-7"));
  host->send({{"type", "execute_result"},
              {"requestId", rid},
              {"status", "succeeded"},
              {"output", {{"n", 7}}}});
  ASSERT_TRUE(host->read_type("execute_ack", 5s));

  HttpReply raw = internal("GET", "/internal/v1/results/" + request_id("run-7"));
  ASSERT_EQ(raw.status, 200) << raw.raw_body;
  HttpReply escaped =
      internal("GET", "/internal/v1/results/" + test_uuid("run-7") + "%3Anode-a%3A1");
  ASSERT_EQ(escaped.status, 200) << escaped.raw_body;
  EXPECT_EQ(escaped.body, raw.body);
  // Decoded once: an escaped '%' stays a '%', not a second escape.
  EXPECT_EQ(
      internal("GET", "/internal/v1/results/" + test_uuid("run-7") + "%253Anode-a%253A1").status,
      404);
  HttpReply bad = internal("GET", "/internal/v1/results/" + test_uuid("run-7") + "%zz");
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

// Point 1 and 5 end to end: a turn a bridge node starts, in a session made with the reference's
// body, reaches the node host as an execute the reference agent would run (its schemas as the
// fixture in reference_agent_run.cpp reads them): uuids for the org, the user (the node's name
// uuid) and the session, the session's llm and prompt in the node's config.
TEST_F(WireCompat, ATurnABridgeNodeStartsIsAnExecuteTheReferenceAgentRuns) {
  PairedAgent host = pair("reference-shaped");
  auto h = connect_agent(host, {{"kinds", {"agent.run"}}});
  HttpReply created = rest("POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                           {{"engineId", "vespid.loop.v1"},
                            {"llm", {{"provider", "anthropic"}, {"model", "claude-x"}}},
                            {"prompt", {{"system", "be brief"}, {"instructions", "in French"}}},
                            {"tools", {{"allow", json::array({"shell.run"})}}}});
  ASSERT_EQ(created.status, 201) << created.raw_body;
  const std::string sid = created.body["session"]["id"];
  auto node = paired_node("ref-phone");
  json res = node.call("chat.send", {{"sessionKey", sid}, {"message", "bonjour"}});
  ASSERT_EQ(res["ok"], true) << res.dump();

  auto ex = h->read_type("execute");
  ASSERT_TRUE(ex);
  EXPECT_EQ(reference_agent_refusal(*ex), "") << ex->dump();
  EXPECT_TRUE(is_uuid((*ex)["userId"])) << ex->dump();
  EXPECT_EQ((*ex)["organizationId"], org_id_);
  const json& config = (*ex)["payload"]["node"]["config"];
  EXPECT_EQ(config["llm"]["provider"], "anthropic");
  EXPECT_EQ(config["llm"]["model"], "claude-x");
  EXPECT_EQ(config["prompt"], json({{"system", "be brief"}, {"instructions", "in French"}}));
  EXPECT_EQ(config["tools"]["allow"], json::array({"shell.run"}));
  EXPECT_EQ((*ex)["payload"]["runInput"]["message"], "bonjour");

  // The same node's next turn carries the same user (the uuid stands for the node) and the
  // conversation so far.
  h->send({{"type", "execute_event"},
           {"requestId", (*ex)["requestId"]},
           {"event",
            {{"seq", 1},
             {"ts", 1},
             {"kind", "agent.assistant_message"},
             {"level", "info"},
             {"payload", {{"text", "salut"}}}}}});
  h->send({{"type", "execute_result"},
           {"requestId", (*ex)["requestId"]},
           {"status", "succeeded"},
           {"output", {{"text", "salut"}}}});
  ASSERT_TRUE(h->read_type("execute_ack"));
  ASSERT_EQ(node.call("chat.send", {{"sessionKey", sid}, {"message", "encore"}})["ok"], true);
  auto ex2 = h->read_type("execute");
  ASSERT_TRUE(ex2);
  EXPECT_EQ((*ex2)["userId"], (*ex)["userId"]);
  EXPECT_EQ((*ex2)["payload"]["steps"], json::array({{{"role", "user"}, {"content", "bonjour"}},
                                                     {{"role", "assistant"}, {"content", "salut"}},
                                                     {{"role", "user"}, {"content", "encore"}}}));
}

}  // namespace
}  // namespace vespid::test
