// vespid-worker's dispatches to node hosts: which nodes may go, the body and payload of each
// kind, the node timeout rule, the retry delay and the bounds on event text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "host_payload.hpp"
#include "http_node.hpp"
#include "run_events.hpp"
#include "run_executor.hpp"
#include "run_walk.hpp"

namespace {

using nlohmann::json;
using namespace vespid::worker;

const char* kRun = "2f0c9a4e-6b1d-4e8a-9c3f-7a5b1d2e8f40";

RunFacts facts() {
  RunFacts f;
  f.run_id = kRun;
  f.workflow_id = "5b0e7f3c-2a1d-4c8e-9f6b-3d2c1b0a9e87";
  f.organization_id = "0b0e7f3c-2a1d-4c8e-9f6b-3d2c1b0a9e87";
  f.requested_by_user_id = "1b0e7f3c-2a1d-4c8e-9f6b-3d2c1b0a9e87";
  f.attempt_count = 2;
  f.input = {{"message", "hello"}};
  return f;
}

PlanNode plan_node(const json& spec) {
  PlanNode n;
  n.id = spec["id"];
  n.type = spec["type"];
  n.spec = spec;
  return n;
}

TEST(WorkerHostPayload, CloudOrMissingModeIsRefused) {
  for (const json& execution : {json(), json{{"mode", "cloud"}}}) {
    json spec = {{"id", "a"}, {"type", "agent.execute"}, {"config", json::object()}};
    if (!execution.is_null()) spec["config"]["execution"] = execution;
    HostCall c = host_call_for(plan_node(spec), facts(), 2, json::array(), 600000);
    EXPECT_FALSE(c.ok);
    EXPECT_EQ(c.error.rfind("CLOUD_EXECUTION_UNAVAILABLE: ", 0), 0u) << c.error;
    EXPECT_NE(c.error.find("execution.mode"), std::string::npos);
  }
}

TEST(WorkerHostPayload, AgentRunBodyAndPayload) {
  json spec = {{"id", "summarise"},
               {"type", "agent.run"},
               {"config",
                {{"llm", {{"provider", "openai"}, {"model", "gpt-4.1-mini"}}},
                 {"execution", {{"mode", "node"}, {"selector", {{"tag", "gpu"}}}}},
                 {"prompt", {{"instructions", "Summarise."}}},
                 {"tools", {{"allow", {"web", "web", "shell"}}}},
                 {"limits", {{"timeoutMs", 90000}, {"maxTurns", 999}}}}}};
  json steps = json::array({{{"nodeId", "fetch"}, {"output", 1}}});
  HostCall c = host_call_for(plan_node(spec), facts(), 2, steps, 600000);
  ASSERT_TRUE(c.ok) << c.error;
  EXPECT_EQ(c.request_id, std::string(kRun) + ":summarise:2");
  EXPECT_EQ(c.timeout_ms, 90000);
  const json& b = c.body;
  EXPECT_EQ(b["kind"], "agent.run");
  EXPECT_EQ(b["nodeType"], "agent.run");
  EXPECT_EQ(b["attemptCount"], 2);
  EXPECT_EQ(b["runId"], kRun);
  EXPECT_EQ(b["requestedByUserId"], facts().requested_by_user_id);
  EXPECT_EQ(b["selectorTag"], "gpu");
  EXPECT_FALSE(b.contains("selectorGroup"));
  EXPECT_EQ(b["timeoutMs"], 90000);
  const json& p = b["payload"];
  EXPECT_EQ(p["nodeId"], "summarise");
  EXPECT_EQ(p["node"]["type"], "agent.run");
  EXPECT_EQ(p["node"]["config"]["prompt"]["instructions"], "Summarise.");
  EXPECT_EQ(p["node"]["config"]["limits"]["maxTurns"], 64);      // clamped
  EXPECT_EQ(p["node"]["config"]["limits"]["maxToolCalls"], 20);  // default filled in
  EXPECT_EQ(p["node"]["config"]["output"]["mode"], "text");
  EXPECT_EQ(p["policyToolsAllow"], json({"web", "web", "shell"}));
  EXPECT_EQ(p["effectiveToolsAllow"], json({"web", "shell"}));
  EXPECT_EQ(p["runInput"], facts().input);
  EXPECT_EQ(p["steps"], steps);
  EXPECT_EQ(p["attemptCount"], 2);
  EXPECT_EQ(p["env"]["githubApiBaseUrl"], "https://api.github.com");
  EXPECT_EQ(p["secrets"], json::object());
}

TEST(WorkerHostPayload, AgentExecuteCarriesTheTaskNode) {
  json spec = {{"id", "build"},
               {"type", "agent.execute"},
               {"config",
                {{"execution", {{"mode", "node"}, {"selector", {{"group", "ci"}}}}},
                 {"task", {{"type", "shell"}, {"script", "make"}}},
                 {"sandbox", {{"timeoutMs", 120000}}}}}};
  HostCall c = host_call_for(plan_node(spec), facts(), 2, json::array(), 600000);
  ASSERT_TRUE(c.ok) << c.error;
  EXPECT_EQ(c.body["selectorGroup"], "ci");
  EXPECT_EQ(c.timeout_ms, 120000);  // the reference's sandbox.timeoutMs
  const json& p = c.body["payload"];
  EXPECT_EQ(p["node"]["config"]["task"]["script"], "make");
  EXPECT_EQ(p["nodeId"], "build");
  EXPECT_EQ(p["workflowId"], facts().workflow_id);
  EXPECT_FALSE(p.contains("runInput"));
}

TEST(WorkerHostPayload, ConnectorActionPayload) {
  json spec = {{"id", "post"},
               {"type", "connector.action"},
               {"config",
                {{"connectorId", "echo"},
                 {"actionId", "say"},
                 {"input", {{"text", "hi"}}},
                 {"auth", {{"secretId", "1b0e7f3c-2a1d-4c8e-9f6b-3d2c1b0a9e87"}}},
                 {"execution",
                  {{"mode", "node"},
                   {"selector", {{"agentId", "3b0e7f3c-2a1d-4c8e-9f6b-3d2c1b0a9e87"}}}}}}}};
  HostCall c = host_call_for(plan_node(spec), facts(), 1, json::array(), 600000);
  ASSERT_TRUE(c.ok) << c.error;
  EXPECT_EQ(c.body["selectorAgentId"], "3b0e7f3c-2a1d-4c8e-9f6b-3d2c1b0a9e87");
  EXPECT_EQ(c.body["payload"], json({{"connectorId", "echo"},
                                     {"actionId", "say"},
                                     {"input", {{"text", "hi"}}},
                                     {"env", {{"githubApiBaseUrl", "https://api.github.com"}}}}));
  EXPECT_EQ(c.request_id, std::string(kRun) + ":post:1");
}

TEST(WorkerHostPayload, NodeIdWithAColonCannotBeARequestId) {
  json spec = {
      {"id", "a:b"},
      {"type", "connector.action"},
      {"config", {{"connectorId", "echo"}, {"actionId", "x"}, {"execution", {{"mode", "node"}}}}}};
  HostCall c = host_call_for(plan_node(spec), facts(), 1, json::array(), 600000);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.error.rfind("INVALID_NODE_CONFIG", 0), 0u);
}

