// Stopping a running turn (issue 20 point 11): vespid.client.v1 `session_cancel`, REST
// POST .../cancel, operator.v1 sessions.cancel and the bridge's chat.abort, through the real
// gateway, with the real vespid-agent (which stops its engine on vespid.node.v1
// `session_cancel`) and with a node host the test plays (to see the frame it gets).
#include <gtest/gtest.h>

#include <deque>
#include <thread>

#include "agent_host.hpp"
#include "bridge_client.hpp"
#include "node_host_support.hpp"
#include "operator_client.hpp"
#include "process.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using ms = std::chrono::milliseconds;

// A client's frames, read in order, where a frame skipped while waiting for another stays for a
// later wait (read_type would drop it, and an answer and an event may come in either order).
class FrameReader {
 public:
  explicit FrameReader(WsClient& c) : c_(c) {}
  template <class Pred>
  std::optional<json> next(Pred match, ms timeout = ms(10000)) {
    for (auto it = kept_.begin(); it != kept_.end(); ++it) {
      if (match(*it)) {
        json f = std::move(*it);
        kept_.erase(it);
        return f;
      }
    }
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto f = c_.read(ms(500));
      if (!f) {
        if (c_.closed()) return std::nullopt;
        continue;
      }
      if (match(*f)) return f;
      kept_.push_back(std::move(*f));
    }
    return std::nullopt;
  }
  std::optional<json> type(const std::string& t) {
    return next([&](const json& f) { return f.value("type", "") == t; });
  }
  std::optional<json> event(const std::string& event_type, ms timeout = ms(10000)) {
    return next(
        [&](const json& f) {
          return f.value("type", "") == "session_event" && f.value("eventType", "") == event_type;
        },
        timeout);
  }

 private:
  WsClient& c_;
  std::deque<json> kept_;
};

class TurnCancel : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    bridge_port_ = pick_free_port();
    extra_instances_ = json::array(
        {{{"name", "bridge"}, {"plugin", "bridge"}, {"config", {{"port", bridge_port_}}}}});
    ws_config_extra_ = {
        {"routes",
         json::array(
             {{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}},
              {{"path", "/ws/client"}, {"dialect", "vespid.client.v1"}, {"websocket", true}}})}};
    start_gateway();
    bootstrap_identity();
  }

  // A real node host whose echo engine says one word every 200 ms: a turn of 40 words runs for
  // 8 s unless it is stopped.
  std::unique_ptr<AgentHost> start_slow_agent() {
    auto a = std::make_unique<AgentHost>(dir_, "slow-host", pairing_token(admin_token_), api_port_);
    a->start({}, {"--echo-delay-ms", "200"});
    EXPECT_TRUE(wait_agent_status(a->id(), "online")) << a->log();
    return a;
  }

  std::string create_echo_session() {
    HttpReply r = rest("POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                       {{"title", "cancel me"}, {"engine", "vespid.echo.v1"}, {"model", "none"}});
    EXPECT_EQ(r.status, 201) << r.raw_body;
    return r.body["session"].value("id", "");
  }

  std::unique_ptr<WsClient> client() {
    auto c = std::make_unique<WsClient>(ws());
    c->connect("/ws/client", {{"Authorization", "Bearer " + member_token_}, {"x-org-id", org_id_}});
    return c;
  }

  json stored_events(const std::string& sid) {
    HttpReply r = rest("GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/events?limit=200",
                       member_token_);
    EXPECT_EQ(r.status, 200) << r.raw_body;
    return r.body.value("events", json::array());
  }

  // Polls GET /internal/v1/results/<id> until the host's result is stored.
  HttpReply wait_result(const std::string& request_id) {
    HttpReply r;
    for (int i = 0; i < 300; ++i) {
      r = internal("GET", "/internal/v1/results/" + request_id);
      if (r.status == 200) return r;
      std::this_thread::sleep_for(ms(20));
    }
    return r;
  }

  // A message over REST; the execute the scripted host `h` gets for it.
  std::optional<json> send_and_read_execute(WsClient& h, const std::string& sid,
                                            const std::string& message) {
    HttpReply sent = rest("POST", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/messages",
                          member_token_, {{"message", message}});
    EXPECT_EQ(sent.status, 202) << sent.raw_body;
    return h.read_type("execute");
  }

  static std::string long_message() {
    std::string m;
    for (int i = 1; i <= 40; ++i) m += (i > 1 ? " w" : "w") + std::to_string(i);
    return m;
  }

  int bridge_port_ = 0;
};

