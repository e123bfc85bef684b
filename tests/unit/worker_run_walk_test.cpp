// vespid-worker's walk over a spec: v2 order, v3 topological order with its tie rule, branches
// taken and skipped, joins, and resuming from a saved cursor.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_walk.hpp"

namespace {

using nlohmann::json;
using namespace vespid::worker;

json node(const std::string& id, const std::string& type = "http.request") {
  return {{"id", id}, {"type", type}};
}

json edge(const std::string& id, const std::string& from, const std::string& to,
          const std::string& kind = "") {
  json e = {{"id", id}, {"from", from}, {"to", to}};
  if (!kind.empty()) e["kind"] = kind;
  return e;
}

json v3(const std::vector<json>& nodes, const std::vector<json>& edges) {
  json g = {{"nodes", json::object()}, {"edges", json::array()}};
  for (const json& n : nodes) g["nodes"][n["id"].get<std::string>()] = n;
  for (const json& e : edges) g["edges"].push_back(e);
  return {{"version", "v3"}, {"graph", g}};
}

// Walks to the end as an executor would: every node that runs succeeds; a condition's result
// comes from `results`. Returns "id" for a node that ran and "-id" for one skipped.
std::vector<std::string> walk(const Plan& plan, Cursor& c,
                              const std::map<std::string, bool>& results = {},
                              std::size_t max_steps = 1000) {
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < max_steps; ++i) {
    Step s = next_step(plan, c);
    if (s.kind == StepKind::done) break;
    if (s.kind == StepKind::skip) {
      seen.push_back("-" + s.node->id);
      record_skip(plan, c);
      continue;
    }
    seen.push_back(s.node->id);
    json out = {{"ran", s.node->id}};
    if (s.node->type == "condition") out = {{"result", results.at(s.node->id)}};
    record_success(plan, c, out);
  }
  return seen;
}

std::vector<std::string> order_of(const Plan& p) {
  std::vector<std::string> ids;
  for (const auto& n : p.order) ids.push_back(n.id);
  return ids;
}

TEST(WorkerRunWalk, V2RunsNodesInArrayOrder) {
  json dsl = {{"version", "v2"},
              {"nodes", {node("zeta"), node("alpha", "condition"), node("mid", "agent.run")}}};
  Plan plan = build_plan(dsl);
  EXPECT_EQ(plan.version, 2);
  EXPECT_EQ(order_of(plan), (std::vector<std::string>{"zeta", "alpha", "mid"}));
  Cursor c;
  EXPECT_EQ(walk(plan, c, {{"alpha", false}}), (std::vector<std::string>{"zeta", "alpha", "mid"}));
  EXPECT_EQ(c.index, 3u);
  // v2 has no edges: a false condition skips nothing.
  EXPECT_TRUE(c.skipped.empty());
  EXPECT_EQ(c.conditions.at("alpha"), false);
  EXPECT_EQ(next_step(plan, c).kind, StepKind::done);
}

TEST(WorkerRunWalk, V2RefusesDuplicateIds) {
  json dsl = {{"version", "v2"}, {"nodes", {node("a"), node("a")}}};
  EXPECT_THROW(build_plan(dsl), PlanError);
}

TEST(WorkerRunWalk, V3TiesGoToTheSmallerIdAndEdgesComeFirst) {
  // Roots b and c; a waits for c. Sorting ids alone would give a, b, c.
  Plan p = build_plan(v3({node("a"), node("c"), node("b")}, {edge("e1", "c", "a")}));
  EXPECT_EQ(order_of(p), (std::vector<std::string>{"b", "c", "a"}));
  // Insertion order of the nodes does not matter.
  Plan q = build_plan(v3({node("b"), node("a"), node("c")}, {edge("e1", "c", "a")}));
  EXPECT_EQ(order_of(q), order_of(p));
  // Bytewise: "B" < "a" < "aa" < "b".
  Plan r = build_plan(v3({node("b"), node("aa"), node("a"), node("B")}, {}));
  EXPECT_EQ(order_of(r), (std::vector<std::string>{"B", "a", "aa", "b"}));
}