TEST(WorkerHostPayload, NodeTimeoutRule) {
  EXPECT_EQ(node_timeout_ms({{"config", json::object()}}, 600000), 60000);
  EXPECT_EQ(node_timeout_ms({{"config", {{"timeoutMs", 5000}}}}, 600000), 5000);
  EXPECT_EQ(node_timeout_ms({{"config", {{"timeoutMs", 5000}, {"limits", {{"timeoutMs", 7000}}}}}},
                            600000),
            7000);
  EXPECT_EQ(node_timeout_ms({{"config", {{"timeoutMs", 500000}}}}, 120000), 120000);  // capped
  EXPECT_EQ(node_timeout_ms({{"config", {{"timeoutMs", 10}}}}, 600000), 1000);        // the floor
}

TEST(WorkerHostPayload, RetryDelayDoublesUpToAMinute) {
  EXPECT_EQ(retry_delay_ms(1), 1000);
  EXPECT_EQ(retry_delay_ms(2), 2000);
  EXPECT_EQ(retry_delay_ms(3), 4000);
  EXPECT_EQ(retry_delay_ms(6), 32000);
  EXPECT_EQ(retry_delay_ms(7), 60000);
  EXPECT_EQ(retry_delay_ms(100), 60000);
}

TEST(WorkerEvents, TextStaysWithinTheGatewaysBounds) {
  const std::string euro = "\xE2\x82\xAC";     // 3 bytes
  EXPECT_EQ(clip_utf8("ab" + euro, 4), "ab");  // never half a character
  EXPECT_EQ(clip_utf8("ab" + euro, 5), "ab" + euro);
  EXPECT_EQ(valid_utf8("a\xFF"
                       "b"),
            "a\xEF\xBF\xBD"
            "b");
  json big = std::string(10000, 'x');
  json s = summarize(big, 100);
  EXPECT_EQ(s["truncated"], true);
  EXPECT_EQ(s["originalLength"], 10002);
  EXPECT_LE(s["preview"].get<std::string>().size(), 100u);
  EXPECT_EQ(summarize(json{{"a", 1}}, 100), json({{"a", 1}}));
  PlanNode n;
  n.id = "x";
  n.type = "agent.run";
  json failed = events::node_failed(n, std::string(9000, 'e'));
  EXPECT_EQ(failed["message"].get<std::string>().size(), kMaxMessageBytes);
  EXPECT_EQ(failed["nodeId"], "x");
  EXPECT_EQ(failed["level"], "error");
}

TEST(WorkerHttpNode, PlansTheRequestItWillSend) {
  HttpRequestPlan p = plan_http_request(
      {{"method", "POST"}, {"url", "https://example.com:8443/hook?x=1"}, {"body", {{"a", 1}}}});
  ASSERT_EQ(p.error, "");
  EXPECT_TRUE(p.target.tls);
  EXPECT_EQ(p.target.port, 8443);
  EXPECT_EQ(p.target.server_name, "example.com");
  EXPECT_EQ(p.path, "/hook?x=1");
  EXPECT_EQ(p.headers["Host"], "example.com:8443");
  EXPECT_EQ(p.headers["content-type"], "application/json");
  EXPECT_EQ(p.body, "{\"a\":1}");
  EXPECT_NE(plan_http_request({{"url", "ws://example.com/"}}).error, "");
  EXPECT_NE(plan_http_request({{"method", "TRACE"}, {"url", "http://example.com/"}}).error, "");
  EXPECT_NE(plan_http_request({{"method", "GET"}}).error, "");
  HttpRequestPlan text = plan_http_request(
      {{"url", "http://example.com/"}, {"body", "hi"}, {"headers", {{"Content-Type", "x/y"}}}});
  EXPECT_EQ(text.method, "GET");
  EXPECT_EQ(text.body, "hi");
  EXPECT_EQ(text.headers.count("content-type"), 0u);  // the node's own header is kept
}

}  // namespace
