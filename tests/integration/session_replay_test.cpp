// Replay and fan-out under a slow reader (issue 13, item 7), through the real gateway: a join
// with afterSeq streams a large session in pages as the reader takes them, so joins that are not
// read cost the gateway little memory and nobody else waits; every event still arrives, once,
// in order.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "node_host_support.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Resident memory of a process, in KiB (VmRSS).
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

class SessionReplay : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    ws_config_extra_ = {
        {"routes",
         json::array(
             {{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}},
              {{"path", "/ws/client"}, {"dialect", "vespid.client.v1"}, {"websocket", true}}})}};
    config_patch_ = {{"sessions", {{"history_max_bytes", 300000}}}};
    start_gateway();
    bootstrap_identity();
  }

  std::unique_ptr<WsClient> client() {
    auto c = std::make_unique<WsClient>(ws());
    EXPECT_EQ(c->connect("/ws/client",
                         {{"Authorization", "Bearer " + member_token_}, {"x-org-id", org_id_}}),
              101);
    return c;
  }

  // A session whose one turn streamed `deltas` assistant deltas of `bytes` each; returns its id
  // and the seq of its last event.
  std::pair<std::string, uint64_t> large_session(int deltas, size_t bytes) {
    PairedAgent host = pair("streamer");
    auto h = connect_agent(host, {{"kinds", {"agent.run"}}});
    HttpReply created = rest("POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                             {{"engine", "vespid.loop.v1"}, {"model", "m"}});
    EXPECT_EQ(created.status, 201) << created.raw_body;
    const std::string sid = created.body["session"]["id"];
    HttpReply sent = rest("POST", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/messages",
                          member_token_, {{"message", "talk a lot"}});
    EXPECT_LT(sent.status, 300) << sent.raw_body;
    auto ex = h->read_type("execute", 5s);
    EXPECT_TRUE(ex);
    const std::string rid = (*ex)["requestId"];
    const std::string text(bytes, 'x');
    for (int i = 1; i <= deltas; ++i) {
      h->send({{"type", "execute_event"},
               {"requestId", rid},
               {"event",
                {{"seq", i},
                 {"kind", "agent.assistant_delta"},
                 {"level", "info"},
                 {"payload", {{"text", text}}}}}});
    }
    h->send(
        {{"type", "execute_event"},
         {"requestId", rid},
         {"event", {{"seq", deltas + 1}, {"kind", "agent.final"}, {"payload", {{"text", "."}}}}}});
    h->send({{"type", "execute_result"}, {"requestId", rid}, {"status", "succeeded"}});
    EXPECT_TRUE(h->read_type("execute_ack", 30s));
    // The last stored event's seq, from the REST page API.
    uint64_t last = 0;
    for (uint64_t after = 0;;) {
      HttpReply page = rest("GET",
                            "/v1/orgs/" + org_id_ + "/sessions/" + sid +
                                "/events?afterSeq=" + std::to_string(after) + "&limit=200",
                            member_token_);
      EXPECT_EQ(page.status, 200) << page.raw_body;
      for (const auto& ev : page.body["events"]) last = ev["seq"];
      if (!page.body["nextCursor"].is_number()) break;
      after = page.body["nextCursor"];
    }
    return {sid, last};
  }
};

