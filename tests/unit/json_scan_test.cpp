// The DOM-free reading of the hot frames must never take a text the DOM parser refuses, and must
// read the same values from what it takes: a frame it takes skips every check the DOM path makes.
#include "json_scan.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "protocols/bridge/invoke_res_view.hpp"
#include "protocols/operator/request_view.hpp"
#include "runtime/json_input.hpp"

namespace js = vespid::json_scan;
using vespid::core::view_invoke_res;
using vespid::core::view_request;

namespace {

bool dom_accepts(std::string_view text) {
  return vespid::core::json_input::accept(text);
}

std::string unescaped(std::string_view raw_string) {
  std::string out;
  js::append_unescaped(out, raw_string.substr(1, raw_string.size() - 2));
  return out;
}

}  // namespace

TEST(JsonScan, MembersAreSpansOfTheTextWithTheirKinds) {
  const std::string text =
      R"( {"type":"req", "id":7,"n":-1.5e3,"o":{"a":[1,2]},"t":true,"f":false,"z":null,"s":"a\nb"} )";
  auto obj = js::scan_object(text, 64);
  ASSERT_TRUE(obj);
  EXPECT_EQ(obj->size(), 8u);
  EXPECT_EQ(obj->find("type")->plain_string(), "req");
  EXPECT_EQ(obj->find("id")->int64(), 7);
  EXPECT_FALSE(obj->find("n")->integer);
  EXPECT_EQ(obj->find("n")->int64(), std::nullopt);
  EXPECT_EQ(obj->find("o")->kind, js::Kind::Object);
  EXPECT_EQ(obj->find("o")->raw, R"({"a":[1,2]})");
  EXPECT_EQ(obj->find("t")->kind, js::Kind::True);
  EXPECT_EQ(obj->find("f")->kind, js::Kind::False);
  EXPECT_EQ(obj->find("z")->kind, js::Kind::Null);
  EXPECT_TRUE(obj->find("s")->escaped);
  EXPECT_EQ(obj->find("s")->plain_string(), std::nullopt);
  std::string value = "old";
  EXPECT_TRUE(obj->find("s")->string_value(value)) << "escaped strings have a value too";
  EXPECT_EQ(value, nlohmann::json::parse(std::string(obj->find("s")->raw)).get<std::string>());
  EXPECT_TRUE(obj->find("type")->string_value(value));
  EXPECT_EQ(value, "req");
  EXPECT_FALSE(obj->find("n")->string_value(value)) << "a number is no string";
  EXPECT_EQ(value, "req") << "and leaves the value as it was";
  EXPECT_EQ(unescaped(obj->find("s")->raw), "a\nb");
  EXPECT_EQ(obj->find("missing"), nullptr);
  EXPECT_FALSE(obj->has_escaped_key());
  EXPECT_FALSE(obj->has_duplicate_key());
}

TEST(JsonScan, EscapedAndRepeatedKeysAreFlaggedForTheDomPath) {
  auto escaped = js::scan_object(R"({"n\u006fde":"a"})", 64);
  ASSERT_TRUE(escaped);
  EXPECT_TRUE(escaped->has_escaped_key());
  auto twice = js::scan_object(R"({"node":"a","node":"b"})", 64);
  ASSERT_TRUE(twice);
  EXPECT_TRUE(twice->has_duplicate_key());
}

TEST(JsonScan, RefusesWhatTheDomParserRefuses) {
  const std::vector<std::string> bad = {
      "",
      "{",
      "{}x",
      "{\"a\":1,}",
      "{\"a\" 1}",
      "{'a':1}",
      "{\"a\":01}",
      "{\"a\":1.}",
      "{\"a\":1e}",
      "{\"a\":-}",
      "{\"a\":1e400}",
      "{\"a\":tru}",
      "{\"a\":\"\\x\"}",
      "{\"a\":\"\\u12\"}",
      "{\"a\":\"\\ud800\"}",         // a high surrogate alone
      "{\"a\":\"\\udc00\"}",         // a low surrogate alone
      "{\"a\":\"\\ud800\\u0041\"}",  // a high surrogate followed by no low one
      std::string("{\"a\":\"\x01\"}"),
      std::string("{\"a\":\"\xc0\x80\"}", 8),       // overlong
      std::string("{\"a\":\"\xed\xa0\x80\"}"),      // a surrogate in UTF-8
      std::string("{\"a\":\"\xf4\x90\x80\x80\"}"),  // past U+10FFFF
      std::string("{\"a\":\"\xe2\x82\"}"),          // cut short
      std::string("{\"a\":1}\0x", 9),
  };
  for (const std::string& text : bad) {
    EXPECT_FALSE(js::scan_object(text, 64)) << text;
    EXPECT_FALSE(js::is_value(text, 64)) << text;
    EXPECT_FALSE(dom_accepts(text)) << "the test's premise: " << text;
  }
}

