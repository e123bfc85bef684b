// Workflow specs over rest.v1 (issue 16, first step): stored per org, versioned, validated with
// every problem named, published; owners and admins write, members read, other orgs see nothing.
#include <gtest/gtest.h>

#include <fstream>

#include "build_paths.hpp"
#include "node_host_support.hpp"
#include "process.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;

class Workflows : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    start_gateway();
    bootstrap_identity();
  }
  std::string path(const std::string& tail = "") {
    return "/v1/orgs/" + org_id_ + "/workflows" + tail;
  }
};

// A v3 graph as the reference's editor writes one: fetch, then a condition on its status, a
// node-host agent on one branch and a worker-side request on the other.
json branching_spec() {
  return {{"version", "v3"},
          {"trigger", {{"type", "trigger.manual"}}},
          {"graph",
           {{"nodes",
             {{"fetch",
               {{"id", "fetch"},
                {"type", "http.request"},
                {"config", {{"method", "GET"}, {"url", "http://127.0.0.1:9/status"}}}}},
              {"check",
               {{"id", "check"},
                {"type", "condition"},
                {"config", {{"path", "fetch.status"}, {"op", "eq"}, {"value", 200}}}}},
              {"summarise",
               {{"id", "summarise"},
                {"type", "agent.run"},
                {"config",
                 {{"llm", {{"provider", "openai"}}},
                  {"execution", {{"mode", "node"}, {"selector", {{"tag", "gpu"}}}}},
                  {"prompt", {{"instructions", "summarise the status"}}}}}}},
              {"alert",
               {{"id", "alert"},
                {"type", "http.request"},
                {"config", {{"method", "POST"}, {"url", "http://127.0.0.1:9/alert"}}}}}}},
            {"edges",
             json::array(
                 {{{"id", "e1"}, {"from", "fetch"}, {"to", "check"}},
                  {{"id", "e2"}, {"from", "check"}, {"to", "summarise"}, {"kind", "cond_true"}},
                  {{"id", "e3"}, {"from", "check"}, {"to", "alert"}, {"kind", "cond_false"}}})}}}};
}

TEST_F(Workflows, OnesMadeBackToBackListNewestFirstEvenWithinAMillisecond) {
  // A create takes well under a millisecond here, so several land in the same one; the list
  // must still give them newest first, not in the order of their random ids.
  std::vector<std::string> made;
  for (int i = 0; i < 8; ++i) {
    HttpReply created =
        rest("POST", path(), admin_token_,
             {{"name", "w" + std::to_string(i)},
              {"dsl",
               {{"version", "v2"},
                {"trigger", {{"type", "trigger.manual"}}},
                {"nodes", json::array({{{"id", "j"}, {"type", "parallel.join"}}})}}}});
    ASSERT_EQ(created.status, 201) << created.raw_body;
    made.push_back(created.body["workflow"]["id"]);
  }
  HttpReply page = rest("GET", path("?limit=8"), member_token_);
  ASSERT_EQ(page.status, 200) << page.raw_body;
  ASSERT_EQ(page.body["workflows"].size(), made.size());
  for (std::size_t i = 0; i < made.size(); ++i) {
    EXPECT_EQ(page.body["workflows"][i]["id"], made[made.size() - 1 - i]) << "position " << i;
  }
}

