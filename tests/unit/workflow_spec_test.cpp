// Workflow spec validation: specs shaped as the reference writes them pass; each broken one is
// answered with every problem at once, each naming the node and the field.
#include "services/workflows/workflow_spec.hpp"

#include <gtest/gtest.h>

namespace vespid::workflows {
namespace {

using nlohmann::json;

json agent_node(const std::string& id) {
  return {{"id", id},
          {"type", "agent.run"},
          {"config",
           {{"llm", {{"provider", "openai"}, {"model", "gpt-4.1-mini"}}},
            {"execution", {{"mode", "node"}, {"selector", {{"tag", "gpu"}}}}},
            {"prompt", {{"instructions", "summarise"}}},
            {"tools", {{"allow", json::array()}}}}}};
}

json v3_with_condition() {
  return {
      {"version", "v3"},
      {"trigger", {{"type", "trigger.manual"}}},
      {"graph",
       {{"nodes",
         {{"fetch",
           {{"id", "fetch"},
            {"type", "http.request"},
            {"config", {{"method", "GET"}, {"url", "http://127.0.0.1/x"}}}}},
          {"check",
           {{"id", "check"},
            {"type", "condition"},
            {"config", {{"path", "fetch.status"}, {"op", "eq"}, {"value", 200}}}}},
          {"yes", agent_node("yes")},
          {"no", {{"id", "no"}, {"type", "agent.execute"}}}}},
        {"edges",
         json::array({{{"id", "e1"}, {"from", "fetch"}, {"to", "check"}},
                      {{"id", "e2"}, {"from", "check"}, {"to", "yes"}, {"kind", "cond_true"}},
                      {{"id", "e3"}, {"from", "check"}, {"to", "no"}, {"kind", "cond_false"}}})}}}};
}

std::vector<std::string> fields_of(const std::vector<SpecIssue>& issues) {
  std::vector<std::string> out;
  for (const auto& i : issues) out.push_back(i.field);
  return out;
}

TEST(WorkflowSpec, ReferenceShapedSpecsPass) {
  json v2 = {{"version", "v2"},
             {"trigger", {{"type", "trigger.cron"}, {"config", {{"cron", "*/5 * * * 1-5"}}}}},
             {"nodes", json::array({agent_node("a"), {{"id", "b"}, {"type", "parallel.join"}}})}};
  EXPECT_TRUE(validate_workflow_spec(v2).empty());
  EXPECT_TRUE(validate_workflow_spec(v3_with_condition()).empty());
}

TEST(WorkflowSpec, EveryProblemIsReportedWithItsNodeAndField) {
  json v2 = {
      {"version", "v2"},
      {"trigger", {{"type", "trigger.webhook"}, {"config", json::object()}}},
      {"nodes",
       json::array({agent_node("a"),
                    agent_node("a"),
                    {{"id", "h"}, {"type", "http.request"}, {"config", {{"method", "FETCH"}}}}})}};
  v2["nodes"][0]["config"]["prompt"].erase("instructions");
  v2["nodes"][1]["config"]["limits"] = {{"timeoutMs", 10}};
  const auto issues = validate_workflow_spec(v2);
  EXPECT_EQ(fields_of(issues),
            (std::vector<std::string>{"trigger.config.token", "nodes[0].config.prompt.instructions",
                                      "nodes[1].config.limits.timeoutMs", "nodes[1].id",
                                      "nodes[2].config.method", "nodes[2].config.url"}));
  EXPECT_EQ(issues[1].node_id, "a");
  EXPECT_EQ(issues[3].code, "DUPLICATE_NODE_ID");
  EXPECT_EQ(issues[4].node_id, "h");
  EXPECT_EQ(to_json(issues[4])["nodeId"], "h");
}

TEST(WorkflowSpec, GraphRulesUseTheReferenceCodes) {
  json cyclic = v3_with_condition();
  cyclic["graph"]["edges"].push_back({{"id", "back"}, {"from", "yes"}, {"to", "fetch"}});
  cyclic["graph"]["edges"].push_back({{"id", "e1"}, {"from", "no"}, {"to", "ghost"}});
  cyclic["graph"]["edges"][2]["kind"] = "always";  // check has cond_true and always now
  const auto issues = validate_workflow_spec(cyclic);
  std::vector<std::string> codes;
  for (const auto& i : issues) codes.push_back(i.code);
  EXPECT_EQ(codes,
            (std::vector<std::string>{"GRAPH_EDGE_INVALID", "GRAPH_EDGE_INVALID",
                                      "CONDITION_EDGE_CONSTRAINTS", "GRAPH_CYCLE_DETECTED"}));
  EXPECT_EQ(issues[0].edge_id, "e1");  // used twice
  EXPECT_EQ(issues[2].node_id, "check");
  EXPECT_NE(issues[3].message.find("fetch"), std::string::npos) << issues[3].message;

  json keyed_wrong = v3_with_condition();
  keyed_wrong["graph"]["nodes"]["yes"]["id"] = "other";
  ASSERT_EQ(validate_workflow_spec(keyed_wrong).size(), 1u);
  EXPECT_EQ(validate_workflow_spec(keyed_wrong)[0].field, "graph.nodes.yes.id");
}

TEST(WorkflowSpec, WrongShapesAtTheTopAreNamed) {
  EXPECT_EQ(validate_workflow_spec(json::array()).size(), 1u);
  const auto issues = validate_workflow_spec({{"version", "v9"}, {"trigger", "manual"}});
  EXPECT_EQ(fields_of(issues), (std::vector<std::string>{"version", "trigger"}));
  json bad_cron = {{"version", "v2"},
                   {"trigger", {{"type", "trigger.cron"}, {"config", {{"cron", "* * *"}}}}},
                   {"nodes", json::array({agent_node("a")})}};
  ASSERT_EQ(validate_workflow_spec(bad_cron).size(), 1u);
  EXPECT_EQ(validate_workflow_spec(bad_cron)[0].field, "trigger.config.cron");
}

TEST(WorkflowSpec, CronTriggersAreParsedAndTheirTimeZoneLoaded) {
  auto with_cron = [](json config) {
    return json{{"version", "v2"},
                {"trigger", {{"type", "trigger.cron"}, {"config", std::move(config)}}},
                {"nodes", json::array({agent_node("a")})}};
  };
  // UTC is built in, so this passes without tzdata too.
  EXPECT_TRUE(validate_workflow_spec(with_cron({{"cron", "0 9 * * MON-FRI"}, {"timezone", "UTC"}}))
                  .empty());
  EXPECT_TRUE(
      validate_workflow_spec(with_cron({{"cron", "0 9 * * 1-5"}, {"timezone", nullptr}})).empty());

  auto issues = validate_workflow_spec(with_cron({{"cron", "0 25 * * *"}}));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].field, "trigger.config.cron");
  EXPECT_EQ(issues[0].code, "INVALID_SPEC");
  EXPECT_EQ(issues[0].message,
            "trigger.config.cron: cron field 2 (hour) \"25\": 25 is out of range 0-23");

  issues = validate_workflow_spec(with_cron({{"cron", 15}}));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].field, "trigger.config.cron");

  // Both wrong: both reported, each with its field.
  issues =
      validate_workflow_spec(with_cron({{"cron", "*/0 * * * *"}, {"timezone", "Europe/Berln"}}));
  ASSERT_EQ(fields_of(issues),
            (std::vector<std::string>{"trigger.config.cron", "trigger.config.timezone"}));
  EXPECT_NE(issues[0].message.find("step \"0\""), std::string::npos) << issues[0].message;
  EXPECT_NE(issues[1].message.find("trigger.config.timezone: unknown time zone \"Europe/Berln\"; "
                                   "names are IANA zones such as Europe/Berlin"),
            std::string::npos)
      << issues[1].message;

  for (json tz : {json("../../etc/passwd"), json(3600), json::object()}) {
    issues = validate_workflow_spec(with_cron({{"cron", "* * * * *"}, {"timezone", tz}}));
    ASSERT_EQ(issues.size(), 1u) << tz;
    EXPECT_EQ(issues[0].field, "trigger.config.timezone") << tz;
  }
}

}  // namespace
}  // namespace vespid::workflows