TEST(JsonScan, DepthIsCappedAsTheDomParserCapsIt) {
  std::string deep = "{\"a\":" + std::string(63, '[') + std::string(63, ']') + "}";  // 64 levels
  EXPECT_TRUE(js::scan_object(deep, 64));
  EXPECT_FALSE(js::scan_object(deep, 63));
  std::string deeper = "{\"a\":" + std::string(64, '[') + std::string(64, ']') + "}";
  EXPECT_FALSE(js::scan_object(deeper, 64));
  EXPECT_FALSE(dom_accepts(deeper));
}

TEST(JsonScan, UnescapingGivesTheDomParsersString) {
  for (std::string raw : {R"("plain")", R"("a\"b\\c\/d\b\f\n\r\t")", R"("\u00e9\u20ac")",
                          R"("\ud83d\ude00 and \u0000 too")", R"("caf\u00E9")"}) {
    const std::string text = "{\"k\":" + raw + "}";  // named: the scan's spans point into it
    auto v = js::scan_object(text, 64);
    ASSERT_TRUE(v) << raw;
    EXPECT_EQ(unescaped(v->find("k")->raw), nlohmann::json::parse(raw).get<std::string>()) << raw;
  }
}

// Random edits of valid frames: whatever the scan takes, the DOM parser takes too, with the
// same members.
TEST(JsonScan, BuildsTheDomNlohmannBuildsWithTheSameNumberTypes) {
  // dump() tells 1 from 1.0 and an unsigned from a signed integer, which == does not.
  const std::vector<std::string> texts = {"0",
                                          "-0",
                                          "-0.0",
                                          "1.0",
                                          "1e5",
                                          "1E+2",
                                          "-1e-2",
                                          "18446744073709551615",
                                          "18446744073709551616",
                                          "9223372036854775807",
                                          "9223372036854775808",
                                          "-9223372036854775808",
                                          "-9223372036854775809",
                                          "123456789012345678901234567890",
                                          "1.5e-300",
                                          "0.1",
                                          "true",
                                          "false",
                                          "null",
                                          R"("")",
                                          R"("a\"b\\c\/d\b\f\n\r\t")",
                                          R"("\u00e9\ud83d\ude00\u0000")",
                                          "\"h\xc3\xa9llo\"",
                                          R"({"a":1,"a":2})",
                                          R"({"b":[1,{"c":null}],"a":{}})",
                                          R"([[],[[]],{}])",
                                          " \t\r\n[1 , 2]\n ",
                                          R"({"k\u0041":"v"})"};
  for (const std::string& text : texts) {
    nlohmann::json built;
    ASSERT_TRUE(js::build_dom(text, 64, built)) << text;
    EXPECT_EQ(built.dump(), nlohmann::json::parse(text).dump()) << text;
  }
  nlohmann::json untouched = 7;
  for (const char* refused : {"1e400", "[1,]", "{\"a\" 1}", "\"\\ud800\"", "01", "[[[1]]]"}) {
    EXPECT_FALSE(js::build_dom(refused, 2, untouched)) << refused;
    EXPECT_EQ(untouched, 7);
  }
  EXPECT_TRUE(js::build_dom("[[1]]", 2, untouched));
}

