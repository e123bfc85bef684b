// The two readings of a dispatch-async body (services/dispatch/dispatch_request.hpp): the typed
// one takes the usual bodies without a DOM, and whatever it takes it reads as the DOM's reading
// does; whatever the DOM's reading refuses, it leaves to that reading (and its error).
#include "services/dispatch/dispatch_request.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/api_error.hpp"

namespace vespid::dispatch {
namespace {

using nlohmann::json;

json valid_body() {
  return {{"organizationId", "6F1C2B7E-8D4A-4B1E-9A53-2F7F0C1D9E88"},
          {"requestedByUserId", "0a9b8c7d-6e5f-4a3b-8c1d-0e9f8a7b6c5d"},
          {"runId", "b3c4d5e6-f708-4192-a3b4-c5d6e7f80912"},
          {"workflowId", "4e2d9c1a-7b3f-4d8e-b6a5-1c0f9e8d7a62"},
          {"nodeId", "summarise"},
          {"nodeType", "connector.action"},
          {"attemptCount", 2},
          {"kind", "connector.action"},
          {"payload", {{"connectorId", "github"}, {"actionId", "issue.create"}, {"n", 1}}}};
}

void expect_same(const DispatchRequest& a, const DispatchRequest& b) {
  EXPECT_EQ(a.organization_id, b.organization_id);
  EXPECT_EQ(a.requested_by_user_id, b.requested_by_user_id);
  EXPECT_EQ(a.run_id, b.run_id);
  EXPECT_EQ(a.workflow_id, b.workflow_id);
  EXPECT_EQ(a.node_id, b.node_id);
  EXPECT_EQ(a.node_type, b.node_type);
  EXPECT_EQ(a.attempt_count, b.attempt_count);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.connector_id, b.connector_id);
  EXPECT_EQ(a.selector.tag, b.selector.tag);
  EXPECT_EQ(a.selector.group, b.selector.group);
  EXPECT_EQ(a.selector.agent_id, b.selector.agent_id);
  EXPECT_EQ(a.secret, b.secret);
  EXPECT_EQ(a.timeout_ms, b.timeout_ms);
  ASSERT_EQ(a.payload().empty(), b.payload().empty());
  if (!a.payload().empty()) {
    EXPECT_EQ(json::parse(a.payload()), json::parse(b.payload()));
  }
}

// Either reading's answer for `text`: the typed one must agree with the DOM's wherever it
// answers, and must leave alone everything the DOM's refuses.
void check_agreement(const std::string& text, const RequestLimits& limits = {}) {
  SCOPED_TRACE(text);
  std::optional<DispatchRequest> typed = read_dispatch_request(text, limits);
  std::optional<DispatchRequest> dom;
  try {
    dom = parse_dispatch_request(json::parse(text), limits);
  } catch (const api::ApiError&) {
  } catch (const json::exception&) {
  }
  if (!dom) {
    EXPECT_FALSE(typed.has_value()) << "the typed reading took what the DOM's refuses";
    return;
  }
  if (typed) {
    expect_same(*typed, *dom);
  }
}

TEST(DispatchRequest, TheUsualBodyIsReadWithoutADomAndItsPayloadKeptAsSent) {
  const std::string text =
      R"({"organizationId":"6F1C2B7E-8D4A-4B1E-9A53-2F7F0C1D9E88",)"
      R"("requestedByUserId":"0a9b8c7d-6e5f-4a3b-8c1d-0e9f8a7b6c5d",)"
      R"("runId":"b3c4d5e6-f708-4192-a3b4-c5d6e7f80912",)"
      R"("workflowId":"4e2d9c1a-7b3f-4d8e-b6a5-1c0f9e8d7a62","nodeId":"n\u00e9","nodeType":"t",)"
      R"("attemptCount":3,"kind":"connector.action",)"
      R"("payload": { "z":1, "connectorId":"git\"hub", "actionId":"a" },)"
      R"("selectorTag":"flat","executorSelector":{"tag":"gpu","agentId":)"
      R"("4E2D9C1A-7B3F-4D8E-B6A5-1C0F9E8D7A62"},"secret":"s","timeoutMs":5000})";
  std::optional<DispatchRequest> r = read_dispatch_request(text, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->organization_id, "6f1c2b7e-8d4a-4b1e-9a53-2f7f0c1d9e88") << "lower case";
  EXPECT_EQ(r->node_id, "n\u00e9");
  EXPECT_EQ(r->payload(), R"({ "z":1, "connectorId":"git\"hub", "actionId":"a" })");
  EXPECT_EQ(r->connector_id, "git\"hub");
  EXPECT_EQ(r->selector.tag, "gpu") << "the object wins over the flat field";
  EXPECT_EQ(r->selector.agent_id, "4e2d9c1a-7b3f-4d8e-b6a5-1c0f9e8d7a62");
  EXPECT_EQ(r->secret, "s");
  EXPECT_EQ(r->timeout_ms, 5000);
  EXPECT_EQ(r->request_id(), "b3c4d5e6-f708-4192-a3b4-c5d6e7f80912:n\u00e9:3");
  check_agreement(text);
}

