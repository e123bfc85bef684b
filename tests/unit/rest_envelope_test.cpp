// The rest.v1 envelopes read and written as text must be what the DOM reading and dump() give:
// the same request fields in, the same response text out.
#include "protocols/rest/rest_envelope.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "protocols/rest/rest_response.hpp"

namespace vespid::core {
namespace {

using nlohmann::json;

TEST(RestEnvelope, TypedReadingGivesWhatTheDomGives) {
  const json envelopes[] = {
      {{"method", "POST"},
       {"path", "/internal/v1/dispatch-async"},
       {"query", ""},
       {"headers", {{"content-type", "application/json"}, {"x-gateway-token", "t"}}},
       {"body", R"({"runId":"r","payload":{"p":"a\"b\\c\nd é €"}})"}},
      {{"method", "GET"}, {"path", "/v1/sessions/a%3Ab"}, {"query", "waitMs=5&x=\u00e9"}},
      {{"method", "GET"}, {"path", "/healthz"}, {"headers", json::object()}, {"body", ""}},
  };
  for (const json& env : envelopes) {
    // dump() escapes only what it must; a hand-written envelope with \u escapes reads the same.
    for (const std::string& text :
         {env.dump(), env.dump(-1, ' ', true), std::string(" \n") + env.dump(2) + " "}) {
      RestRequest req;
      ASSERT_TRUE(read_envelope_typed(text, req)) << text;
      EXPECT_EQ(req.method, env["method"].get<std::string>());
      EXPECT_EQ(req.path, env["path"].get<std::string>());
      EXPECT_EQ(req.query, env.value("query", ""));
      EXPECT_EQ(req.body(), env.value("body", ""));
      EXPECT_EQ(req.headers.to_object(), env.value("headers", json::object()));
    }
  }
}

// Headers are read into a list of pairs: from the scan when it can read the object, from a DOM
// when it cannot (more than 16 members, a repeated or escaped name), the same pairs either way.
TEST(RestEnvelope, HeadersAreTheObjectsStringMembersHoweverTheyAreRead) {
  json many = json::object();
  for (int i = 0; i < 20; ++i) many["x-h" + std::to_string(100 + i)] = "v" + std::to_string(i);
  const std::string texts[] = {
      R"({"method":"GET","path":"/a","headers":{"host":"h:1","x-n":5,"cookie":"a=1; b=2"}})",
      json{{"method", "GET"}, {"path", "/a"}, {"headers", many}}.dump(),
      R"({"method":"GET","path":"/a","headers":{"host":"first","host":"last","x-a":"1"}})",
      R"({"method":"GET","path":"/a","headers":{"host":"h","x-a":["1"]}})",
  };
  for (const std::string& text : texts) {
    RestRequest req;
    ASSERT_TRUE(read_envelope_typed(text, req)) << text;
    const json dom = json::parse(text)["headers"];
    std::size_t strings = 0;
    for (const auto& [name, value] : dom.items()) {
      if (!value.is_string()) {
        EXPECT_EQ(req.headers.find(name), nullptr) << name << " is not a header value";
        continue;
      }
      ++strings;
      ASSERT_NE(req.headers.find(name), nullptr) << name << " in " << text;
      EXPECT_EQ(*req.headers.find(name), value.get<std::string>()) << name;
    }
    EXPECT_EQ(req.headers.size(), strings) << text;
  }
  RestRequest last;
  ASSERT_TRUE(read_envelope_typed(texts[2], last));
  EXPECT_EQ(*last.headers.find("host"), "last") << "of a repeated name the last value holds";
}

TEST(RestEnvelope, ShapesTheScanDoesNotVouchForGoToTheDom) {
  for (const char* text : {
           R"({"method":"GET","path":"/a","pat\u0068":"/b"})",       // an escaped key
           R"({"method":"GET","path":"/a","path":"/b"})",            // a repeated key
           R"({"method":1,"path":"/a"})",                            // a method that is no string
           R"({"path":"/a"})",                                       // no method
           R"({"method":"GET","path":"/a","query":null})",           // value() throws on null
           R"({"method":"GET","path":"/a","headers":"x"})",          // headers not an object
           R"({"method":"GET","path":"/a","body":{"x":1}})",         // a body that is no string
           R"(["GET","/a"])", R"({"method":"GET","path":"/a")", "",  // not an object; cut short
       }) {
    RestRequest req;
    EXPECT_FALSE(read_envelope_typed(text, req)) << text;
  }
}

// A transport that sets VSP_CONN_REST_RAW_BODY writes the envelope's head, a newline, then the
// body's bytes: the body arrives exactly as sent, newlines, quotes and backslashes included.
TEST(RestEnvelope, ARawBodyFollowsTheFirstNewlineUnchanged) {
  const std::string body =
      "{\n  \"runId\": \"r\",\n  \"payload\": {\"p\": \"a\\\"b\\\\c \u00e9\"}\n}\n";
  const std::string heads[] = {
      R"({"headers":{"content-type":"application/json"},"method":"POST","path":"/a","query":"x=1"})",
      // A head the scan does not vouch for (an escaped key) is read with the DOM, as a whole
      // envelope would be.
      R"({"headers":{"content-type":"application/json"},"m\u0065thod":"POST","path":"/a","query":"x=1"})",
  };
  for (const std::string& head : heads) {
    std::string message = head + "\n" + body;
    RestRequest req;
    std::string problem;
    ASSERT_TRUE(read_request(message, true, req, problem)) << head << ": " << problem;
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.path, "/a");
    EXPECT_EQ(req.query, "x=1");
    EXPECT_EQ(req.body(), body);
    ASSERT_NE(req.headers.find("content-type"), nullptr);
    EXPECT_EQ(*req.headers.find("content-type"), "application/json");
    // The message is the request's, kept whole: no move of the body to the front.
    EXPECT_EQ(req.body_bytes.substr(0, head.size()), head);
    const std::string taken = std::move(req.body_bytes);  // as a dispatch route takes it
    EXPECT_EQ(taken.substr(req.body_at), body);
    EXPECT_TRUE(req.body().empty()) << "a body taken away reads as none";
  }
  std::string empty_body = R"({"method":"GET","path":"/healthz"})"
                           "\n";
  RestRequest req;
  std::string problem;
  ASSERT_TRUE(read_request(empty_body, true, req, problem)) << problem;
  EXPECT_EQ(req.body(), "");
}