TEST(JsonScan, LongStringsAreCheckedAtEveryByteWhateverItsPlaceInAWord) {
  // Plain runs are skipped eight bytes at a time: a byte that must stop the scan (the closing
  // quote, a backslash, a control character, the start of a UTF-8 sequence, a stray byte) has to
  // be seen at every offset of a word and in the tail shorter than a word. Each case puts one
  // such byte (or sequence) at every position of a 41-byte run and asks the DOM parser too.
  const std::vector<std::string> specials = {
      "\\\"", "\\n",      "\\u00e9",      "\\ud83d\\ude00",   "\x01", "\x1f", "\"",
      "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xc3", "\xed\xa0\x80",
      "\\x"};
  for (const std::string& special : specials) {
    for (std::size_t at = 0; at <= 41; ++at) {
      std::string inner(41, 'a');
      inner.insert(at, special);
      for (const std::string& text : {"\"" + inner + "\"", "{\"k\":\"" + inner + "\",\"n\":1}"}) {
        const bool dom = dom_accepts(text);
        EXPECT_EQ(js::is_value(text, 64), dom) << "at " << at << ": " << text;
        if (!dom) continue;
        const nlohmann::json v = vespid::core::json_input::parse(text);
        if (v.is_string()) {
          EXPECT_EQ(unescaped(text), v.get<std::string>()) << text;
        } else {
          const auto obj = js::scan_object(text, 64);
          ASSERT_TRUE(obj.has_value()) << text;
          ASSERT_NE(obj->find("k"), nullptr) << text;
          EXPECT_EQ(unescaped(obj->find("k")->raw), v.at("k").get<std::string>()) << text;
          EXPECT_EQ(obj->find("n")->raw, "1") << text;
        }
      }
    }
  }
}

TEST(JsonScan, NeverTakesWhatTheDomParserRefusesUnderRandomEdits) {
  const std::vector<std::string> seeds = {
      R"({"type":"req","id":"r-1","method":"nodes.invoke","params":{"node":"n1","command":"echo","params":{"text":"héllo","n":[1,2.5,-3e2,true,null]},"timeoutMs":5000}})",
      R"({"type":"invoke-res","id":"inv-9","ok":true,"payloadJSON":"{\"a\":\"\\u00e9\\ud83d\\ude00\"}"})",
  };
  const std::string alphabet = "{}[]\",:\\u0123456789abcdefnrtlsE.-+ \x01\x7f\xc3\xa9\xed\xf4";
  std::mt19937 rng(20261205);
  int taken = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = seeds[round % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % (text.size() + 1);
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        case 1:
          if (at < text.size()) text.erase(at, 1);
          break;
        default:
          if (at < text.size()) text[at] = c;
      }
    }
    if (js::is_value(text, 64)) {
      EXPECT_TRUE(dom_accepts(text)) << text;
    }
    nlohmann::json built;
    if (js::build_dom(text, 64, built)) {
      EXPECT_TRUE(js::is_value(text, 64)) << text;
      EXPECT_EQ(built.dump(), nlohmann::json::parse(text).dump()) << text;
    }
    auto obj = js::scan_object(text, 64);
    if (!obj) continue;
    EXPECT_TRUE(js::is_value(text, 64)) << text;
    ++taken;
    ASSERT_TRUE(dom_accepts(text)) << text;
    const nlohmann::json dom = vespid::core::json_input::parse(text);
    ASSERT_TRUE(dom.is_object()) << text;
    if (obj->has_escaped_key() || obj->has_duplicate_key()) continue;
    EXPECT_EQ(dom.size(), obj->size()) << text;
    for (std::size_t i = 0; i < obj->size(); ++i) {
      const js::Member& m = (*obj)[i];
      const nlohmann::json& v = dom.at(std::string(m.key));
      EXPECT_EQ(nlohmann::json::parse(m.value.raw), v) << text;
      if (m.value.kind == js::Kind::String) {
        EXPECT_EQ(unescaped(m.value.raw), v.get<std::string>()) << text;
      }
      if (auto n = m.value.int64()) {
        EXPECT_EQ(v.get<int64_t>(), *n) << text;
      }
    }
  }
  EXPECT_GT(taken, 100);  // the edits leave many frames valid: the property was exercised
}