TEST_F(Workflows, CreateReadListUpdatePublishWithRevisions) {
  HttpReply created =
      rest("POST", path(), admin_token_, {{"name", "status check"}, {"dsl", branching_spec()}});
  ASSERT_EQ(created.status, 201) << created.raw_body;
  const json& w = created.body["workflow"];
  const std::string id = w.value("id", "");
  EXPECT_EQ(w["organizationId"], org_id_);
  EXPECT_EQ(w["status"], "draft");
  EXPECT_EQ(w["revision"], 1);
  EXPECT_EQ(w["dsl"], branching_spec());
  ASSERT_EQ(rest("POST", path(), admin_token_,
                 {{"name", "second"},
                  {"dsl",
                   {{"version", "v2"},
                    {"trigger", {{"type", "trigger.manual"}}},
                    {"nodes", json::array({{{"id", "j"}, {"type", "parallel.join"}}})}}}})
                .status,
            201);

  // Members read; the list is newest first and pages with a cursor.
  HttpReply page = rest("GET", path("?limit=1"), member_token_);
  ASSERT_EQ(page.status, 200) << page.raw_body;
  ASSERT_EQ(page.body["workflows"].size(), 1u);
  EXPECT_EQ(page.body["workflows"][0]["name"], "second");
  ASSERT_TRUE(page.body["nextCursor"].is_string());
  HttpReply rest_page = rest(
      "GET", path("?limit=1&cursor=" + page.body["nextCursor"].get<std::string>()), member_token_);
  ASSERT_EQ(rest_page.body["workflows"].size(), 1u);
  EXPECT_EQ(rest_page.body["workflows"][0]["id"], id);
  EXPECT_TRUE(rest_page.body["nextCursor"].is_null());
  EXPECT_EQ(rest("GET", path("/" + id), member_token_).body["workflow"]["name"], "status check");

  // An update is a new revision; the old one is kept.
  json changed = branching_spec();
  changed["graph"]["nodes"]["fetch"]["config"]["url"] = "http://127.0.0.1:9/health";
  HttpReply updated = rest("PUT", path("/" + id), admin_token_, {{"dsl", changed}});
  ASSERT_EQ(updated.status, 200) << updated.raw_body;
  EXPECT_EQ(updated.body["workflow"]["revision"], 2);
  HttpReply revisions = rest("GET", path("/" + id + "/revisions"), member_token_);
  ASSERT_EQ(revisions.status, 200) << revisions.raw_body;
  ASSERT_EQ(revisions.body["revisions"].size(), 2u);
  EXPECT_EQ(revisions.body["revisions"][0]["revision"], 2);
  EXPECT_EQ(revisions.body["revisions"][1]["dsl"], branching_spec());

  // Published: fixed.
  HttpReply published = rest("POST", path("/" + id + "/publish"), admin_token_);
  ASSERT_EQ(published.status, 200) << published.raw_body;
  EXPECT_EQ(published.body["workflow"]["status"], "published");
  EXPECT_TRUE(published.body["workflow"]["publishedAt"].is_string());
  HttpReply frozen = rest("PUT", path("/" + id), admin_token_, {{"name", "renamed"}});
  EXPECT_EQ(frozen.status, 409) << frozen.raw_body;
}

TEST_F(Workflows, BadSpecsAreRefusedWithEveryProblemNamed) {
  json spec = branching_spec();
  spec["graph"]["nodes"]["summarise"]["config"]["prompt"].erase("instructions");
  spec["graph"]["nodes"]["alert"]["config"]["method"] = "SEND";
  HttpReply bad = rest("POST", path(), admin_token_, {{"name", "broken"}, {"dsl", spec}});
  ASSERT_EQ(bad.status, 400) << bad.raw_body;
  EXPECT_EQ(bad.body["code"], "BAD_REQUEST");
  const json& issues = bad.body["details"]["issues"];
  ASSERT_EQ(issues.size(), 2u) << bad.raw_body;
  EXPECT_EQ(issues[0]["nodeId"], "alert");
  EXPECT_EQ(issues[0]["field"], "graph.nodes.alert.config.method");
  EXPECT_EQ(issues[1]["nodeId"], "summarise");
  EXPECT_EQ(issues[1]["field"], "graph.nodes.summarise.config.prompt.instructions");
  EXPECT_NE(bad.body["message"].get<std::string>().find("2 problems"), std::string::npos);

  json cyclic = branching_spec();
  cyclic["graph"]["edges"].push_back({{"id", "loop"}, {"from", "summarise"}, {"to", "fetch"}});
  HttpReply cycle = rest("POST", path(), admin_token_, {{"name", "cyclic"}, {"dsl", cyclic}});
  ASSERT_EQ(cycle.status, 400) << cycle.raw_body;
  EXPECT_EQ(cycle.body["code"], "GRAPH_CYCLE_DETECTED") << "the reference's code";

  EXPECT_EQ(
      rest("POST", path(), admin_token_, {{"dsl", branching_spec()}}).body["details"]["field"],
      "name");
  EXPECT_EQ(rest("POST", path(), admin_token_, {{"name", "x"}}).body["details"]["field"], "dsl");
}

