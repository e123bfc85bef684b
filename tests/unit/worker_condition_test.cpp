// vespid-worker's condition node: each op, input paths against $nodes paths, and paths that name
// nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "condition.hpp"

namespace {

using nlohmann::json;
using vespid::worker::evaluate_condition;
using vespid::worker::resolve_path;

const json kInput = {{"user", {{"name", "Ada"}, {"age", 36}, {"tags", {"admin", "ops"}}}},
                     {"count", "12"},
                     {"nothing", nullptr},
                     {"flag", true}};
const json kOutputs = {{"fetch", {{"status", 200}, {"body", {{"ok", true}, {"items", {1, 2, 3}}}}}},
                       {"fetch.v2", {{"status", 503}}}};

bool eval(const std::string& path, const std::string& op, const json& value) {
  json config = {{"path", path}, {"op", op}, {"value", value}};
  auto r = evaluate_condition(config, kInput, kOutputs);
  EXPECT_TRUE(r.ok) << r.error;
  return r.result;
}

TEST(WorkerCondition, InputDotPath) {
  ASSERT_NE(resolve_path("user.name", kInput, kOutputs), nullptr);
  EXPECT_EQ(*resolve_path("user.name", kInput, kOutputs), "Ada");
  EXPECT_EQ(*resolve_path("$.user.age", kInput, kOutputs), 36);
  EXPECT_EQ(*resolve_path("user.tags.1", kInput, kOutputs), "ops");
  // Empty segments are ignored, as in the reference.
  EXPECT_EQ(*resolve_path("user..name", kInput, kOutputs), "Ada");
}

TEST(WorkerCondition, NodesPathReadsAnOutputNotTheInput) {
  const json* status = resolve_path("$nodes.fetch.status", kInput, kOutputs);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(*status, 200);
  EXPECT_EQ(*resolve_path("$nodes.fetch.body.items.2", kInput, kOutputs), 3);
  // The whole output.
  EXPECT_EQ(*resolve_path("$nodes.fetch", kInput, kOutputs), kOutputs["fetch"]);
  // A node id with a dot: the longest id wins.
  EXPECT_EQ(*resolve_path("$nodes.fetch.v2.status", kInput, kOutputs), 503);
  // Without the prefix the same path is read from the input, where it is not.
  EXPECT_EQ(resolve_path("fetch.status", kInput, kOutputs), nullptr);
}

TEST(WorkerCondition, MissingPathsNameNothing) {
  EXPECT_EQ(resolve_path("user.email", kInput, kOutputs), nullptr);
  EXPECT_EQ(resolve_path("user.name.first", kInput, kOutputs), nullptr);
  EXPECT_EQ(resolve_path("user.tags.9", kInput, kOutputs), nullptr);
  EXPECT_EQ(resolve_path("user.tags.01", kInput, kOutputs), nullptr);
  EXPECT_EQ(resolve_path("$nodes.absent.status", kInput, kOutputs), nullptr);
  EXPECT_EQ(resolve_path("$nodes.fetc.status", kInput, kOutputs), nullptr);
  // A present null is a value, not nothing.
  ASSERT_NE(resolve_path("nothing", kInput, kOutputs), nullptr);
  EXPECT_TRUE(resolve_path("nothing", kInput, kOutputs)->is_null());
}

TEST(WorkerCondition, EqAndNeqAreStrict) {
  EXPECT_TRUE(eval("user.name", "eq", "Ada"));
  EXPECT_FALSE(eval("user.name", "eq", "ada"));
  EXPECT_TRUE(eval("user.age", "eq", 36));
  EXPECT_TRUE(eval("user.age", "eq", 36.0));
  EXPECT_FALSE(eval("user.age", "eq", "36"));  // a string is not the number
  EXPECT_FALSE(eval("flag", "eq", 1));
  EXPECT_TRUE(eval("nothing", "eq", nullptr));
  EXPECT_FALSE(eval("user.email", "eq", nullptr));  // missing is not null
  EXPECT_TRUE(eval("user.email", "neq", nullptr));
  EXPECT_TRUE(eval("user.name", "neq", "Bob"));
  EXPECT_FALSE(eval("user.name", "neq", "Ada"));
  EXPECT_TRUE(eval("$nodes.fetch.status", "eq", 200));
  EXPECT_FALSE(eval("$nodes.fetch.status", "neq", 200));
}

TEST(WorkerCondition, Contains) {
  EXPECT_TRUE(eval("user.name", "contains", "d"));
  EXPECT_FALSE(eval("user.name", "contains", "z"));
  EXPECT_TRUE(eval("user.tags", "contains", "ops"));
  EXPECT_FALSE(eval("user.tags", "contains", "op"));
  EXPECT_TRUE(eval("$nodes.fetch.body.items", "contains", 2));
  EXPECT_FALSE(eval("user.age", "contains", 3));  // neither a string nor an array
  EXPECT_FALSE(eval("user.email", "contains", "x"));
}

TEST(WorkerCondition, Exists) {
  EXPECT_TRUE(eval("user", "exists", nullptr));
  EXPECT_TRUE(eval("$nodes.fetch.body.ok", "exists", nullptr));
  EXPECT_FALSE(eval("nothing", "exists", nullptr));
  EXPECT_FALSE(eval("user.email", "exists", nullptr));
  EXPECT_FALSE(eval("$nodes.other", "exists", nullptr));
}

TEST(WorkerCondition, OrderingOps) {
  EXPECT_TRUE(eval("user.age", "gt", 35));
  EXPECT_FALSE(eval("user.age", "gt", 36));
  EXPECT_TRUE(eval("user.age", "gte", 36));
  EXPECT_FALSE(eval("user.age", "gte", 37));
  EXPECT_TRUE(eval("user.age", "lt", 40));
  EXPECT_FALSE(eval("user.age", "lt", 36));
  EXPECT_TRUE(eval("user.age", "lte", 36));
  EXPECT_FALSE(eval("user.age", "lte", 35.5));
  // A numeric string counts as its number, on either side.
  EXPECT_TRUE(eval("count", "gt", 11));
  EXPECT_TRUE(eval("user.age", "lt", "100"));
  EXPECT_TRUE(eval("$nodes.fetch.status", "gte", 200));
  EXPECT_FALSE(eval("$nodes.fetch.status", "gte", 300));
  // Missing, null, booleans and words are not numbers: false, whatever the op.
  EXPECT_FALSE(eval("user.email", "lt", 5));
  EXPECT_FALSE(eval("nothing", "lt", 5));
  EXPECT_FALSE(eval("flag", "gte", 1));
  EXPECT_FALSE(eval("user.name", "gt", 0));
}

TEST(WorkerCondition, BadConfigIsAnError) {
  auto no_op = evaluate_condition({{"path", "a"}}, kInput, kOutputs);
  EXPECT_FALSE(no_op.ok);
  EXPECT_NE(no_op.error.find("INVALID_NODE_CONFIG"), std::string::npos);
  auto bad_op = evaluate_condition({{"path", "a"}, {"op", "matches"}}, kInput, kOutputs);
  EXPECT_FALSE(bad_op.ok);
  EXPECT_NE(bad_op.error.find("matches"), std::string::npos);
  EXPECT_FALSE(evaluate_condition(json(), kInput, kOutputs).ok);
  EXPECT_FALSE(evaluate_condition({{"op", "eq"}}, kInput, kOutputs).ok);
}

TEST(WorkerCondition, ExplainSaysWhatWasFound) {
  auto r =
      evaluate_condition({{"path", "user.age"}, {"op", "gt"}, {"value", 40}}, kInput, kOutputs);
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.result);
  EXPECT_EQ(r.explain["actualPresent"], true);
  EXPECT_EQ(r.explain["actualType"], "number");
  EXPECT_EQ(r.explain["expected"], 40);
  auto missing = evaluate_condition({{"path", "zzz"}, {"op", "exists"}}, kInput, kOutputs);
  EXPECT_EQ(missing.explain["actualPresent"], false);
  EXPECT_EQ(missing.explain["actualType"], "undefined");
}

}  // namespace