TEST(DispatchRequest, EveryFieldsRefusalIsLeftToTheDomReading) {
  const json bad_values[] = {nullptr,
                             1,
                             1.5,
                             -1,
                             0,
                             1001,
                             "",
                             "x",
                             "a:b",
                             true,
                             json::object(),
                             json::array(),
                             std::string(300, 'x'),
                             "6f1c2b7e-8d4a-4b1e-9a53-2f7f0c1d9e88",
                             "agent.run"};
  const char* fields[] = {"organizationId",
                          "requestedByUserId",
                          "runId",
                          "workflowId",
                          "nodeId",
                          "nodeType",
                          "attemptCount",
                          "kind",
                          "payload",
                          "selectorTag",
                          "selectorGroup",
                          "selectorAgentId",
                          "executorSelector",
                          "secret",
                          "timeoutMs"};
  int typed_taken = 0;
  for (const char* field : fields) {
    json without = valid_body();
    without.erase(field);
    check_agreement(without.dump());
    for (const json& v : bad_values) {
      json body = valid_body();
      body[field] = v;
      check_agreement(body.dump());
      if (read_dispatch_request(body.dump(), {})) ++typed_taken;
    }
  }
  EXPECT_GT(typed_taken, 10)
      << "some of the variations are valid, and the typed reading takes them";
}

TEST(DispatchRequest, NestedFieldsAgree) {
  const json selectors[] = {{{"tag", "t"}},
                            {{"group", "g"}, {"tag", nullptr}},
                            {{"agentId", "not-a-uuid"}},
                            {{"agentId", "4E2D9C1A-7B3F-4D8E-B6A5-1C0F9E8D7A62"}},
                            {{"tag", 5}},
                            {{"tag", std::string(129, 't')}}};
  for (const json& sel : selectors) {
    json body = valid_body();
    body["executorSelector"] = sel;
    check_agreement(body.dump());
  }
  const json payloads[] = {{{"connectorId", "c"}},
                           {{"connectorId", ""}, {"actionId", "a"}},
                           {{"connectorId", "c"}, {"actionId", 7}},
                           "a string",
                           json::array({1, 2})};
  for (const json& p : payloads) {
    json body = valid_body();
    body["payload"] = p;
    check_agreement(body.dump());
    body["kind"] = "agent.execute";
    check_agreement(body.dump());
  }
}

