// The text-level JSON helpers of the invoke path must agree with a real JSON parser: what they
// write parses back to the same string, and what they accept for splicing is one value on one
// line.
#include "runtime/json_text.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using vespid::core::json_text::append_string;
using vespid::core::json_text::is_spliceable_value;

namespace {

std::string as_literal(std::string_view s) {
  std::string out = "x";  // appends, never overwrites
  append_string(out, s);
  return out.substr(1);
}

}  // namespace

TEST(JsonText, StringsRoundTripThroughAParser) {
  const std::string every_control = [] {
    std::string s;
    for (int c = 0; c < 0x20; ++c) s.push_back(static_cast<char>(c));
    return s;
  }();
  for (const std::string& s :
       {std::string(), std::string("plain"), std::string(R"(say "hi" \ bye)"),
        std::string(R"({"p":"a\nb"})"), every_control, std::string("caf\xc3\xa9 \xe2\x82\xac"),
        std::string("end\\")}) {
    const std::string text = as_literal(s);
    EXPECT_EQ(nlohmann::json::parse(text).get<std::string>(), s) << text;
  }
}

TEST(JsonText, EscapesAreTheShortFormsWhereJsonHasThem) {
  EXPECT_EQ(as_literal("a\"b\\c\n\t"), R"("a\"b\\c\n\t")");
  EXPECT_EQ(as_literal(std::string("\x01", 1)), R"("\u0001")");
  EXPECT_EQ(as_literal(std::string("\x1f", 1)), R"("\u001f")");
}

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
