// The text-level JSON helpers of the invoke path must agree with a real JSON parser: what they
// accept for splicing is one value on one line. (Strings are written by libs/json_write, tested
// there.)
#include "runtime/json_text.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using vespid::core::json_text::is_spliceable_value;

TEST(JsonText, SpliceableMeansOneValueOnOneLine) {
  EXPECT_TRUE(is_spliceable_value(R"({"a":[1,2,{"b":null}],"c":"x\ny"})"));
  EXPECT_TRUE(is_spliceable_value("  42 "));
  EXPECT_TRUE(is_spliceable_value(R"("text")"));
  EXPECT_FALSE(is_spliceable_value(""));
  EXPECT_FALSE(is_spliceable_value("{"));
  EXPECT_FALSE(is_spliceable_value(R"({"a":1} {"b":2})"));  // two values
  EXPECT_FALSE(is_spliceable_value("{\"a\":1}\n"));         // a line break ends a JSONL frame
  EXPECT_FALSE(is_spliceable_value("{\r\"a\":1}"));
  EXPECT_FALSE(is_spliceable_value("{\"a\":\"\xff\"}"));  // invalid UTF-8
  EXPECT_FALSE(is_spliceable_value(R"({"a":1},)"));
}
