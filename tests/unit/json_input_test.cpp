// JSON from peers: parsed like json::parse, but never deeper than the configured cap, and every
// failure is a json::parse_error that the dialects already answer in their own error form.
#include "runtime/json_input.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace json_input = vespid::core::json_input;
using nlohmann::json;

namespace {

std::string nested(int depth) {
  return std::string(static_cast<size_t>(depth), '[') + "1" +
         std::string(static_cast<size_t>(depth), ']');
}

struct CapGuard {
  explicit CapGuard(int d) { json_input::set_max_depth(d); }
  ~CapGuard() { json_input::set_max_depth(json_input::kDefaultMaxDepth); }
};

TEST(JsonInput, ParsesWhatJsonParseParses) {
  const std::string text = R"({"a":[1,2,{"b":"c\u00e9"}],"n":-1.5e3,"t":true,"z":null})";
  EXPECT_EQ(json_input::parse(text), json::parse(text));
  EXPECT_EQ(json_input::parse(" 42 "), 42);
}

TEST(JsonInput, MalformedTextIsAParseError) {
  EXPECT_THROW(json_input::parse("{this is not json"), json::parse_error);
  EXPECT_THROW(json_input::parse(R"({"a":1} trailing)"), json::parse_error);
  EXPECT_THROW(json_input::parse(""), json::parse_error);
  // Found by fuzzing: a number too large for a double was out_of_range, and a NUL byte ended
  // the input with whatever followed it unread.
  EXPECT_THROW(json_input::parse(R"({"n":1e400})"), json::parse_error);
  EXPECT_THROW(json_input::parse(std::string("{\"type\":\"ping\"}\0junk", 21)), json::parse_error);
  EXPECT_FALSE(json_input::accept(std::string("1\0junk", 6)));
}

TEST(JsonInput, NestingIsCappedAtTheConfiguredDepth) {
  CapGuard cap(8);
  EXPECT_NO_THROW(json_input::parse(nested(8)));
  try {
    json_input::parse(nested(9));
    FAIL() << "nine levels passed a cap of eight";
  } catch (const json::parse_error& e) {
    EXPECT_NE(std::string(e.what()).find("limits.json_max_depth"), std::string::npos) << e.what();
  }
  // Objects count as levels too.
  EXPECT_THROW(json_input::parse(R"({"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}})"),
               json::parse_error);
}

TEST(JsonInput, AHundredThousandLevelsAreRefusedWithoutCrashing) {
  const std::string deep = nested(100000);
  EXPECT_THROW(json_input::parse(deep), json::parse_error);
  EXPECT_FALSE(json_input::accept(deep));
  EXPECT_THROW(json_input::parse(R"({"type":"ping","id":)" + deep + "}"), json::parse_error);
}

TEST(JsonInput, AcceptChecksOneValueAndTheDepth) {
  CapGuard cap(8);
  EXPECT_TRUE(json_input::accept(nested(8)));
  EXPECT_FALSE(json_input::accept(nested(9)));
  EXPECT_FALSE(json_input::accept("{broken"));
  EXPECT_FALSE(json_input::accept("1 2"));
  EXPECT_TRUE(json_input::accept(R"({"x":[1,{"y":2}]})"));
}

}  // namespace
