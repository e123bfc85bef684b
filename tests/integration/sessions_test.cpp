// Sessions through the real gateway and real node hosts (`vespid-agent start`, echo engine):
// REST create/list/get/events, vespid.client.v1 on /ws/client (join with replay, send with
// streamed events, gap-free seq), pinning (PINNED_AGENT_OFFLINE when the host is gone, reset
// re-pins), org boundaries, idempotency keys.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "agent_host.hpp"
#include "bridge_client.hpp"
#include "node_host_support.hpp"
#include "operator_client.hpp"
#include "process.hpp"
#include "reference_agent_run.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using ms = std::chrono::milliseconds;

class Sessions : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    ws_config_extra_ = {
        {"routes",
         json::array(
             {{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}},
              {{"path", "/ws/client"}, {"dialect", "vespid.client.v1"}, {"websocket", true}}})}};
    start_gateway(gateway_env());
    bootstrap_identity();
  }
  virtual EnvOverrides gateway_env() { return {{"VESPID_INTERNAL_TOKEN", kServiceToken}}; }

  std::unique_ptr<AgentHost> start_agent(const std::string& name) {
    auto a = std::make_unique<AgentHost>(dir_, name, pairing_token(admin_token_), api_port_);
    a->start();
    EXPECT_TRUE(wait_agent_status(a->id(), "online")) << a->log();
    return a;
  }

  std::string create_session(const std::string& token, const std::string& title) {
    HttpReply r = rest("POST", "/v1/orgs/" + org_id_ + "/sessions", token,
                       {{"title", title}, {"engine", "vespid.echo.v1"}, {"model", "none"}});
    EXPECT_EQ(r.status, 201) << r.raw_body;
    return r.body["session"].value("id", "");
  }

  std::string create_session_in(const std::string& org, const std::string& token) {
    HttpReply r = rest("POST", "/v1/orgs/" + org + "/sessions", token,
                       {{"title", "other"}, {"engine", "vespid.echo.v1"}, {"model", "none"}});
    EXPECT_EQ(r.status, 201) << r.raw_body;
    return r.body["session"].value("id", "");
  }

  std::unique_ptr<WsClient> client(const std::string& token, const std::string& org,
                                   int* status = nullptr, json* refusal = nullptr) {
    auto c = std::make_unique<WsClient>(ws());
    Headers h;
    if (!token.empty()) h["Authorization"] = "Bearer " + token;
    if (!org.empty()) h["x-org-id"] = org;
    int s = c->connect("/ws/client", h, refusal);
    if (status) *status = s;
    return c;
  }

  // Reads session_event frames until one of `type` arrives (also collecting other frames'
  // types); the events are appended to `events`.
  bool read_until(WsClient& c, const std::string& type, std::vector<json>& events,
                  std::vector<json>* others = nullptr) {
    for (int i = 0; i < 1000; ++i) {
      auto f = c.read(ms(10000));
      if (!f) return false;
      if ((*f)["type"] == "session_event") {
        events.push_back(*f);
        if ((*f)["eventType"] == type) return true;
      } else if (others) {
        others->push_back(*f);
      }
    }
    return false;
  }
};

void expect_gap_free(const std::vector<json>& events, uint64_t first) {
  uint64_t want = first;
  for (const auto& e : events) {
    EXPECT_EQ(e.value("seq", uint64_t{0}), want) << e.dump();
    ++want;
  }
}

