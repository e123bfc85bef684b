// The two readings of a node host's execute_result (protocols/node/execute_result_frame.hpp):
// the typed one takes the usual frames without a DOM and reads them as the DOM's reading does,
// the output kept as the host wrote it; whatever it does not vouch for it leaves to the DOM's
// reading, which answers every refusal.
#include "protocols/node/execute_result_frame.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/json_input.hpp"

namespace vespid::node_hosts {
namespace {

using nlohmann::json;

dispatch::HostResult dom_reading(const std::string& frame) {
  bool bad_status = false;
  std::optional<dispatch::HostResult> r = read_execute_result(json::parse(frame), bad_status);
  EXPECT_TRUE(r.has_value()) << frame;
  EXPECT_FALSE(bad_status) << frame;
  return r.value_or(dispatch::HostResult{});
}

// Taken by the typed reading, and read as the DOM's reading reads it.
void expect_typed_as_dom(const std::string& frame) {
  SCOPED_TRACE(frame);
  std::optional<dispatch::HostResult> typed = read_execute_result(std::string_view(frame));
  ASSERT_TRUE(typed.has_value()) << "the typed reading did not take it";
  dispatch::HostResult dom = dom_reading(frame);
  EXPECT_EQ(typed->request_id, dom.request_id);
  EXPECT_EQ(typed->succeeded, dom.succeeded);
  EXPECT_EQ(typed->error, dom.error);
  EXPECT_EQ(json::parse(typed->text), json::parse(dom.text));
}

TEST(ExecuteResultFrame, TheUsualFramesAreReadTypedAsTheDomReadsThem) {
  expect_typed_as_dom(R"({"type":"execute_result","requestId":"r:n:1","status":"succeeded"})");
  expect_typed_as_dom(
      R"({"type":"execute_result","requestId":"r:n:1","status":"succeeded","output":{"a":[1,2.5,"x"],"b":null}})");
  expect_typed_as_dom(
      R"({"requestId":"r:n:2","status":"failed","error":"boom","type":"execute_result","output":null})");
  expect_typed_as_dom(
      R"({"type":"execute_result","requestId":"caf\u00e9:n:1","status":"failed","error":"line\none \"q\""})");
  expect_typed_as_dom(
      R"({"type":"execute_result","requestId":"r","status":"failed","error":null})");
  expect_typed_as_dom(
      R"( {"type" : "execute_result", "requestId" : "r", "status" : "succeeded", "output" : "text", "extra": {"ignored": true}} )");
  expect_typed_as_dom(
      R"({"type":"execute_result","requestId":"r","status":"succeeded","output":0})");
}

TEST(ExecuteResultFrame, TheOutputIsStoredAsTheHostWroteIt) {
  const std::string output = R"({ "zeta" : [1, 2.50, 1e3, "caf\u00e9"],  "alpha":{"k":null} })";
  const std::string frame =
      R"({"type":"execute_result","requestId":"r","status":"succeeded","output":)" + output + "}";
  std::optional<dispatch::HostResult> r = read_execute_result(std::string_view(frame));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->text, R"({"output":)" + output + R"(,"status":"succeeded"})");
  EXPECT_TRUE(r->succeeded);
  EXPECT_EQ(json::parse(r->text)["output"], json::parse(output));
}

TEST(ExecuteResultFrame, WhatTheTypedReadingDoesNotVouchForIsLeftToTheDom) {
  const char* left[] = {
      R"({"type":"execute_result","requestId":"r","status":"done"})",
      R"({"type":"execute_result","requestId":"r","status":"Succeeded"})",
      R"({"type":"execute_result","requestId":"r"})",
      R"({"type":"execute_result","requestId":"r","status":"failed","error":{"code":7}})",
      R"({"type":"execute_result","requestId":"r","status":"failed","error":42})",
      R"({"type":"execute_result","requestId":"","status":"succeeded"})",
      R"({"type":"execute_result","requestId":7,"status":"succeeded"})",
      R"({"type":"execute_result","status":"succeeded"})",
      R"({"type":"execute_result","requestId":"r","status":"succeeded","status":"failed"})",
      R"({"type":"execute_result","request\u0049d":"r","status":"succeeded"})",
      R"({"type":"execute_resul\u0074","requestId":"r","status":"succeeded"})",
      R"({"type":"execute_event","requestId":"r","status":"succeeded"})",
      R"({"type":"execute_result","requestId":"r","status":"succeeded")",
      R"(["execute_result"])",
  };
  for (const char* frame : left) {
    EXPECT_FALSE(read_execute_result(std::string_view(frame)).has_value()) << frame;
  }
  const std::string long_id(kMaxRequestIdBytes + 1, 'r');
  EXPECT_FALSE(read_execute_result(std::string_view(R"({"type":"execute_result","requestId":")" +
                                                    long_id + R"(","status":"succeeded"})"))
                   .has_value());
}

TEST(ExecuteResultFrame, TheDomReadingAnswersWhatTheTypedOneLeaves) {
  bool bad_status = false;
  auto odd = read_execute_result(
      json::parse(R"({"type":"execute_result","requestId":"r","status":"done"})"), bad_status);
  ASSERT_TRUE(odd.has_value());
  EXPECT_TRUE(bad_status);
  EXPECT_FALSE(odd->succeeded);
  EXPECT_EQ(json::parse(odd->text)["status"], "failed");
  EXPECT_NE(odd->error.find("malformed result"), std::string::npos) << odd->error;

  auto object_error = read_execute_result(
      json::parse(
          R"({"type":"execute_result","requestId":"r","status":"failed","error":{"code":7}})"),
      bad_status);
  ASSERT_TRUE(object_error.has_value());
  EXPECT_FALSE(bad_status);
  EXPECT_EQ(object_error->error, R"({"code":7})") << "kept as the error's JSON text";

  auto repeated = read_execute_result(
      json::parse(
          R"({"type":"execute_result","requestId":"r","status":"succeeded","status":"failed"})"),
      bad_status);
  ASSERT_TRUE(repeated.has_value());
  EXPECT_FALSE(repeated->succeeded) << "the last of two keys wins, as in every DOM reading";

  EXPECT_FALSE(
      read_execute_result(json::parse(R"({"type":"execute_result","status":"failed"})"), bad_status)
          .has_value());
  EXPECT_FALSE(
      read_execute_result(
          json::parse(R"({"type":"execute_result","requestId":7,"status":"failed"})"), bad_status)
          .has_value());
}

TEST(ExecuteResultFrame, AFrameDeeperThanTheCapIsLeftToTheDom) {
  const int cap = core::json_input::max_depth();
  std::string output;
  for (int i = 0; i < cap; ++i) output += "[";
  for (int i = 0; i < cap; ++i) output += "]";
  const std::string frame =
      R"({"type":"execute_result","requestId":"r","status":"succeeded","output":)" + output + "}";
  EXPECT_FALSE(read_execute_result(std::string_view(frame)).has_value());
}

}  // namespace
}  // namespace vespid::node_hosts