TEST_F(Workflows, RolesAndOrgBoundaries) {
  EXPECT_EQ(rest("POST", path(), member_token_, {{"name", "m"}, {"dsl", branching_spec()}}).status,
            403)
      << "members read, owners and admins write";
  HttpReply created =
      rest("POST", path(), admin_token_, {{"name", "mine"}, {"dsl", branching_spec()}});
  ASSERT_EQ(created.status, 201);
  const std::string id = created.body["workflow"]["id"];
  EXPECT_EQ(rest("GET", path("/" + id), outsider_token_).status, 403);
  HttpReply foreign =
      rest("GET", "/v1/orgs/" + other_org_id_ + "/workflows/" + id, outsider_token_);
  EXPECT_EQ(foreign.status, 404) << foreign.raw_body;
  EXPECT_EQ(foreign.body["code"], "WORKFLOW_NOT_FOUND");
  EXPECT_EQ(rest("GET", path("/nope"), member_token_).status, 404);
}

// The CLI: a spec kept in a file, created, listed, refused with one problem a line, published.
TEST_F(Workflows, TheCliCreatesListsRefusesAndPublishes) {
  const std::string good = dir_.file("status.json");
  std::ofstream(good) << branching_spec().dump(2);
  json broken_spec = branching_spec();
  broken_spec["graph"]["nodes"]["alert"]["config"]["method"] = "SEND";
  broken_spec["graph"]["nodes"]["summarise"]["config"].erase("prompt");
  const std::string broken = dir_.file("broken.json");
  std::ofstream(broken) << broken_spec.dump();
  auto vespid = [&](std::vector<std::string> args) {
    args.insert(args.begin(), cli_bin());
    const std::vector<std::string> remote = {
        "--api",     "http://127.0.0.1:" + std::to_string(api_port_), "--org", "acme", "--token",
        admin_token_};
    args.insert(args.end(), remote.begin(), remote.end());
    return run_command(args);
  };
  CommandResult created = vespid({"workflow", "create", "--name", "status", "--spec", good});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string id = created.out.substr(0, created.out.find('\n'));
  EXPECT_EQ(id.size(), 36u) << created.out;

  CommandResult refused = vespid({"workflow", "create", "--name", "bad", "--spec", broken});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("2 problems in the workflow spec"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("\n  graph.nodes.alert.config.method: "), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("\n  graph.nodes.summarise.config.prompt: "), std::string::npos)
      << refused.err;
  CommandResult missing = vespid({"workflow", "create", "--name", "x", "--spec", "/nonexistent"});
  EXPECT_EQ(missing.exit_code, 2) << "a file that cannot be read is a usage error";

  CommandResult listed = vespid({"workflow", "ls"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(id), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("draft"), std::string::npos) << listed.out;
  CommandResult published = vespid({"workflow", "publish", id});
  ASSERT_EQ(published.exit_code, 0) << published.err;
  EXPECT_NE(published.out.find("published"), std::string::npos) << published.out;
  CommandResult frozen = vespid({"workflow", "update", id, "--name", "renamed"});
  EXPECT_EQ(frozen.exit_code, 1);
  EXPECT_NE(frozen.err.find("CONFLICT"), std::string::npos) << frozen.err;
}

}  // namespace
}  // namespace vespid::test