TEST_F(TurnCancel, SessionCancelStopsTheRealAgentAndEndsTheTurnOnce) {
  auto agent = start_slow_agent();
  const std::string sid = create_echo_session();
  auto c = client();
  FrameReader in(*c);
  c->send({{"type", "session_join"}, {"sessionId", sid}});
  ASSERT_TRUE(in.type("session_joined"));

  // Nothing runs yet: nothing to cancel.
  c->send({{"type", "session_cancel"}, {"sessionId", sid}, {"id", 1}});
  auto idle = in.type("session_cancelled");
  ASSERT_TRUE(idle);
  EXPECT_EQ((*idle)["cancelled"], false) << idle->dump();
  EXPECT_EQ((*idle)["id"], 1);

  c->send({{"type", "session_send"}, {"sessionId", sid}, {"message", long_message()}});
  auto delta = in.event("agent_delta");
  ASSERT_TRUE(delta) << agent->log();
  const std::string rid = (*delta)["payload"].value("runId", "");
  EXPECT_EQ(rid, sid + ":agent:3");

  c->send({{"type", "session_cancel"}, {"sessionId", sid}, {"id", 2}});
  auto done = in.type("session_cancelled");
  ASSERT_TRUE(done);
  EXPECT_EQ((*done)["cancelled"], true) << done->dump();
  EXPECT_EQ((*done)["requestId"], rid);
  EXPECT_EQ((*done)["hostNotified"], true);
  auto ended = in.event("error");
  ASSERT_TRUE(ended);
  EXPECT_EQ((*ended)["payload"]["code"], "TURN_CANCELED") << ended->dump();
  EXPECT_EQ((*ended)["payload"]["stopReason"], "session_cancel");
  EXPECT_EQ((*ended)["payload"]["requestId"], rid);
  const uint64_t end_seq = (*ended)["seq"];

  // The host stopped its engine: its result is the reference's TURN_CANCELED, long before the
  // 8 s the whole answer would take (a host that ran on would store `succeeded`).
  HttpReply result = wait_result(rid);
  ASSERT_EQ(result.status, 200) << result.raw_body << agent->log();
  EXPECT_EQ(result.body["status"], "failed");
  EXPECT_EQ(result.body.value("error", "").rfind("TURN_CANCELED", 0), 0u) << result.raw_body;
  EXPECT_NE(agent->log().find("cancelled by the gateway"), std::string::npos) << agent->log();

  // Nothing of the stopped turn is stored after its end; no second end.
  json evs = stored_events(sid);
  int errors = 0, finals = 0;
  for (const auto& e : evs) {
    errors += e["eventType"] == "error";
    finals += e["eventType"] == "agent_final";
  }
  EXPECT_EQ(errors, 1) << evs.dump();
  EXPECT_EQ(finals, 0) << evs.dump();
  EXPECT_EQ(evs.back()["seq"], end_seq) << evs.dump();

  // The session goes on: the next turn is answered in full.
  c->send({{"type", "session_send"}, {"sessionId", sid}, {"message", "after the stop"}});
  auto fin = in.event("agent_final", ms(20000));
  ASSERT_TRUE(fin) << agent->log();
  EXPECT_EQ((*fin)["payload"]["text"], "after the stop");
}