TEST(RequestView, ReadsThePlainShapeOnly) {
  auto req = view_request(
      R"({"type":"req","id":"a1","method":"nodes.invoke","params":{"node":"n","command":"c"}})",
      64);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->id(), "a1");
  EXPECT_EQ(req->id_json(), R"("a1")");
  EXPECT_EQ(req->method, "nodes.invoke");
  EXPECT_EQ(req->params, R"({"node":"n","command":"c"})");
  // The params' members come from the same pass, as spans of the frame.
  ASSERT_EQ(req->params_members.size(), 2u);
  ASSERT_NE(req->params_members.find("command"), nullptr);
  EXPECT_EQ(req->params_members.find("command")->plain_string(), "c");
  EXPECT_EQ(req->params_members[0].key, "node");

  auto numbered = view_request(R"({"type":"req","id":-12,"method":"m"})", 64);
  ASSERT_TRUE(numbered);
  EXPECT_EQ(numbered->id(), -12);
  EXPECT_EQ(numbered->id_json(), "-12");
  EXPECT_EQ(numbered->params, "{}");
  EXPECT_EQ(numbered->params_members.size(), 0u);

  // Everything else is the DOM path's to answer.
  for (const char* other : {
           R"({"type":"req","id":1.5,"method":"m"})",
           R"({"type":"req","id":99999999999999999999,"method":"m"})",
           R"({"type":"req","id":"\u0061","method":"m"})",
           R"({"type":"req","id":"a","method":"m","params":[1]})",
           R"({"type":"req","id":"a","method":"m","method":"n"})",
           R"({"type":"event","id":"a","method":"m"})",
           R"({"type":"req","method":"m"})",
           R"({"type":"req","id":"a","m\u0065thod":"m"})",
       }) {
    EXPECT_FALSE(view_request(other, 64)) << other;
  }
}

// scan_object's second form reads one member's object in the same pass, at its depth: nested
// objects below it are checked but not read, a second object under the same key replaces the
// first (and the duplicate is flagged), and the depth cap counts it as the scan of it alone would.
TEST(JsonScan, AnInnerObjectsMembersAreReadInTheSamePass) {
  js::Object inner;
  auto outer = js::scan_object(R"({"a":1,"p":{"x":{"deep":[1]},"y":"z"},"b":2})", 64, "p", inner);
  ASSERT_TRUE(outer);
  EXPECT_EQ(outer->size(), 3u);
  EXPECT_EQ(outer->find("p")->kind, js::Kind::Object);
  EXPECT_EQ(outer->find("p")->raw, R"({"x":{"deep":[1]},"y":"z"})");
  ASSERT_EQ(inner.size(), 2u);
  EXPECT_EQ(inner.find("x")->raw, R"({"deep":[1]})");
  EXPECT_EQ(inner.find("y")->plain_string(), "z");

  auto twice = js::scan_object(R"({"p":{"old":1},"p":{"new":2}})", 64, "p", inner);
  ASSERT_TRUE(twice);
  EXPECT_TRUE(twice->has_duplicate_key());
  EXPECT_EQ(inner.size(), 1u);
  EXPECT_NE(inner.find("new"), nullptr);

  auto not_object = js::scan_object(R"({"p":[1,2]})", 64, "p", inner);
  ASSERT_TRUE(not_object);
  EXPECT_EQ(inner.size(), 0u) << "a member that is not an object leaves the inner one empty";

  // Depth: {"p":{"q":[]}} is three levels deep.
  EXPECT_TRUE(js::scan_object(R"({"p":{"q":[]}})", 3, "p", inner));
  EXPECT_FALSE(js::scan_object(R"({"p":{"q":[]}})", 2, "p", inner));
  EXPECT_FALSE(js::scan_object(R"({"p":{"q":[]}})", 2));
  EXPECT_FALSE(js::scan_object(R"({"p":{"q":1)", 64, "p", inner)) << "unterminated";
}

TEST(InvokeResView, ReadsAPlainSuccessAndLeavesTheRestToTheDomPath) {
  auto res = view_invoke_res(
      R"({"type":"invoke-res","id":"inv-1","ok":true,"payloadJSON":"{\"a\":1}"})", 64);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->id, "inv-1");
  EXPECT_EQ(res->payload_json, R"({"a":1})");

  auto none = view_invoke_res(R"({"type":"invoke-res","id":"inv-2","ok":true})", 64);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->payload_json, "{}");

  for (const char* other : {
           R"({"type":"invoke-res","id":"inv-1","ok":false,"error":{"code":"X"}})",
           R"({"type":"invoke-res","id":"inv-1","ok":"yes","payloadJSON":"1"})",
           R"({"type":"invoke-res","id":7,"ok":true,"payloadJSON":"1"})",
           R"({"type":"invoke-res","id":"inv-1","ok":true,"payloadJSON":"{\n}"})",
           R"({"type":"invoke-res","id":"inv-1","ok":true,"payloadJSON":"{bad"})",
           R"({"type":"invoke-res","id":"inv-1","ok":true,"payloadJSON":{"a":1}})",
       }) {
    EXPECT_FALSE(view_invoke_res(other, 64)) << other;
  }
}