TEST(WorkerRunWalk, V3RefusesACycle) {
  try {
    build_plan(v3({node("a"), node("b"), node("root")},
                  {edge("e1", "a", "b"), edge("e2", "b", "a"), edge("e3", "root", "a")}));
    FAIL() << "a cycle was accepted";
  } catch (const PlanError& e) {
    EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos);
  }
}

json branch_spec() {
  return v3({node("fetch"), node("check", "condition"), node("summarise", "agent.run"),
             node("alert"), node("notify")},
            {edge("e1", "fetch", "check"), edge("e2", "check", "summarise", "cond_true"),
             edge("e3", "check", "alert", "cond_false"), edge("e4", "alert", "notify")});
}

TEST(WorkerRunWalk, V3TakesTheTrueBranchAndSkipsTheOther) {
  Plan p = build_plan(branch_spec());
  Cursor c;
  EXPECT_EQ(walk(p, c, {{"check", true}}),
            (std::vector<std::string>{"fetch", "check", "-alert", "-notify", "summarise"}));
  EXPECT_EQ(c.skipped, (std::vector<std::string>{"alert", "notify"}));
  EXPECT_TRUE(c.outputs.contains("summarise"));
  EXPECT_FALSE(c.outputs.contains("alert"));
}

TEST(WorkerRunWalk, V3TakesTheFalseBranch) {
  Plan p = build_plan(branch_spec());
  Cursor c;
  EXPECT_EQ(walk(p, c, {{"check", false}}),
            (std::vector<std::string>{"fetch", "check", "alert", "notify", "-summarise"}));
}

TEST(WorkerRunWalk, SkipSaysWhichEdgesWereDead) {
  Plan p = build_plan(branch_spec());
  Cursor c;
  record_success(p, c, {{"ran", "fetch"}});
  record_success(p, c, {{"result", true}});
  Step s = next_step(p, c);
  ASSERT_EQ(s.kind, StepKind::skip);
  EXPECT_EQ(s.node->id, "alert");
  ASSERT_EQ(s.blockers.size(), 1u);
  EXPECT_EQ(s.blockers[0]["from"], "check");
  EXPECT_EQ(s.blockers[0]["why"], "condition_true");
  record_skip(p, c);
  Step t = next_step(p, c);
  ASSERT_EQ(t.kind, StepKind::skip);
  EXPECT_EQ(t.blockers[0]["why"], "source_skipped");
}

TEST(WorkerRunWalk, OneSatisfiedEdgeIsEnoughForANode) {
  // merge has two sources, one on each branch: it runs whichever branch was taken.
  json dsl = v3({node("c", "condition"), node("yes"), node("no"), node("merge")},
                {edge("t", "c", "yes", "cond_true"), edge("f", "c", "no", "cond_false"),
                 edge("m1", "yes", "merge"), edge("m2", "no", "merge")});
  Plan p = build_plan(dsl);
  Cursor c;
  EXPECT_EQ(walk(p, c, {{"c", false}}), (std::vector<std::string>{"c", "no", "-yes", "merge"}));
}

TEST(WorkerRunWalk, JoinRunsWhenEveryLiveBranchIsDone) {
  json dsl =
      v3({node("c", "condition"), node("a"), node("b"), node("j", "parallel.join"), node("after")},
         {edge("t", "c", "a", "cond_true"), edge("f", "c", "b", "cond_false"), edge("ja", "a", "j"),
          edge("jb", "b", "j"), edge("x", "j", "after")});
  Plan p = build_plan(dsl);
  Cursor c;
  EXPECT_EQ(walk(p, c, {{"c", true}}), (std::vector<std::string>{"c", "a", "-b", "j", "after"}));
  EXPECT_TRUE(c.outputs.contains("j"));
}