TEST_F(TurnCancel, RestAndOperatorCancelSendTheReferenceFrameAndDropTheHostsLateEvents) {
  PairedAgent host = pair("scripted");
  auto h = connect_agent(host, {{"kinds", {"agent.run"}}});
  const std::string sid = create_echo_session();
  const std::string cancel_path = "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/cancel";

  HttpReply none = rest("POST", cancel_path, member_token_);
  ASSERT_EQ(none.status, 200) << none.raw_body;
  EXPECT_EQ(none.body["cancelled"], false);
  EXPECT_EQ(rest("POST", cancel_path, outsider_token_).status, 403)
      << "another org's member cannot stop the turn";

  auto ex = send_and_read_execute(*h, sid, "hello");
  ASSERT_TRUE(ex);
  const std::string rid = (*ex)["requestId"];
  h->send({{"type", "execute_received"}, {"requestId", rid}});

  HttpReply stopped = rest("POST", cancel_path, member_token_);
  ASSERT_EQ(stopped.status, 200) << stopped.raw_body;
  EXPECT_EQ(stopped.body["cancelled"], true);
  EXPECT_EQ(stopped.body["requestId"], rid);

  // The reference's frame (its later node agent's sessionCancelSchema).
  auto frame = h->read_type("session_cancel");
  ASSERT_TRUE(frame);
  EXPECT_EQ((*frame)["requestId"], rid);
  EXPECT_EQ((*frame)["organizationId"], org_id_);
  EXPECT_EQ((*frame)["sessionId"], sid);

  // A host that goes on anyway: its events and result are not session events any more, and
  // its result is still acknowledged (so it stops resending).
  h->send({{"type", "execute_event"},
           {"requestId", rid},
           {"event",
            {{"seq", 1},
             {"ts", 1},
             {"kind", "agent.assistant_delta"},
             {"payload", {{"text", "late"}}}}}});
  h->send({{"type", "execute_result"},
           {"requestId", rid},
           {"status", "succeeded"},
           {"output", {{"text", "late"}}}});
  ASSERT_TRUE(h->read_type("execute_ack"));
  // A ping round trip: the frames before it were handled.
  h->send({{"type", "ping"}, {"ts", 1}});
  ASSERT_TRUE(h->read_type("pong"));
  json evs = stored_events(sid);
  ASSERT_FALSE(evs.empty());
  EXPECT_EQ(evs.back()["eventType"], "error") << evs.dump();
  EXPECT_EQ(evs.back()["payload"]["code"], "TURN_CANCELED");
  EXPECT_EQ(evs.back()["payload"]["stopReason"], "rest");
  for (const auto& e : evs) EXPECT_NE(e["eventType"], "agent_delta") << e.dump();

  // operator.v1: the next turn, stopped from the local admin socket.
  auto ex2 = send_and_read_execute(*h, sid, "again");
  ASSERT_TRUE(ex2);
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  json r = admin.call("sessions.cancel", {{"orgId", org_id_}, {"sessionId", sid}});
  EXPECT_EQ(r["cancelled"], true) << r.dump();
  EXPECT_EQ(r["requestId"], (*ex2)["requestId"]);
  auto frame2 = h->read_type("session_cancel");
  ASSERT_TRUE(frame2);
  EXPECT_EQ((*frame2)["requestId"], (*ex2)["requestId"]);

  // The CLI: `vespid session cancel`, then again with nothing left to stop.
  auto ex3 = send_and_read_execute(*h, sid, "third");
  ASSERT_TRUE(ex3);
  const std::vector<std::string> cancel_cmd = {
      VESPID_CLI_BIN, "session",
      "cancel",       sid,
      "--api",        "http://127.0.0.1:" + std::to_string(api_port_),
      "--org",        org_id_,
      "--token",      member_token_};
  CommandResult cli = run_command(cancel_cmd);
  ASSERT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  EXPECT_EQ(cli.out, "turn " + (*ex3)["requestId"].get<std::string>() + " cancelled\n");
  ASSERT_TRUE(h->read_type("session_cancel"));
  CommandResult idle = run_command(cancel_cmd);
  ASSERT_EQ(idle.exit_code, 0) << idle.err;
  EXPECT_NE(idle.out.find("has no turn running"), std::string::npos) << idle.out;
}

TEST_F(TurnCancel, ChatAbortOnTheBridgeAbortsTheRunAndSubscribersSeeAborted) {
  auto agent = start_slow_agent();
  const std::string sid = create_echo_session();
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  auto c = paired_bridge_node(admin, bridge_port_, "phone-abort", {{"platform", "android"}});
  ASSERT_FALSE(HasFailure());

  json sub = {{"sessionKey", sid}};
  c.send({{"type", "event"}, {"event", "chat.subscribe"}, {"payloadJSON", sub.dump()}});
  json res = c.call(
      "chat.send", {{"sessionKey", sid}, {"message", long_message()}, {"idempotencyKey", "run-1"}});
  ASSERT_EQ(res["ok"], true) << res.dump();
  auto is_chat = [](const json& f) {
    return f.value("type", "") == "event" && f.value("event", "") == "chat";
  };
  auto first = c.read_until(is_chat, std::chrono::seconds(10));
  ASSERT_TRUE(first) << agent->log();
  EXPECT_EQ(BridgeClient::parse_field(*first, "payloadJSON")["state"], "delta");

  // Another run's id aborts nothing (the reference's answer for an unknown run).
  json other = BridgeClient::parse_field(
      c.call("chat.abort", {{"sessionKey", sid}, {"runId", "someone-else"}}), "payloadJSON");
  EXPECT_EQ(other, json({{"ok", true}, {"aborted", false}, {"runIds", json::array()}}));

  json aborted =
      BridgeClient::parse_field(c.call("chat.abort", {{"sessionKey", sid}}), "payloadJSON");
  EXPECT_EQ(aborted, json({{"ok", true}, {"aborted", true}, {"runIds", {"run-1"}}}));
  std::optional<json> last;
  for (int i = 0; i < 100; ++i) {
    auto ev = c.read_until(is_chat, std::chrono::seconds(10));
    ASSERT_TRUE(ev);
    json p = BridgeClient::parse_field(*ev, "payloadJSON");
    if (p["state"] == "delta") continue;
    last = p;
    break;
  }
  ASSERT_TRUE(last);
  EXPECT_EQ((*last)["state"], "aborted") << last->dump();
  EXPECT_EQ((*last)["runId"], "run-1");
  EXPECT_EQ((*last)["sessionKey"], sid);
  EXPECT_EQ((*last)["stopReason"], "rpc");
  EXPECT_FALSE(last->contains("errorMessage")) << last->dump();
}

}  // namespace
}  // namespace vespid::test