TEST_F(Sessions, StreamReplayPinIdempotencyAndOrgBoundaries) {
  auto agent_a = start_agent("host-a");
  const std::string sid = create_session(member_token_, "first");
  ASSERT_FALSE(sid.empty());

  // Join: the stored session_created is replayed, then the join is confirmed.
  auto c = client(member_token_, org_id_);
  c->send({{"type", "client_hello"}});
  auto hello = c->read_type("client_hello_ok");
  ASSERT_TRUE(hello);
  EXPECT_EQ((*hello)["organizationId"], org_id_);
  c->send({{"type", "session_join"}, {"sessionId", sid}});
  std::vector<json> events;
  ASSERT_TRUE(read_until(*c, "session_created", events));
  auto joined = c->read_type("session_joined");
  ASSERT_TRUE(joined);
  EXPECT_EQ((*joined)["lastSeq"], 1);

  // Send: user_message, agent_selected (pinned to host-a), streamed deltas, message, final.
  const std::string message = "hello brave new world";
  c->send({{"type", "session_send"},
           {"sessionId", sid},
           {"message", message},
           {"idempotencyKey", "k1"}});
  std::vector<json> others;
  ASSERT_TRUE(read_until(*c, "agent_final", events, &others)) << agent_a->log();
  expect_gap_free(events, 1);
  std::vector<std::string> types;
  std::string deltas;
  for (const auto& e : events) {
    types.push_back(e["eventType"]);
    EXPECT_EQ(e["sessionId"], sid);
    EXPECT_TRUE(e["createdAt"].is_string());
    EXPECT_TRUE(e["level"].is_string());
    if (e["eventType"] == "agent_delta") deltas += e["payload"].value("text", "");
  }
  ASSERT_GE(types.size(), 6u);
  EXPECT_EQ(types[1], "user_message");
  EXPECT_EQ(events[1]["payload"]["message"], message);
  EXPECT_EQ(types[2], "agent_selected");
  EXPECT_EQ(events[2]["payload"]["agentId"], agent_a->id());
  EXPECT_EQ(types[3], "agent_delta");
  EXPECT_EQ(deltas, message);
  // The final answer also in the reference's terms (issue 20 point 7), and the run id (the
  // idempotency key) on every event of the turn.
  const json& fin = events.back()["payload"];
  EXPECT_EQ(fin["status"], "succeeded") << fin.dump();
  EXPECT_EQ(fin["requestId"], sid + ":agent:3") << fin.dump();
  EXPECT_EQ(fin["output"]["text"], message) << fin.dump();
  for (std::size_t i = 1; i < events.size(); ++i)
    EXPECT_EQ(events[i]["payload"]["runId"], "k1") << events[i].dump();
  EXPECT_EQ(types[types.size() - 2], "agent_message");
  EXPECT_EQ(events.back()["payload"]["text"], message);
  const uint64_t last = events.back()["seq"];
  std::optional<json> accepted;
  for (const auto& f : others)
    if (f["type"] == "session_accepted") accepted = f;
  if (!accepted) accepted = c->read_type("session_accepted");
  ASSERT_TRUE(accepted);
  EXPECT_EQ((*accepted)["seq"], 2);
  EXPECT_EQ((*accepted)["agentId"], agent_a->id());

  // The session is pinned; REST shows it.
  HttpReply got = rest("GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid, member_token_);
  ASSERT_EQ(got.status, 200) << got.raw_body;
  EXPECT_EQ(got.body["session"]["pinnedAgentId"], agent_a->id());
  EXPECT_EQ(got.body["session"]["engine"], "vespid.echo.v1");

  // A second client joining after seq 3 gets exactly 4..last replayed.
  {
    auto c2 = client(admin_token_, org_id_);
    c2->send({{"type", "session_join"}, {"sessionId", sid}, {"afterSeq", 3}});
    std::vector<json> replay;
    for (;;) {
      auto f = c2->read();
      ASSERT_TRUE(f);
      if ((*f)["type"] == "session_joined") {
        EXPECT_EQ((*f)["lastSeq"], last);
        break;
      }
      ASSERT_EQ((*f)["type"], "session_event") << f->dump();
      replay.push_back(*f);
    }
    ASSERT_EQ(replay.size(), last - 3);
    expect_gap_free(replay, 4);
  }

  // REST events with cursor pagination.
  HttpReply page =
      rest("GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/events?afterSeq=0&limit=2",
           member_token_);
  ASSERT_EQ(page.status, 200) << page.raw_body;
  ASSERT_EQ(page.body["events"].size(), 2u);
  EXPECT_EQ(page.body["nextCursor"], 2);
  HttpReply rest_page =
      rest("GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/events?afterSeq=2&limit=1000",
           member_token_);
  ASSERT_EQ(rest_page.status, 200);
  EXPECT_EQ(rest_page.body["events"].size(), last - 2);
  EXPECT_TRUE(rest_page.body["nextCursor"].is_null());

  // The same idempotency key again (over REST): the first send's answer, nothing runs.
  HttpReply dup = rest("POST", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/messages",
                       member_token_, {{"message", message}, {"idempotencyKey", "k1"}});
  ASSERT_EQ(dup.status, 202) << dup.raw_body;
  EXPECT_EQ(dup.body["duplicate"], true);
  EXPECT_EQ(dup.body["seq"], 2);
  EXPECT_EQ(dup.body["requestId"], (*accepted)["requestId"]);
  // A new key runs: its events follow directly (no events from the duplicate in between).
  c->send({{"type", "session_send"},
           {"sessionId", sid},
           {"message", "again"},
           {"idempotencyKey", "k2"}});
  std::vector<json> second;
  ASSERT_TRUE(read_until(*c, "agent_final", second));
  expect_gap_free(second, last + 1);
  EXPECT_EQ(second.front()["eventType"], "user_message");
  EXPECT_EQ(second.front()["payload"]["message"], "again");
  for (const auto& e : second) EXPECT_NE(e["eventType"], "agent_selected") << "already pinned";
  const uint64_t last2 = second.back()["seq"];

  // Org boundaries: an outsider is refused on the org and gets 404 through its own org.
  EXPECT_EQ(rest("GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid, outsider_token_).status, 403);
  HttpReply foreign =
      rest("GET", "/v1/orgs/" + other_org_id_ + "/sessions/" + sid, outsider_token_);
  EXPECT_EQ(foreign.status, 404);
  EXPECT_EQ(foreign.body["code"], "SESSION_NOT_FOUND");
  EXPECT_EQ(rest("GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid, "").status, 401);
  {
    int status = 0;
    json refusal;
    auto x = client(outsider_token_, org_id_, &status, &refusal);
    EXPECT_EQ(status, 403) << refusal.dump();
    EXPECT_EQ(refusal["code"], "FORBIDDEN");
    auto y = client("", org_id_, &status, &refusal);
    EXPECT_EQ(status, 401);
    EXPECT_EQ(refusal["code"], "UNAUTHORIZED");
    auto z = client(outsider_token_, other_org_id_, &status);
    ASSERT_EQ(status, 101);
    z->send({{"type", "session_join"}, {"sessionId", sid}});
    auto err = z->read_type("session_error");
    ASSERT_TRUE(err);
    EXPECT_EQ((*err)["code"], "SESSION_NOT_FOUND");
    EXPECT_EQ((*err)["sessionId"], sid);
  }

  // The pinned host goes away: sends are refused, nothing moves silently.
  agent_a->kill();
  ASSERT_TRUE(wait_agent_status(agent_a->id(), "offline"));
  c->send({{"type", "session_send"}, {"sessionId", sid}, {"message", "anyone?"}});
  auto offline = c->read_type("session_error");
  ASSERT_TRUE(offline);
  EXPECT_EQ((*offline)["code"], "PINNED_AGENT_OFFLINE");
  EXPECT_EQ((*offline)["sessionId"], sid);
  HttpReply offline_rest = rest("POST", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/messages",
                                member_token_, {{"message", "anyone?"}});
  EXPECT_EQ(offline_rest.status, 409) << offline_rest.raw_body;
  EXPECT_EQ(offline_rest.body["code"], "PINNED_AGENT_OFFLINE");

  // Reset, a second host, send: re-pinned to the new host.
  auto agent_b = start_agent("host-b");
  c->send({{"type", "session_reset_agent"}, {"sessionId", sid}});
  auto reset = c->read_type("session_agent_reset");
  ASSERT_TRUE(reset);
  EXPECT_TRUE((*reset)["session"]["pinnedAgentId"].is_null());
  c->send({{"type", "session_send"}, {"sessionId", sid}, {"message", "back again"}});
  std::vector<json> third;
  ASSERT_TRUE(read_until(*c, "agent_final", third)) << agent_b->log();
  expect_gap_free(third, last2 + 1);
  ASSERT_GE(third.size(), 3u);
  EXPECT_EQ(third[0]["eventType"], "user_message");
  EXPECT_EQ(third[1]["eventType"], "agent_selected");
  EXPECT_EQ(third[1]["payload"]["agentId"], agent_b->id());
  EXPECT_EQ(third.back()["payload"]["text"], "back again");
}

// An unknown session is answered once, with one session_error, whatever the frame.
TEST_F(Sessions, AnUnknownSessionIsOneSessionErrorPerFrame) {
  auto c = client(member_token_, org_id_);
  c->send({{"type", "client_hello"}});
  ASSERT_TRUE(c->read_type("client_hello_ok"));
  for (const char* type : {"session_join", "session_send"}) {
    c->send({{"type", type}, {"sessionId", "ses_nope"}, {"message", "hi"}});
    int errors = 0;
    while (auto f = c->read(std::chrono::milliseconds(500))) {
      if ((*f)["type"] == "session_error") {
        ++errors;
        EXPECT_EQ((*f)["code"], "SESSION_NOT_FOUND") << f->dump();
        EXPECT_EQ((*f)["sessionId"], "ses_nope") << f->dump();
      }
    }
    EXPECT_EQ(errors, 1) << type;
  }
}

TEST_F(Sessions, ListIsNewestActivityFirstWithCursorsAndBadInputIsRefused) {
  const std::string s1 = create_session(admin_token_, "one");
  const std::string s2 = create_session(admin_token_, "two");
  const std::string s3 = create_session(member_token_, "three");
  std::vector<std::string> seen;
  std::string cursor;
  for (int i = 0; i < 5; ++i) {
    std::string path = "/v1/orgs/" + org_id_ + "/sessions?limit=2";
    if (!cursor.empty()) path += "&cursor=" + cursor;
    HttpReply r = rest("GET", path, member_token_);
    ASSERT_EQ(r.status, 200) << r.raw_body;
    for (const auto& s : r.body["sessions"]) seen.push_back(s["id"]);
    if (r.body["nextCursor"].is_null()) break;
    cursor = r.body["nextCursor"];
  }
  // Created in this order within the same millisecond or not: s3 is never older than s1.
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_NE(std::find(seen.begin(), seen.end(), s1), seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(), s2), seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(), s3), seen.end());
  EXPECT_EQ(rest("GET", "/v1/orgs/" + other_org_id_ + "/sessions", outsider_token_)
                .body["sessions"]
                .size(),
            0u);

  // Filters: a text in the title (any case), who created it ("me"), paged like the plain list.
  auto ids_of = [&](const std::string& query, const std::string& token) {
    std::vector<std::string> ids;
    std::string next;
    for (int i = 0; i < 5; ++i) {
      std::string path = "/v1/orgs/" + org_id_ + "/sessions?limit=1&" + query;
      if (!next.empty()) path += "&cursor=" + next;
      HttpReply r = rest("GET", path, token);
      EXPECT_EQ(r.status, 200) << r.raw_body;
      for (const auto& s : r.body["sessions"]) ids.push_back(s["id"]);
      if (r.body["nextCursor"].is_null()) break;
      next = r.body["nextCursor"];
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  std::vector<std::string> ones = {s1};
  EXPECT_EQ(ids_of("q=ONE", member_token_), ones);
  std::vector<std::string> t_titles = {s2, s3};
  std::sort(t_titles.begin(), t_titles.end());
  EXPECT_EQ(ids_of("q=t", member_token_), t_titles) << "\"two\" and \"three\"";
  std::vector<std::string> mine = {s3};
  EXPECT_EQ(ids_of("createdBy=me", member_token_), mine);
  EXPECT_EQ(ids_of("q=echo&createdBy=me", member_token_), mine) << "the engine matches too";
  EXPECT_TRUE(ids_of("q=nothing-like-this", member_token_).empty());
  EXPECT_EQ(
      rest("GET", "/v1/orgs/" + org_id_ + "/sessions?q=" + std::string(201, 'x'), member_token_)
          .status,
      400);

  // No host at all: the message is stored, the error says why, 503 NO_AGENT_AVAILABLE.
  HttpReply none = rest("POST", "/v1/orgs/" + org_id_ + "/sessions/" + s1 + "/messages",
                        member_token_, {{"message", "hi"}});
  EXPECT_EQ(none.status, 503) << none.raw_body;
  EXPECT_EQ(none.body["code"], "NO_AGENT_AVAILABLE");
  HttpReply evs = rest("GET", "/v1/orgs/" + org_id_ + "/sessions/" + s1 + "/events", member_token_);
  ASSERT_EQ(evs.status, 200);
  ASSERT_EQ(evs.body["events"].size(), 3u) << evs.raw_body;
  EXPECT_EQ(evs.body["events"][2]["eventType"], "error");
  EXPECT_EQ(evs.body["events"][2]["payload"]["code"], "NO_AGENT_AVAILABLE");

  EXPECT_EQ(rest("POST", "/v1/orgs/" + org_id_ + "/sessions/" + s1 + "/messages", member_token_,
                 {{"message", 42}})
                .status,
            400);
  EXPECT_EQ(rest("GET", "/v1/orgs/" + org_id_ + "/sessions/nope", member_token_).status, 404);
  EXPECT_EQ(rest("GET", "/v1/orgs/" + org_id_ + "/sessions?limit=x", member_token_).status, 400);

  auto c = client(member_token_, org_id_);
  c->send_text("not json");
  auto e1 = c->read_type("session_error");
  ASSERT_TRUE(e1);
  EXPECT_EQ((*e1)["code"], "BAD_REQUEST");
  c->send({{"type", "session_send"}, {"sessionId", s1}});
  auto e2 = c->read_type("session_error");
  ASSERT_TRUE(e2);
  EXPECT_EQ((*e2)["code"], "BAD_REQUEST");
  c->send({{"type", "session_join"}, {"sessionId", "ses_missing"}});
  auto e3 = c->read_type("session_error");
  ASSERT_TRUE(e3);
  EXPECT_EQ((*e3)["code"], "SESSION_NOT_FOUND");
}

// A scripted node host (the test plays it): the execute payload, tool events, agent.error with a
// failed result (one error event, not two), and a turn the host never answers timing out.
class ScriptedSessions : public Sessions {
 protected:
  EnvOverrides gateway_env() override {
    return {{"VESPID_INTERNAL_TOKEN", kServiceToken}, {"VESPID_SESSIONS_TURN_TIMEOUT_MS", "1000"}};
  }
};

TEST_F(ScriptedSessions, HostEventsMapToSessionEventsAndSilenceTimesOut) {
  PairedAgent host = pair("scripted");
  auto h = connect_agent(host, {{"kinds", {"agent.run"}}});
  HttpReply created = rest("POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                           {{"engine", "vespid.loop.v1"},
                            {"model", "m1"},
                            {"instructions", "be brief"},
                            {"toolset",
                             {{"id", "5f0c6a1e-2b7d-4c3a-9e8f-1a2b3c4d5e6f"},
                              {"name", "ts"},
                              {"mcpServers", json::array()},
                              {"agentSkills", json::array()}}},
                            {"limits", {{"timeoutMs", 5000}}}});
  ASSERT_EQ(created.status, 201) << created.raw_body;
  const std::string sid = created.body["session"]["id"];
  auto c = client(member_token_, org_id_);
  c->send({{"type", "session_join"}, {"sessionId", sid}});
  ASSERT_TRUE(c->read_type("session_joined"));

  c->send({{"type", "session_send"}, {"sessionId", sid}, {"message", "run tools"}, {"id", 7}});
  auto ex = h->read_type("execute");
  ASSERT_TRUE(ex);
  EXPECT_EQ((*ex)["kind"], "agent.run");
  // The reference's execute (issue 20 point 1): request id "<sessionId>:agent:<seq + 1>", a
  // payload the reference agent's schemas accept, with the session's settings in the node.
  EXPECT_EQ((*ex)["requestId"], sid + ":agent:3");
  EXPECT_EQ(reference_agent_refusal(*ex), "") << ex->dump();
  EXPECT_TRUE(is_uuid(sid)) << sid;
  const json& p = (*ex)["payload"];
  EXPECT_EQ(p["nodeId"], "agent");
  EXPECT_EQ(p["runId"], sid);
  EXPECT_EQ(p["workflowId"], sid);
  EXPECT_EQ(p["attemptCount"], 3);
  const json& config = p["node"]["config"];
  EXPECT_EQ(config["engine"]["id"], "vespid.loop.v1");
  EXPECT_EQ(config["llm"]["model"], "m1");
  EXPECT_EQ(config["llm"]["provider"], "openai");
  EXPECT_EQ(config["prompt"]["instructions"], "be brief");
  EXPECT_EQ(config["limits"]["timeoutMs"], 5000);
  EXPECT_EQ(config["limits"]["maxTurns"], 8) << "the reference's defaults fill the rest";
  EXPECT_EQ(p["runInput"]["message"], "run tools");
  EXPECT_EQ(p["steps"], json::array({{{"role", "user"}, {"content", "run tools"}}}));
  EXPECT_EQ(p["toolset"]["name"], "ts");
  EXPECT_EQ(p["env"]["githubApiBaseUrl"], "https://api.github.com");
  const std::string rid = (*ex)["requestId"];
  auto event = [&](int seq, const std::string& kind, const json& payload,
                   const std::string& message = "") {
    json ev = {{"seq", seq}, {"ts", 1}, {"kind", kind}, {"level", "info"}, {"payload", payload}};
    if (!message.empty()) {
      ev["message"] = message;
      ev["level"] = "error";
    }
    h->send({{"type", "execute_event"}, {"requestId", rid}, {"event", ev}});
  };
  h->send({{"type", "execute_received"}, {"requestId", rid}});
  event(1, "agent.start", {{"engine", "vespid.loop.v1"}});
  event(2, "agent.tool_call", {{"name", "ls"}, {"args", {{"path", "/"}}}});
  event(3, "agent.tool_result", {{"name", "ls"}, {"output", "bin etc"}});
  event(4, "agent.error", json::object(), "LLM_HTTP_ERROR: HTTP 500 from http://x: boom");
  h->send({{"type", "execute_result"},
           {"requestId", rid},
           {"status", "failed"},
           {"error", "LLM_HTTP_ERROR: HTTP 500 from http://x: boom"}});
  ASSERT_TRUE(h->read_type("execute_ack"));

  std::vector<json> events;
  ASSERT_TRUE(read_until(*c, "error", events));
  ASSERT_EQ(events.size(), 5u);
  expect_gap_free(events, 2);
  EXPECT_EQ(events[0]["eventType"], "user_message");
  EXPECT_EQ(events[1]["eventType"], "agent_selected");
  EXPECT_EQ(events[2]["eventType"], "tool_call");
  EXPECT_EQ(events[2]["payload"]["name"], "ls");
  EXPECT_EQ(events[3]["eventType"], "tool_result");
  EXPECT_EQ(events[3]["payload"]["output"], "bin etc");
  EXPECT_EQ(events[4]["level"], "error");
  EXPECT_EQ(events[4]["payload"]["code"], "LLM_HTTP_ERROR");
  EXPECT_EQ(events[4]["payload"]["message"], "HTTP 500 from http://x: boom");

  // The next turn carries the history; the host stays silent and the turn times out. The
  // failed result of the first turn added no second error: user_message follows directly.
  c->send({{"type", "session_send"}, {"sessionId", sid}, {"message", "again"}});
  auto ex2 = h->read_type("execute");
  ASSERT_TRUE(ex2);
  EXPECT_EQ((*ex2)["payload"]["steps"], json::array({{{"role", "user"}, {"content", "run tools"}},
                                                     {{"role", "user"}, {"content", "again"}}}));
  EXPECT_EQ(reference_agent_refusal(*ex2), "") << ex2->dump();
  std::vector<json> second;
  ASSERT_TRUE(read_until(*c, "error", second));
  ASSERT_EQ(second.size(), 2u);
  expect_gap_free(second, 7);
  EXPECT_EQ(second[0]["eventType"], "user_message");
  EXPECT_EQ(second[1]["payload"]["code"], "NODE_EXECUTION_TIMEOUT");

  // operator.v1 sees the same session through the same service.
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  json got = admin.call("sessions.get", {{"orgId", org_id_}, {"sessionId", sid}});
  EXPECT_EQ(got["session"]["pinnedAgentId"], host.id);
  json evs =
      admin.call("sessions.events", {{"orgId", org_id_}, {"sessionId", sid}, {"afterSeq", 6}});
  EXPECT_EQ(evs["events"].size(), 2u);
  json listed = admin.call("sessions.list", {{"orgId", org_id_}});
  ASSERT_EQ(listed["sessions"].size(), 1u);
  EXPECT_EQ(listed["sessions"][0]["id"], sid);
  json reset = admin.call("sessions.reset", {{"orgId", org_id_}, {"sessionId", sid}});
  EXPECT_TRUE(reset["session"]["pinnedAgentId"].is_null());
}

class RestartedSessions : public Sessions {
 protected:
  EnvOverrides gateway_env() override {
    return {{"VESPID_INTERNAL_TOKEN", kServiceToken}, {"VESPID_SESSIONS_TURN_TIMEOUT_MS", "30000"}};
  }
  json stored_events(const std::string& sid) {
    HttpReply r = rest("GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/events?limit=200",
                       member_token_);
    EXPECT_EQ(r.status, 200) << r.raw_body;
    return r.body.value("events", json::array());
  }
  // Polls the stored trail until an event of `type` is in it.
  json wait_for(const std::string& sid, const std::string& type) {
    for (int i = 0; i < 200; ++i) {
      json evs = stored_events(sid);
      for (const auto& e : evs) {
        if (e.value("eventType", "") == type) return evs;
      }
      std::this_thread::sleep_for(ms(25));
    }
    return stored_events(sid);
  }
  static int count(const json& evs, const std::string& type) {
    int n = 0;
    for (const auto& e : evs) n += e.value("eventType", "") == type ? 1 : 0;
    return n;
  }
};

// The session's listener lives in memory; a restart rebuilds it from the dispatch record, so the
// result a host resends after the restart still ends the turn in the session's trail, once.
TEST_F(RestartedSessions, ATurnInFlightAcrossARestartStillEndsInItsSession) {
  PairedAgent host = pair("survivor");
  auto h = connect_agent(host, {{"kinds", {"agent.run"}}});
  const std::string streaming = create_session(member_token_, "streaming");
  const std::string finished = create_session(member_token_, "final stored");
  auto send = [&](const std::string& sid) {
    HttpReply r = rest("POST", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/messages",
                       member_token_, {{"message", "hello there"}});
    EXPECT_EQ(r.status, 202) << r.raw_body;
    auto ex = h->read_type("execute");
    EXPECT_TRUE(ex);
    return ex ? (*ex)["requestId"].get<std::string>() : std::string();
  };
  auto event = [&](const std::string& rid, const std::string& kind, const std::string& text) {
    h->send({{"type", "execute_event"},
             {"requestId", rid},
             {"event", {{"seq", 1}, {"ts", 1}, {"kind", kind}, {"payload", {{"text", text}}}}}});
  };
  const std::string rid1 = send(streaming);
  const std::string rid2 = send(finished);
  ASSERT_FALSE(rid1.empty());
  ASSERT_FALSE(rid2.empty());
  event(rid1, "agent.assistant_delta", "hello");
  event(rid2, "agent.final", "done before the restart");
  ASSERT_EQ(count(wait_for(streaming, "agent_delta"), "agent_delta"), 1);
  ASSERT_EQ(count(wait_for(finished, "agent_final"), "agent_final"), 1);
  h.reset();

  restart_gateway();
  auto back = connect_agent(host, {{"kinds", {"agent.run"}}});
  for (const auto& [rid, text] : {std::pair{rid1, std::string("hello there")},
                                  std::pair{rid2, std::string("done before the restart")}}) {
    back->send({{"type", "execute_result"},
                {"requestId", rid},
                {"status", "succeeded"},
                {"output", {{"text", text}}}});
    ASSERT_TRUE(back->read_type("execute_ack"));
  }

  json a = wait_for(streaming, "agent_final");
  ASSERT_EQ(count(a, "agent_final"), 1) << a.dump();
  EXPECT_EQ(a.back()["eventType"], "agent_final");
  EXPECT_EQ(a.back()["payload"]["text"], "hello there");
  uint64_t want = 1;
  for (const auto& e : a) EXPECT_EQ(e.value("seq", uint64_t{0}), want++) << e.dump();

  // The host's agent.final was stored before the restart: its resent result adds no second one.
  std::this_thread::sleep_for(ms(300));
  json b = stored_events(finished);
  EXPECT_EQ(count(b, "agent_final"), 1) << b.dump();
  EXPECT_EQ(count(b, "error"), 0) << b.dump();
}

}  // namespace
}  // namespace vespid::test

namespace vespid::test {
namespace {

// The CLI as the seed writes it: list/create over REST, send over /ws/client with the answer
// streamed to stdout, events as the audit trail.
TEST_F(Sessions, TheCliCreatesSendsStreamsAndPrintsTheTrail) {
  auto agent = start_agent("cli-host");
  const std::string api = "http://127.0.0.1:" + std::to_string(api_port_);
  const std::string gw = "ws://127.0.0.1:" + std::to_string(ws_port_) + "/ws/client";
  auto vespid = [&](std::vector<std::string> args) {
    args.insert(args.begin(), VESPID_CLI_BIN);
    return run_command(args);
  };
  CommandResult created = vespid({"session", "create", "--api", api, "--org", org_id_, "--token",
                                  member_token_, "--engine", "vespid.echo.v1", "--title", "cli"});
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  std::string sid = created.out.substr(0, created.out.find('\n'));
  ASSERT_FALSE(sid.empty());

  CommandResult sent =
      vespid({"session", "send", "--gateway", gw, "--org", org_id_, "--token", member_token_,
              "--session", sid, "--message", "streamed back to me"});
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  EXPECT_EQ(sent.out, "streamed back to me\n") << "the deltas, joined, then a newline";
  EXPECT_NE(sent.err.find("pinned to node host"), std::string::npos) << sent.err;

  CommandResult listed =
      vespid({"session", "list", "--api", api, "--org", org_id_, "--token", member_token_});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(sid), std::string::npos) << listed.out;

  CommandResult trail = vespid({"--json", "session", "events", sid, "--api", api, "--org", org_id_,
                                "--token", member_token_, "--after", "1"});
  ASSERT_EQ(trail.exit_code, 0) << trail.err;
  json events = json::parse(trail.out)["events"];
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0]["seq"], 2) << "--after 1 starts at seq 2";
  EXPECT_EQ(events.back()["eventType"], "agent_final");

  CommandResult outsider = vespid({"session", "send", "--gateway", gw, "--org", org_id_, "--token",
                                   outsider_token_, "--session", sid, "--message", "x"});
  EXPECT_EQ(outsider.exit_code, 1) << outsider.out << outsider.err;
  EXPECT_NE(outsider.err.find("FORBIDDEN"), std::string::npos) << outsider.err;

  // Several URLs, the first with nobody listening: each call goes on to the next.
  const int dead = pick_free_port();
  const std::string dead_api = "http://127.0.0.1:" + std::to_string(dead);
  const std::string dead_gw = "ws://127.0.0.1:" + std::to_string(dead) + "/ws/client";
  CommandResult listed_twice = vespid({"session", "list", "--api", dead_api + "," + api, "--org",
                                       org_id_, "--token", member_token_});
  ASSERT_EQ(listed_twice.exit_code, 0) << listed_twice.err;
  EXPECT_NE(listed_twice.out.find(sid), std::string::npos) << listed_twice.out;
  CommandResult sent_twice =
      vespid({"session", "send", "--gateway", dead_gw + ", " + gw, "--org", org_id_, "--token",
              member_token_, "--session", sid, "--message", "second url"});
  ASSERT_EQ(sent_twice.exit_code, 0) << sent_twice.err;
  EXPECT_EQ(sent_twice.out, "second url\n");
  CommandResult none_answers = vespid({"session", "list", "--api", dead_api + "," + dead_api,
                                       "--org", org_id_, "--token", member_token_});
  EXPECT_EQ(none_answers.exit_code, 3) << "unreachable" << none_answers.err;
  EXPECT_NE(none_answers.err.find("cannot reach any of " + dead_api), std::string::npos)
      << none_answers.err;
  CommandResult empty_entry =
      vespid({"session", "list", "--api", api + ",", "--org", org_id_, "--token", member_token_});
  EXPECT_NE(empty_entry.exit_code, 0);
  EXPECT_NE(empty_entry.err.find("--api has an empty URL"), std::string::npos) << empty_entry.err;

  agent->kill();
  ASSERT_TRUE(wait_agent_status(agent->id(), "offline"));
  CommandResult offline = vespid({"session", "send", "--gateway", gw, "--org", org_id_, "--token",
                                  member_token_, "--session", sid, "--message", "anyone?"});
  EXPECT_EQ(offline.exit_code, 1);
  EXPECT_NE(offline.err.find("PINNED_AGENT_OFFLINE"), std::string::npos) << offline.err;
}

}  // namespace
}  // namespace vespid::test