TEST(RestEnvelope, ARawBodyMessageOfAnotherShapeIsRefusedWithItsReason) {
  const struct {
    std::string message;
    std::string reason;
  } cases[] = {
      {R"({"method":"GET","path":"/a"})", "no newline between the envelope and the body"},
      {R"({"body":"x","method":"POST","path":"/a"})"
       "\n{}",
       "a \"body\" member"},
      // Even an empty one, or one in a head the DOM reads (an escaped key elsewhere).
      {R"({"body":"","method":"POST","path":"/a"})"
       "\n{}",
       "a \"body\" member"},
      {R"({"body":"","m\u0065thod":"POST","path":"/a"})"
       "\n{}",
       "a \"body\" member"},
      {R"({"method":"POST","path":"/a"})"
       "\n" +
           std::string("{\"p\":\"\xff\"}"),
       "the request body is not UTF-8 text"},
      {"{\"method\":\"POST\",\n\"path\":\"/a\"}\n{}", "malformed rest.v1 envelope"},
      {"\n{}", "malformed rest.v1 envelope"},
  };
  for (const auto& c : cases) {
    std::string message = c.message;
    RestRequest req;
    std::string problem;
    EXPECT_FALSE(read_request(message, true, req, problem)) << c.message;
    EXPECT_NE(problem.find(c.reason), std::string::npos) << c.message << ": " << problem;
  }
  // The same bytes on a connection without the flag are one envelope, which this is not.
  std::string whole = R"({"method":"POST","path":"/a"})"
                      "\n{}";
  RestRequest req;
  std::string problem;
  EXPECT_FALSE(read_request(whole, false, req, problem));
  EXPECT_NE(problem.find("malformed rest.v1 envelope"), std::string::npos) << problem;
}

