// The texts a dispatch writes (execute frame, dispatch record, stored result) are written member
// by member; they must be byte for byte what dumping the equivalent DOM gives.
#include "services/dispatch/dispatch_frames.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "services/dispatch/result_store.hpp"

namespace vespid::dispatch {
namespace {

using nlohmann::json;

const json kPayloads[] = {
    nullptr,
    json::object(),
    {{"connectorId", "github"}, {"actionId", "issue.create"}, {"input", {{"title", "a \"b\"\n"}}}},
    {{"message", "caf\u00e9 \u20ac"}, {"n", -3}, {"f", 0.5}, {"list", {1, "two", nullptr, true}}},
    "a string payload",
};

TEST(DispatchFrames, ExecuteIsWhatItsDomDumps) {
  for (const json& payload : kPayloads) {
    for (const bool with_secret : {false, true}) {
      DispatchRequest r;
      r.organization_id = "b0000000-0000-4000-8000-0000000000aa";
      r.requested_by_user_id = "b0000000-0000-4000-8000-000000000001";
      r.kind = "agent.execute";
      if (!payload.is_null()) r.payload_json = payload.dump();
      if (with_secret) r.secret = "s3cr\"et";
      const std::string id = "run:node \u00e9:1";
      json dom = {{"type", "execute"},
                  {"requestId", id},
                  {"organizationId", r.organization_id},
                  {"userId", r.requested_by_user_id},
                  {"kind", r.kind},
                  {"payload", payload}};
      if (with_secret) dom["secret"] = *r.secret;
      EXPECT_EQ(execute_frame(id, r), dom.dump());
    }
  }
}

TEST(DispatchFrames, AStringThatIsNotUtf8IsReplacedAsDumpWould) {
  DispatchRequest r;
  r.organization_id = "org";
  r.kind = "agent.run";
  r.requested_by_user_id = std::string("us\xff") + "er";
  r.payload_json = R"({"text":"ok"})";
  const json dom = {{"type", "execute"},       {"requestId", "id"},
                    {"organizationId", "org"}, {"userId", r.requested_by_user_id},
                    {"kind", "agent.run"},     {"payload", json::parse(r.payload_json)}};
  EXPECT_EQ(execute_frame("id", r), dom.dump(-1, ' ', false, json::error_handler_t::replace));
}

TEST(DispatchFrames, ThePayloadGoesOutAsItsTextCame) {
  DispatchRequest r;
  r.organization_id = "org";
  r.requested_by_user_id = "user";
  r.kind = "agent.execute";
  r.payload_json = R"({ "z": 1,  "a": [ "caf\u00e9" ] })";
  const std::string frame = execute_frame("id", r);
  EXPECT_NE(frame.find(R"("payload":{ "z": 1,  "a": [ "caf\u00e9" ] },"requestId")"),
            std::string::npos)
      << frame;
  EXPECT_EQ(json::parse(frame)["payload"], json::parse(r.payload_json));
}

TEST(DispatchFrames, RecordIsWhatItsDomDumps) {
  for (const bool instance : {false, true}) {
    for (const json& resume : {json(), json{{"session", "s-1"}, {"seq", 4}}}) {
      DispatchRecord d{"run:n:2",
                       "org-1",
                       "agent-9",
                       "agent.run",
                       1765000000123,
                       "2026-12-05T04:00:00.000Z",
                       instance ? "gw-a" : "",
                       resume};
      json dom = {{"requestId", d.request_id},   {"orgId", d.org_id},
                  {"agentId", d.agent_id},       {"kind", d.kind},
                  {"deadlineMs", d.deadline_ms}, {"dispatchedAt", d.dispatched_at}};
      if (instance) dom["instance"] = d.instance;
      if (!resume.is_null()) dom["resume"] = resume;
      EXPECT_EQ(record_text(d), dom.dump());
    }
  }
  DispatchRecord bad{"run:\xc0:1", "o", "a", "k", 1, "t", "", nullptr};
  EXPECT_THROW(record_text(bad), json::type_error) << "as dump() refuses it";
}

TEST(DispatchFrames, StoredResultIsWhatItsDomDumps) {
  for (const json& result : {json{{"status", "succeeded"}, {"output", {{"text", "hi \"there\""}}}},
                             json{{"status", "failed"}, {"error", "NODE_EXECUTION_TIMEOUT"}}}) {
    StoredResult r{"run:n:1", "org", "agent", "gateway", result, 1765000000000, 1765000900000};
    EXPECT_EQ(to_stored_text(r), to_stored_json(r).dump());
  }
}

// A host's result stored from its text: that text in the place of "result", as sent, and the
// same object when read back.
TEST(DispatchFrames, AStoredResultFromTextCarriesTheTextAsItCame) {
  const std::string text = R"({"output":{ "b" : 1.50, "a":[ ] },"status":"succeeded"})";
  StoredResult r{"run:n:1", "org", "agent", "agent", nullptr, 1765000000000, 1765000900000, text};
  const std::string stored = to_stored_text(r);
  EXPECT_NE(stored.find(R"("result":)" + text + ","), std::string::npos) << stored;
  StoredResult back = stored_result_from(json::parse(stored));
  EXPECT_EQ(back.result, json::parse(text));
  EXPECT_EQ(back.request_id, "run:n:1");
  EXPECT_EQ(back.expires_at_ms, 1765000900000);
  EXPECT_EQ(to_stored_json(r), json::parse(stored));
}

}  // namespace
}  // namespace vespid::dispatch
