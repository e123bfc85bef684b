// json_write against nlohmann's dump(): the same text for every value, the same refusal (or
// replacement) where a string is not UTF-8.
#include "json_write.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>

namespace vespid::json_write {
namespace {

using nlohmann::json;

std::string nlohmann_text(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST(JsonWrite, EscapesAsDumpDoes) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
  all.push_back('\0');
  const json j = all;
  EXPECT_EQ(dump(j), j.dump());
  std::string out;
  append_string(out, "a\"b\\c\n\x01\x1f\x7f");
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001\u001f)"
                 "\x7f\"");
}

TEST(JsonWrite, EveryEscapeAtEveryPositionAsDumpDoes) {
  // Around the sixteen- and eight-byte blocks of the fast paths: each byte that needs an escape
  // (and neighbours that do not: space, DEL) alone and with a quote nearby, at every
  // position of strings of 1 to 40 bytes.
  const std::string specials = std::string("\"\\\n\x01\x1f \x7f", 7) + std::string(1, '\0');
  for (std::size_t len = 1; len <= 40; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (char c : specials) {
        for (std::size_t second : {at, (at + 9) % len, (at + 17) % len}) {
          std::string text(len, 'a');
          text[at] = c;
          text[second] = '"';
          std::string out = "x";
          append_string(out, text);
          ASSERT_EQ(out.substr(1), json(text).dump()) << len << " " << at << " " << int(c);
        }
      }
    }
  }
}

TEST(JsonWrite, StringsRoundTripThroughAParser) {
  std::string every_control;
  for (int c = 0; c < 0x20; ++c) every_control.push_back(static_cast<char>(c));
  for (const std::string& s :
       {std::string(), std::string("plain"), std::string(R"(say "hi" \ bye)"),
        std::string(R"({"p":"a\nb"})"), every_control, std::string("caf\xc3\xa9 \xe2\x82\xac"),
        std::string("end\\")}) {
    std::string text = "x";  // appends, never overwrites
    append_string(text, s);
    EXPECT_EQ(json::parse(text.substr(1)).get<std::string>(), s) << text;
  }
}

TEST(JsonWrite, NumbersAndShapesAsDumpDoes) {
  const json j = {
      {"min", std::numeric_limits<int64_t>::min()},
      {"max", std::numeric_limits<uint64_t>::max()},
      {"zero", 0},
      {"neg", -17},
      {"floats", {0.1, 1.0, -2.5e-300, 1e100, 3.0, std::numeric_limits<double>::quiet_NaN()}},
      {"empty", json::object()},
      {"none", json::array()},
      {"nested", {{"a", {1, "two", nullptr, true, false}}, {"b", {{"c", json::object()}}}}},
  };
  EXPECT_EQ(dump(j), j.dump());
}

TEST(JsonWrite, InvalidUtf8IsDumpsToHandle) {
  const json bad = {{"ok", "fine"},
                    {"bad", std::string("x\xff"
                                        "y")}};
  std::string out = "kept";
  EXPECT_FALSE(append_value(out, bad));
  EXPECT_EQ(out, "kept") << "a refused value leaves nothing behind";
  EXPECT_EQ(dump(bad, json::error_handler_t::replace), nlohmann_text(bad));
  EXPECT_THROW(dump(bad), json::type_error);
  const json bad_key = {{std::string("k\xc0\xaf"), 1}};
  EXPECT_EQ(dump(bad_key, json::error_handler_t::ignore),
            bad_key.dump(-1, ' ', false, json::error_handler_t::ignore));
}

TEST(JsonWrite, MembersWrittenInNameOrderAreDumpsText) {
  std::string out = "{";
  ASSERT_TRUE(append_string_member(out, "a", "x\"y"));
  ASSERT_TRUE(append_value_member(out, "b", json{{"c", {1, 2}}}));
  EXPECT_FALSE(append_string_member(out, "c", "\xff")) << "not UTF-8";
  EXPECT_FALSE(append_value_member(out, "c", json{{"d", "\xfe"}})) << "not UTF-8 inside";
  ASSERT_TRUE(append_value_member(out, "n", 7));
  out.push_back('}');
  EXPECT_EQ(out, json({{"a", "x\"y"}, {"b", {{"c", {1, 2}}}}, {"n", 7}}).dump())
      << "a refused member leaves nothing behind";
}

TEST(JsonWrite, Utf8RulesAreRfc3629s) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii, longer than eight bytes"));
  EXPECT_TRUE(valid_utf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(valid_utf8("\xc0\x80"));          // overlong
  EXPECT_FALSE(valid_utf8("abcdefgh\xe2\x82"));  // cut short after a word of ASCII
  EXPECT_FALSE(valid_utf8("\x80"));              // a lone continuation byte
}

// Random values, strings of random bytes (valid or not): the same text as dump() every time,
// and valid_utf8 agrees with whether dump() would throw.
TEST(JsonWrite, RandomValuesMatchDump) {
  std::mt19937_64 rng(20261205);
  auto random_string = [&] {
    std::string s;
    const int n = static_cast<int>(rng() % 40);  // several eight-byte words
    for (int i = 0; i < n; ++i) {
      switch (rng() % 6) {
        case 0:
          s.push_back(static_cast<char>(rng() % 0x20));
          break;
        case 1:
          s.push_back(static_cast<char>(rng() % 256));
          break;
        case 2:
          s += "\xc3\xa9";
          break;
        case 3:
          s += "\xf0\x9f\x98\x80";
          break;
        default:
          s.push_back(static_cast<char>(0x20 + rng() % 0x5f));
      }
    }
    return s;
  };
  std::function<json(int)> random_value = [&](int depth) -> json {
    switch (rng() % (depth > 3 ? 6 : 8)) {
      case 0:
        return nullptr;
      case 1:
        return rng() % 2 == 0;
      case 2:
        return static_cast<int64_t>(rng());
      case 3:
        return static_cast<uint64_t>(rng());
      case 4:
        return std::ldexp(static_cast<double>(rng() % 100000) - 50000,
                          static_cast<int>(rng() % 200) - 100);
      case 5:
        return random_string();
      case 6: {
        json a = json::array();
        for (int i = static_cast<int>(rng() % 5); i > 0; --i) a.push_back(random_value(depth + 1));
        return a;
      }
      default: {
        json o = json::object();
        for (int i = static_cast<int>(rng() % 5); i > 0; --i)
          o[random_string()] = random_value(depth + 1);
        return o;
      }
    }
  };
  int invalid = 0;
  for (int i = 0; i < 20000; ++i) {
    const json j = random_value(0);
    ASSERT_EQ(dump(j, json::error_handler_t::replace), nlohmann_text(j)) << "value " << i;
    bool dump_throws = false;
    try {
      (void)j.dump();
    } catch (const json::type_error&) {
      dump_throws = true;
    }
    std::string out;
    ASSERT_EQ(append_value(out, j), !dump_throws) << "value " << i;
    if (dump_throws) ++invalid;
  }
  EXPECT_GT(invalid, 1000) << "the random strings should often be invalid UTF-8";
  EXPECT_LT(invalid, 19000) << "and often valid";
}

}  // namespace
}  // namespace vespid::json_write