std::string dom_envelope(const RestResponse& r) {
  json headers = {{"content-type", r.content_type}, {"cache-control", "no-store"}};
  json given = json::object();
  for (const auto& [name, value] : r.headers) {
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!given.contains(lower)) {
      given[lower] = value;
    } else {
      if (!given[lower].is_array()) given[lower] = json::array({given[lower]});
      given[lower].push_back(value);
    }
  }
  for (auto& [name, value] : given.items()) headers[name] = value;
  const std::string body =
      r.raw_body ? *r.raw_body : r.body.dump(-1, ' ', false, json::error_handler_t::replace);
  return json{{"status", r.status}, {"headers", headers}, {"body", body}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

TEST(RestEnvelope, ResponseTextIsWhatDumpWrites) {
  RestResponse plain{201, {{"requestId", "r:n:1"}, {"dispatched", true}}};
  RestResponse cookies{200, {{"ok", true}}};
  cookies.headers = {{"Set-Cookie", "a=1"}, {"set-cookie", "b=2"}, {"Cache-Control", "max-age=5"}};
  RestResponse raw{200, nullptr};
  raw.raw_body = "# HELP x\nx 1\n";
  raw.content_type = "text/plain; version=0.0.4";
  RestResponse not_utf8{200, nullptr};
  not_utf8.raw_body = std::string("bad \xff byte");
  RestResponse escapes{400, {{"code", "BAD_REQUEST"}, {"message", "a \"quoted\" \\ \x01 name"}}};
  for (const RestResponse* r : {&plain, &cookies, &raw, &not_utf8, &escapes}) {
    std::string problem;
    EXPECT_EQ(rest_response_envelope(*r, &problem), dom_envelope(*r));
    EXPECT_EQ(problem, "");
  }
}

// For a transport that takes them (VSP_CONN_REST_JSON_BODY), a JSON body goes in as the value
// it is, its text exactly what dump() writes; a raw body stays a string.
TEST(RestEnvelope, JsonBodyAsValueWhereTheTransportTakesIt) {
  RestResponse plain{201, {{"requestId", "r:n:1"}, {"text", "a \"q\" \u00e9 \x01"}}};
  std::string problem;
  const json env = json::parse(rest_response_envelope(plain, &problem, true));
  EXPECT_EQ(problem, "");
  ASSERT_TRUE(env["body"].is_object());
  EXPECT_EQ(env["body"], plain.body);
  EXPECT_EQ(env["status"], 201);
  EXPECT_EQ(env["headers"]["content-type"], "application/json");
  const std::string text = rest_response_envelope(plain, nullptr, true);
  EXPECT_NE(text.find(R"("body":)" + plain.body.dump()), std::string::npos) << text;

  RestResponse raw{200, nullptr};
  raw.raw_body = "# HELP x\nx 1\n";
  raw.content_type = "text/plain; version=0.0.4";
  EXPECT_EQ(rest_response_envelope(raw, nullptr, true), dom_envelope(raw));
  RestResponse not_utf8{200, nullptr};
  not_utf8.raw_body = std::string("bad \xff byte");
  EXPECT_EQ(rest_response_envelope(not_utf8, nullptr, true), dom_envelope(not_utf8));
  // A JSON string, null or number stays a string holding its text: "\"ok\"" is not "ok", and
  // "null" is not an empty body.
  for (const json& scalar : {json("ok"), json(nullptr), json(5), json(true)}) {
    RestResponse r{200, scalar};
    EXPECT_EQ(rest_response_envelope(r, nullptr, true), dom_envelope(r)) << scalar.dump();
  }
}

}  // namespace
}  // namespace vespid::core