namespace vespid::test {
namespace {

// vespid.loop.v1 on a real node host against a local OpenAI-compatible streaming server: the
// key and base URL come from the host's environment, never from the gateway; the toolset's
// SKILL.md bundles exceed the caps and are cut to them.
TEST_F(Sessions, LoopEngineStreamsFromALocalModelServerWithCappedToolset) {
  const std::string port_file = dir_.file("openai.port"), record = dir_.file("openai.json");
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t server =
      spawn({"python3", VESPID_SOURCE_DIR "/tests/integration/fake_openai.py", port_file, record},
            {}, null_fd, null_fd, null_fd);
  ::close(null_fd);
  struct Reap {
    pid_t pid;
    ~Reap() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reap{server};
  std::string port;
  for (int i = 0; i < 200 && port.empty(); ++i) {
    std::this_thread::sleep_for(ms(20));
    port = read_file(port_file);
  }
  ASSERT_FALSE(port.empty()) << "the fake model server did not start";

  AgentHost host(dir_, "llm-host", pairing_token(admin_token_), api_port_);
  host.start(
      {{"OPENAI_API_KEY", "sk-test-key"}, {"OPENAI_BASE_URL", "http://127.0.0.1:" + port + "/v1"}});
  ASSERT_TRUE(wait_agent_status(host.id(), "online")) << host.log();

  // Ten bundles of 30000 characters: over the bundle count (8), the per-bundle cap (20000) and
  // the total cap (80000). One disabled bundle is skipped.
  json skills = json::array();
  for (int i = 0; i < 10; ++i) {
    skills.push_back({{"name", "skill-" + std::to_string(i)},
                      {"enabled", i != 1},
                      {"content", std::string(30000, static_cast<char>('a' + i))}});
  }
  HttpReply created = rest("POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                           {{"title", "llm"},
                            {"engine", "vespid.loop.v1"},
                            {"model", "test-model"},
                            {"instructions", "Be brief."},
                            {"toolset", {{"name", "big"}, {"skills", skills}}}});
  ASSERT_EQ(created.status, 201) << created.raw_body;
  const std::string sid = created.body["session"]["id"];

  auto c = client(member_token_, org_id_);
  c->send({{"type", "session_join"}, {"sessionId", sid}});
  c->send({{"type", "session_send"}, {"sessionId", sid}, {"message", "hi model"}});
  std::vector<json> events;
  ASSERT_TRUE(read_until(*c, "agent_final", events)) << host.log();
  std::string streamed;
  for (const auto& e : events) {
    if (e["eventType"] == "agent_delta") streamed += e["payload"].value("text", "");
  }
  EXPECT_EQ(streamed, "Hello from the model");
  EXPECT_EQ(events.back()["payload"]["text"], "Hello from the model");

  json sent = json::parse(read_file(record));
  EXPECT_EQ(sent["authorization"], "Bearer sk-test-key") << "the key is the host's own";
  EXPECT_NE(sent["path"].get<std::string>().find("/chat/completions"), std::string::npos);
  EXPECT_EQ(sent["body"]["model"], "test-model");
  EXPECT_EQ(sent["body"]["stream"], true);
  const json& messages = sent["body"]["messages"];
  ASSERT_GE(messages.size(), 2u);
  EXPECT_EQ(messages[0]["role"], "system");
  const std::string system = messages[0]["content"];
  EXPECT_NE(system.find("Be brief."), std::string::npos);
  EXPECT_NE(system.find(std::string(100, 'a')), std::string::npos) << "first bundle applied";
  EXPECT_EQ(system.find(std::string(100, 'b')), std::string::npos) << "disabled bundle skipped";
  EXPECT_EQ(system.find(std::string(20001, 'a')), std::string::npos) << "per-bundle cap";
  EXPECT_LE(system.size(), 80000u + 4000u) << "total cap (plus instructions and headings)";
  EXPECT_EQ(system.find(std::string(100, 'j')), std::string::npos) << "stopped at the caps";
  EXPECT_EQ(messages.back()["role"], "user");
  EXPECT_EQ(messages.back()["content"], "hi model");
}

// bridge.v1 chat mapping: a paired bridge node in its own org subscribes to a session, sends,
// and gets `event chat` delta then final with the echo; chat.history and sessions.list answer;
// another org's session is NOT_FOUND.
class BridgeChat : public Sessions {
 protected:
  void SetUp() override {
    bridge_port_ = pick_free_port();
    extra_instances_ = json::array(
        {{{"name", "bridge"}, {"plugin", "bridge"}, {"config", {{"port", bridge_port_}}}}});
    Sessions::SetUp();
  }
  BridgeClient paired_node(const std::string& node_id) {
    auto admin = cli::OperatorClient::connect(gw_.socket_path());
    return paired_bridge_node(admin, bridge_port_, node_id, {{"platform", "ios"}});
  }
  int bridge_port_ = 0;
};

TEST_F(BridgeChat, NodeSendsSubscribesAndReadsHistory) {
  auto agent = start_agent("bridge-chat-host");
  const std::string sid = create_session(member_token_, "bridge chat");
  const std::string foreign_sid = create_session_in(other_org_id_, outsider_token_);

  auto c = paired_node("phone-1");
  ASSERT_FALSE(HasFailure());

  json sub_payload = {{"sessionKey", sid}};
  c.send({{"type", "event"}, {"event", "chat.subscribe"}, {"payloadJSON", sub_payload.dump()}});
  json listed = BridgeClient::parse_field(c.call("sessions.list"), "payloadJSON");
  ASSERT_TRUE(listed["sessions"].is_array());
  bool found = false;
  for (const auto& x : listed["sessions"]) found = found || (x["id"] == sid && x["key"] == sid);
  EXPECT_TRUE(found) << listed.dump();

  json res = c.call(
      "chat.send",
      {{"sessionKey", sid}, {"message", "hello from the bridge"}, {"idempotencyKey", "k-1"}});
  ASSERT_EQ(res["ok"], true) << res.dump();
  json started = BridgeClient::parse_field(res, "payloadJSON");
  EXPECT_EQ(started["status"], "started");
  EXPECT_FALSE(started["runId"].is_null());

  std::vector<std::string> states;
  std::string final_text, so_far;
  for (int i = 0; i < 50 && final_text.empty(); ++i) {
    auto ev = c.read_until(
        [](const json& f) {
          return f.value("type", "") == "event" && f.value("event", "") == "chat";
        },
        std::chrono::seconds(10));
    ASSERT_TRUE(ev) << "no chat event; " << agent->log();
    json p = BridgeClient::parse_field(*ev, "payloadJSON");
    EXPECT_EQ(p["sessionKey"], sid);
    // The reference's shape: runId is the sender's idempotency key, and the message holds the
    // whole text so far (clawdbot src/gateway/server-chat.ts, emitChatDelta/emitChatFinal).
    EXPECT_EQ(p["runId"], "k-1") << p.dump();
    states.push_back(p["state"]);
    ASSERT_NE(p["state"], "error") << p.dump();
    ASSERT_TRUE(p["message"].is_object()) << p.dump();
    EXPECT_EQ(p["message"]["role"], "assistant");
    const std::string text = p["message"]["content"][0]["text"];
    EXPECT_EQ(p["message"]["content"][0]["type"], "text");
    EXPECT_EQ(text.rfind(so_far, 0), 0u) << "each text extends the one before: " << text;
    so_far = text;
    if (p["state"] == "final") final_text = text;
  }
  ASSERT_GE(states.size(), 2u);
  EXPECT_EQ(states.front(), "delta");
  EXPECT_EQ(states.back(), "final");
  EXPECT_NE(final_text.find("hello from the bridge"), std::string::npos) << final_text;

  json hist =
      BridgeClient::parse_field(c.call("chat.history", {{"sessionKey", sid}}), "payloadJSON");
  EXPECT_EQ(hist["sessionKey"], sid);
  EXPECT_EQ(hist["sessionId"], sid);
  ASSERT_TRUE(hist["messages"].is_array()) << hist.dump();
  ASSERT_GE(hist["messages"].size(), 2u) << hist.dump();
  EXPECT_EQ(hist["messages"][0]["role"], "user");
  EXPECT_EQ(hist["messages"][0]["content"][0]["text"], "hello from the bridge");
  EXPECT_EQ(hist["messages"].back()["role"], "assistant");
  EXPECT_GT(hist["messages"].back()["timestamp"].get<int64_t>(), 1700000000000);
  bool saw_final = false, saw_user = false;
  for (const auto& e : hist["events"]) {
    saw_final = saw_final || e["eventType"] == "agent_final";
    saw_user =
        saw_user || (e["eventType"] == "user_message" && e["payload"]["userId"] == "node:phone-1");
  }
  EXPECT_TRUE(saw_final) << hist.dump();
  EXPECT_TRUE(saw_user) << hist.dump();

  json foreign = c.call("chat.send", {{"sessionKey", foreign_sid}, {"message", "x"}});
  EXPECT_EQ(foreign["ok"], false);
  EXPECT_EQ(foreign["error"]["code"], "NOT_FOUND") << foreign.dump();

  // sessions.resolve names the session for its key, in the node's org only.
  json resolved =
      BridgeClient::parse_field(c.call("sessions.resolve", {{"sessionKey", sid}}), "payloadJSON");
  EXPECT_EQ(resolved["session"]["id"], sid) << resolved.dump();
  EXPECT_EQ(resolved["session"]["pinnedAgentId"], agent->id()) << resolved.dump();
  json hidden = c.call("sessions.resolve", {{"sessionKey", foreign_sid}});
  EXPECT_EQ(hidden["error"]["code"], "NOT_FOUND") << hidden.dump();
  // chat.abort with no run in flight: the reference's "nothing aborted" (turn_cancel_test has
  // the run that is stopped).
  json abort =
      BridgeClient::parse_field(c.call("chat.abort", {{"sessionKey", sid}}), "payloadJSON");
  EXPECT_EQ(abort, json({{"ok", true}, {"aborted", false}, {"runIds", json::array()}}));
  json foreign_abort = c.call("chat.abort", {{"sessionKey", foreign_sid}});
  EXPECT_EQ(foreign_abort["error"]["code"], "NOT_FOUND") << foreign_abort.dump();
}

// sessionKey "main" (the reference's default, issue 20 point 10): each node's own session,
// made on first use with sessions.node_main_engine, pinned on its first turn, and named "main"
// in everything the node gets back.
class BridgeMainSession : public BridgeChat {
 protected:
  EnvOverrides gateway_env() override {
    return {{"VESPID_INTERNAL_TOKEN", kServiceToken},
            {"VESPID_SESSIONS_NODE_MAIN_ENGINE", "vespid.echo.v1"}};
  }
};

TEST_F(BridgeMainSession, MainIsTheNodesOwnSessionMadeOnFirstUse) {
  auto agent = start_agent("main-host");
  auto c = paired_node("phone-main");
  ASSERT_FALSE(HasFailure());
  // No sessionKey at all: "main".
  c.send({{"type", "event"}, {"event", "chat.subscribe"}, {"payloadJSON", json::object().dump()}});
  json res = c.call("chat.send", {{"message", "hello main"}, {"idempotencyKey", "m-1"}});
  ASSERT_EQ(res["ok"], true) << res.dump();
  std::optional<json> fin;
  for (int i = 0; i < 50 && !fin; ++i) {
    auto ev = c.read_until(
        [](const json& f) {
          return f.value("type", "") == "event" && f.value("event", "") == "chat";
        },
        std::chrono::seconds(10));
    ASSERT_TRUE(ev) << agent->log();
    json p = BridgeClient::parse_field(*ev, "payloadJSON");
    EXPECT_EQ(p["sessionKey"], "main") << p.dump();
    if (p["state"] == "final") fin = p;
  }
  ASSERT_TRUE(fin);
  EXPECT_EQ((*fin)["message"]["content"][0]["text"], "hello main");

  json hist =
      BridgeClient::parse_field(c.call("chat.history", {{"sessionKey", "main"}}), "payloadJSON");
  EXPECT_EQ(hist["sessionKey"], "main");
  const std::string sid = hist["sessionId"];
  EXPECT_TRUE(is_uuid(sid)) << hist.dump();
  ASSERT_GE(hist["messages"].size(), 2u) << hist.dump();

  // An ordinary session of the org: operators see it, pinned to the host that answered.
  HttpReply got = rest("GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid, member_token_);
  ASSERT_EQ(got.status, 200) << got.raw_body;
  EXPECT_EQ(got.body["session"]["pinnedAgentId"], agent->id());
  EXPECT_EQ(got.body["session"]["engineId"], "vespid.echo.v1");
  EXPECT_EQ(got.body["session"]["createdBy"], "node:phone-main");
  json listed = BridgeClient::parse_field(c.call("sessions.list"), "payloadJSON");
  bool keyed_main = false;
  for (const auto& row : listed["sessions"]) keyed_main |= row["id"] == sid && row["key"] == "main";
  EXPECT_TRUE(keyed_main) << listed.dump();

  // Another node's "main" is another session; the first node's stays its own.
  auto other = paired_node("phone-two");
  ASSERT_FALSE(HasFailure());
  json other_hist =
      BridgeClient::parse_field(other.call("chat.history", json::object()), "payloadJSON");
  EXPECT_NE(other_hist["sessionId"], sid);
  EXPECT_TRUE(other_hist["messages"].empty()) << other_hist.dump();
  json again = BridgeClient::parse_field(c.call("sessions.resolve", json::object()), "payloadJSON");
  EXPECT_EQ(again["sessionKey"], "main");
  EXPECT_EQ(again["session"]["id"], sid);
}

}  // namespace
}  // namespace vespid::test