TEST(WorkerRunWalk, JoinWithEveryBranchDeadIsSkipped) {
  json dsl = v3({node("c1", "condition"), node("c2", "condition"), node("b1"), node("b2"),
                 node("j", "parallel.join"), node("after")},
                {edge("f1", "c1", "b1", "cond_false"), edge("f2", "c2", "b2", "cond_false"),
                 edge("j1", "b1", "j"), edge("j2", "b2", "j"), edge("x", "j", "after")});
  Plan p = build_plan(dsl);
  Cursor c;
  EXPECT_EQ(walk(p, c, {{"c1", true}, {"c2", true}}),
            (std::vector<std::string>{"c1", "-b1", "c2", "-b2", "-j", "-after"}));
  // One live branch is enough.
  Cursor d;
  EXPECT_EQ(walk(p, d, {{"c1", true}, {"c2", false}}),
            (std::vector<std::string>{"c1", "-b1", "c2", "b2", "j", "after"}));
}

TEST(WorkerRunWalk, ResumeFromASavedCursorContinuesWhereItStopped) {
  Plan p = build_plan(branch_spec());
  // The whole walk in one go, for reference.
  Cursor whole;
  const auto all = walk(p, whole, {{"check", false}});

  // A worker that did two nodes and saved; the cursor goes through JSON text, as it does
  // through the gateway.
  Cursor first;
  const auto part = walk(p, first, {{"check", false}}, 2);
  ASSERT_EQ(part, (std::vector<std::string>{"fetch", "check"}));
  first.attempt = 1;
  const json saved = json::parse(first.to_json().dump());

  Cursor resumed = cursor_from_json(saved, p);
  EXPECT_EQ(resumed.index, 2u);
  EXPECT_EQ(resumed.attempt, 1);
  EXPECT_EQ(resumed.conditions.at("check"), false);
  Step s = next_step(p, resumed);
  ASSERT_EQ(s.kind, StepKind::run);
  EXPECT_EQ(s.node->id, "alert");  // fetch and check are not run again
  const auto rest = walk(p, resumed, {{"check", false}});
  std::vector<std::string> joined = part;
  joined.insert(joined.end(), rest.begin(), rest.end());
  EXPECT_EQ(joined, all);
  EXPECT_EQ(resumed.to_json(), [&] {
    json j = whole.to_json();
    j["attempt"] = 1;
    return j;
  }());
}

TEST(WorkerRunWalk, NullCursorIsAFreshWalk) {
  Plan p = build_plan(branch_spec());
  Cursor c = cursor_from_json(nullptr, p);
  EXPECT_EQ(c.index, 0u);
  EXPECT_TRUE(c.outputs.empty());
  EXPECT_EQ(next_step(p, c).node->id, "fetch");
}

TEST(WorkerRunWalk, CursorThatDoesNotFitThePlanIsRefused) {
  Plan p = build_plan(branch_spec());
  Cursor c;
  walk(p, c, {{"check", true}}, 2);
  json good = c.to_json();
  EXPECT_NO_THROW(cursor_from_json(good, p));

  json past_end = good;
  past_end["index"] = 9;
  EXPECT_THROW(cursor_from_json(past_end, p), CursorError);

  json gap = good;
  gap["outputs"].erase("check");  // check is before index but neither done nor skipped
  gap["conditions"] = json::object();
  EXPECT_THROW(cursor_from_json(gap, p), CursorError);

  json ahead = good;
  ahead["outputs"]["summarise"] = 1;  // after index but marked done
  EXPECT_THROW(cursor_from_json(ahead, p), CursorError);

  json stranger = good;
  stranger["outputs"]["ghost"] = 1;  // not a node of this workflow
  EXPECT_THROW(cursor_from_json(stranger, p), CursorError);

  EXPECT_THROW(cursor_from_json(json{{"index", 0}}, p), CursorError);  // no "v"
  EXPECT_THROW(cursor_from_json(json::array(), p), CursorError);
}

TEST(WorkerRunWalk, CompletedStepsListWhatRanInOrder) {
  Plan p = build_plan(branch_spec());
  Cursor c;
  walk(p, c, {{"check", true}}, 4);  // fetch, check, -alert, -notify
  json steps = completed_steps(p, c);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0]["nodeId"], "fetch");
  EXPECT_EQ(steps[1]["nodeId"], "check");
  EXPECT_EQ(steps[1]["nodeType"], "condition");
  EXPECT_EQ(steps[1]["output"]["result"], true);
  EXPECT_EQ(steps[0]["status"], "succeeded");
}

}  // namespace