TEST_F(SessionReplay, JoinsThatAreNotReadHoldLittleMemoryAndEveryEventArrivesInOrder) {
  constexpr int kDeltas = 120;
  constexpr size_t kBytes = 200 * 1024;  // 24 MB of stored events
  auto [sid, last_seq] = large_session(kDeltas, kBytes);
  ASSERT_GT(last_seq, static_cast<uint64_t>(kDeltas));

  const long before = rss_kib(gw_.pid());
  ASSERT_GT(before, 0);
  // Six readers join from the start and read nothing for a while.
  std::vector<std::unique_ptr<WsClient>> readers;
  for (int i = 0; i < 6; ++i) {
    readers.push_back(client());
    readers.back()->send({{"type", "session_join"}, {"sessionId", sid}, {"afterSeq", 0}});
  }
  std::this_thread::sleep_for(1500ms);
  const long parked = rss_kib(gw_.pid());
  // Read whole before sending (the old way), six replays of this session grew the gateway by
  // about 100 MiB and the readers were dropped; streamed, each holds a page and the transport's
  // bounded queue (about 15 MiB for all six here).
  std::printf("six unread joins: +%ld MiB\n", (parked - before) / 1024);
  EXPECT_LT(parked - before, 50 * 1024)
      << "six unread joins grew the gateway by " << (parked - before) / 1024 << " MiB";
  // Meanwhile the gateway serves everyone else.
  EXPECT_EQ(rest("GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid, member_token_).status, 200);

  for (auto& r : readers) {
    uint64_t expect = 1;
    bool joined = false;
    while (!joined) {
      auto m = r->read(10s);
      ASSERT_TRUE(m) << "a parked replay never resumed (at seq " << expect << ")\n"
                     << gw_.log_text();
      if ((*m)["type"] == "session_event") {
        ASSERT_EQ((*m)["seq"], expect) << "events out of order or missing";
        ++expect;
      } else if ((*m)["type"] == "session_joined") {
        joined = true;
        EXPECT_EQ((*m)["replayed"], last_seq);
        EXPECT_EQ((*m)["lastSeq"], last_seq);
      } else {
        FAIL() << m->dump();
      }
    }
    EXPECT_EQ(expect, last_seq + 1);
  }
}

// The history sent with a turn is bounded in bytes (sessions.history_max_bytes), newest kept.
TEST_F(SessionReplay, HistoryForATurnIsBoundedInBytesNewestKept) {
  PairedAgent host = pair("historian");
  auto h = connect_agent(host, {{"kinds", {"agent.run"}}});
  HttpReply created = rest("POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                           {{"engine", "vespid.loop.v1"}, {"model", "m"}});
  ASSERT_EQ(created.status, 201) << created.raw_body;
  const std::string sid = created.body["session"]["id"];
  // Each turn: a 200 KB message, answered with a short assistant message.
  auto turn = [&](const std::string& message, const std::string& reply) -> json {
    HttpReply sent = rest("POST", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/messages",
                          member_token_, {{"message", message}});
    EXPECT_LT(sent.status, 300) << sent.raw_body;
    auto ex = h->read_type("execute", 5s);
    EXPECT_TRUE(ex);
    if (!ex) return json();
    const std::string rid = (*ex)["requestId"];
    h->send({{"type", "execute_event"},
             {"requestId", rid},
             {"event",
              {{"seq", 1}, {"kind", "agent.assistant_message"}, {"payload", {{"text", reply}}}}}});
    h->send({{"type", "execute_result"}, {"requestId", rid}, {"status", "succeeded"}});
    EXPECT_TRUE(h->read_type("execute_ack", 5s));
    return (*ex)["payload"]["steps"];  // the reference's name: history, then this message
  };
  turn(std::string(200 * 1024, 'a'), "r1");
  turn(std::string(200 * 1024, 'b'), "r2");
  const json history = turn("c", "r3");
  // Newest first within 300 KB: r2, the 'b' message, r1; the 'a' message does not fit. The
  // turn's own message ends the steps.
  ASSERT_EQ(history.size(), 4u) << history.dump().substr(0, 300);
  EXPECT_EQ(history[3], json({{"role", "user"}, {"content", "c"}}));
  EXPECT_EQ(history[0]["content"], "r1");
  EXPECT_EQ(history[1]["content"].get<std::string>().size(), 200u * 1024);
  EXPECT_EQ(history[1]["content"].get<std::string>()[0], 'b');
  EXPECT_EQ(history[2]["content"], "r2");
}

}  // namespace
}  // namespace vespid::test