TEST(DispatchRequest, KeysTheScanCannotVouchForGoToTheDom) {
  std::string base = valid_body().dump();
  // An escaped key, and a repeated one (the DOM keeps the last).
  std::string escaped = base;
  escaped.replace(escaped.find("\"runId\""), 7, R"("run\u0049d")");
  EXPECT_FALSE(read_dispatch_request(escaped, {}).has_value());
  check_agreement(escaped);
  std::string repeated = base;
  repeated.insert(1, R"("kind":"agent.run",)");
  EXPECT_FALSE(read_dispatch_request(repeated, {}).has_value());
  check_agreement(repeated);
  // A repeated key inside the payload of a connector.action: its ids are the DOM's to read.
  json body = valid_body();
  std::string nested = body.dump();
  nested.replace(nested.find(R"("actionId")"), 10, R"("actionId":"x","actionId")");
  EXPECT_FALSE(read_dispatch_request(nested, {}).has_value());
  check_agreement(nested);
  // Not an object, not JSON, empty.
  for (const std::string text : {"[]", "{", "", "null", "{\"kind\":1}"}) {
    EXPECT_FALSE(read_dispatch_request(text, {}).has_value()) << text;
  }
}

// The REST route hands over the message the body came in, the envelope's head before it: the
// payload is then read where it lies, and bytes the typed reading refuses stay with the caller
// for the DOM's reading.
TEST(DispatchRequest, TakenBytesKeepThePayloadInPlaceAndRefusedOnesStayWithTheCaller) {
  json body = valid_body();
  body["payload"] = {{"connectorId", "c"}, {"actionId", "a"}, {"big", std::string(5000, 'x')}};
  const std::string text = body.dump();
  const std::string head = R"({"method":"POST","path":"/internal/v1/dispatch-async"})";
  std::string taken = head + "\n" + text;
  const char* const bytes = taken.data();
  std::optional<DispatchRequest> r = read_dispatch_request(taken, head.size() + 1, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->source_bytes.data(), bytes) << "the bytes moved in, not copied";
  EXPECT_TRUE(r->payload_json.empty());
  EXPECT_EQ(r->payload(), read_dispatch_request(std::string_view(text), {})->payload());
  EXPECT_EQ(json::parse(r->payload()), body["payload"]);
  const DispatchRequest copy = *r;  // offsets, not pointers: a copy reads its own bytes
  EXPECT_EQ(copy.payload(), r->payload());
  EXPECT_NE(copy.payload().data(), r->payload().data());

  body.erase("payload");
  body["kind"] = "agent.execute";  // connector.action needs a payload
  std::string bare = body.dump();
  std::optional<DispatchRequest> none = read_dispatch_request(bare, 0, {});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->payload().empty()) << "no payload: the frame says null";

  std::string refused = text;
  refused.insert(refused.size() - 1, ",\n\"kind\":\"x\"");
  const std::string before = refused;
  EXPECT_FALSE(read_dispatch_request(refused, 0, {}).has_value());
  EXPECT_EQ(refused, before) << "refused bytes are left for the DOM's reading";
}

// An execute frame is one line (a line-framed transport could carry the node host dialect): a
// payload written over several lines is left to the DOM reading, which writes it on one.
TEST(DispatchRequest, APayloadOverSeveralLinesIsWrittenOnOne) {
  json body = valid_body();
  body.erase("payload");
  for (const std::string payload : {"{\n  \"connectorId\": \"c\",\n  \"actionId\": \"a\"\n}",
                                    "{\"connectorId\":\"c\",\r\"actionId\":\"a\"}"}) {
    std::string text = body.dump();
    text.insert(text.size() - 1, ",\"payload\":" + payload);
    EXPECT_FALSE(read_dispatch_request(text, {}).has_value()) << text;
    const DispatchRequest r = parse_dispatch_request(json::parse(text), {});
    EXPECT_EQ(r.payload(), R"({"actionId":"a","connectorId":"c"})");
    check_agreement(text);
  }
}

TEST(DispatchRequest, TheTimeoutLimitsAreTheCallersOwn) {
  json body = valid_body();
  body["timeoutMs"] = 2000;
  RequestLimits tight;
  tight.min_timeout_ms = 3000;
  EXPECT_FALSE(read_dispatch_request(body.dump(), tight).has_value());
  EXPECT_THROW(parse_dispatch_request(body, tight), api::ApiError);
  EXPECT_TRUE(read_dispatch_request(body.dump(), {}).has_value());
}

}  // namespace
}  // namespace vespid::dispatch
