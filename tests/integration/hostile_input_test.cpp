// What a stranger on the network can send, through the real gateway and its real listeners:
// deeply nested JSON on every dialect, a second requester trying to take over a pending bridge
// pairing, and a node host's agent token presented as a bridge credential. Each case asserts
// the dialect's own error form and that the gateway is still alive and serving afterwards.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "bridge_client.hpp"
#include "node_host_support.hpp"
#include "operator_client.hpp"
#include "process.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// `depth` nested arrays around 1: "[[[...1...]]]". 100,000 of them is about 200 KB, under every
// frame limit, and deep enough to overflow the stack of any recursive copy or dump.
std::string nested_arrays(int depth) {
  return std::string(static_cast<size_t>(depth), '[') + "1" +
         std::string(static_cast<size_t>(depth), ']');
}

class HostileInput : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    bridge_port_ = pick_free_port();
    ws_config_extra_ = {
        {"routes",
         json::array(
             {{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}},
              {{"path", "/ws/client"}, {"dialect", "vespid.client.v1"}, {"websocket", true}},
              {{"path", "/ws/operator"}, {"dialect", "operator.v1"}, {"websocket", true}}})}};
    extra_instances_.push_back(
        {{"name", "bridge"}, {"plugin", "bridge"}, {"config", {{"port", bridge_port_}}}});
    start_gateway();
    bootstrap_identity();
    admin_ = cli::OperatorClient::connect(gw_.socket_path());
  }

  BridgeClient bridge() { return BridgeClient::connect("127.0.0.1", bridge_port_); }

  // The gateway process is alive and answers on its admin socket and its HTTP API.
  void expect_alive() {
    ASSERT_TRUE(gw_.running()) << "the gateway died\n" << gw_.log_text();
    EXPECT_NO_THROW(admin_.call("whoami"));
    EXPECT_EQ(rest("GET", "/v1/orgs/" + org_id_ + "/agents", admin_token_).status, 200);
  }

  // The request id the operator sees for `node_id`, waiting up to 2 s for it to appear.
  std::string pending_request(const std::string& node_id, json* seen = nullptr) {
    for (int i = 0; i < 100; ++i) {
      const json pending = admin_.call("nodes.pending");  // kept: the loop reads into it
      for (const auto& p : pending["pending"]) {
        if (p["nodeId"] == node_id) {
          if (seen) *seen = p;
          return p["requestId"];
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    return "";
  }

  int bridge_port_ = 0;
  cli::OperatorClient admin_;
};

TEST_F(HostileInput, DeepJsonOnTheBridgeBeforeLoginIsRefusedAndTheGatewayLives) {
  const std::string deep = nested_arrays(100000);
  auto c = bridge();
  c.send_raw(R"({"type":"ping","id":)" + deep + "}\n");
  auto e = c.read(10s);
  ASSERT_TRUE(e) << gw_.log_text();
  EXPECT_EQ((*e)["type"], "error");
  EXPECT_EQ((*e)["code"], "INVALID_REQUEST");
  EXPECT_NE((*e)["message"].get<std::string>().find("json_max_depth"), std::string::npos)
      << (*e).dump();
  EXPECT_LT((*e).dump().size(), 1024u) << "the deep value is never echoed back";

  c.send_raw(R"({"type":"req","method":"health","id":)" + deep + "}\n");
  e = c.read(10s);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "INVALID_REQUEST");

  // The socket stays in step: a plain ping after the refusals is answered.
  c.send({{"type", "ping"}, {"id", "after"}});
  auto pong = c.read_type("pong", 5s);
  ASSERT_TRUE(pong);
  EXPECT_EQ((*pong)["id"], "after");
  expect_alive();
}

TEST_F(HostileInput, DeepJsonInsideBridgeParamsIsRefusedAfterLogin) {
  auto c = bridge();
  c.pair_request("kiosk", {{"displayName", "kiosk"}});
  std::string rid = pending_request("kiosk");
  ASSERT_FALSE(rid.empty());
  admin_.call("nodes.approve", {{"requestId", rid}, {"org", "acme"}});
  ASSERT_TRUE(c.read_type("hello-ok", 5s));

  c.send({{"type", "req"},
          {"id", "deep"},
          {"method", "voicewake.set"},
          {"paramsJSON", nested_arrays(100000)}});
  auto r = c.read_type("res", 10s);
  ASSERT_TRUE(r) << gw_.log_text();
  EXPECT_EQ((*r)["id"], "deep");
  EXPECT_EQ((*r)["ok"], false);
  EXPECT_EQ((*r)["error"]["code"], "INVALID_REQUEST");

  // Just under the limit still works: 60 levels of nesting inside a 64-level cap.
  json sixty = 1;
  for (int i = 0; i < 60; ++i) sixty = json::array({sixty});
  c.send({{"type", "req"}, {"id", "ok"}, {"method", "health"}, {"paramsJSON", sixty.dump()}});
  r = c.read_type("res", 5s);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["ok"], true) << (*r).dump();
  expect_alive();
}

TEST_F(HostileInput, DeepJsonOverHttpIsABadRequestBeforeTheTokenIsChecked) {
  const std::string body =
      R"({"pairingToken":"x.y","name":"n","agentVersion":"1","capabilities":)" +
      nested_arrays(100000) + "}";
  HttpReply r = http_request(api(), "POST", "/v1/agents/pair", {}, body);
  EXPECT_EQ(r.status, 400) << r.raw_body << r.error;
  EXPECT_EQ(r.body.value("code", ""), "BAD_REQUEST") << r.raw_body;
  expect_alive();
}

// The ws plugin hands a request's body to the core as its bytes, after the envelope and a
// newline (VSP_CONN_REST_RAW_BODY): bytes that are not UTF-8 are the caller's 400, and newlines
// or a second envelope inside a body are only text of that body.
TEST_F(HostileInput, ABodyIsItsOwnBytesNotUtf8RefusedNewlinesKept) {
  HttpReply r = http_request(api(), "POST", "/v1/agents/pair", {},
                             std::string("{\"pairingToken\":\"\xff\xfe\",\"name\":\"n\"}"));
  EXPECT_EQ(r.status, 400) << r.raw_body << r.error;
  EXPECT_EQ(r.body.value("code", ""), "BAD_REQUEST") << r.raw_body;
  EXPECT_NE(r.body.value("message", "").find("not UTF-8"), std::string::npos) << r.raw_body;

  // Pretty-printed, with a name that holds what a second envelope would look like.
  const std::string name = "n\n{\"method\":\"DELETE\",\"path\":\"/v1/agents/x\"}\n";
  const json pair = {
      {"pairingToken", pairing_token(admin_token_)}, {"name", name}, {"agentVersion", "0.9.0"}};
  r = http_request(api(), "POST", "/v1/agents/pair", {{"Content-Type", "application/json"}},
                   pair.dump(2) + "\n");
  ASSERT_EQ(r.status, 201) << r.raw_body << r.error;
  const std::string agent = r.body.value("agentId", "");
  HttpReply list = rest("GET", "/v1/orgs/" + org_id_ + "/agents", admin_token_);
  ASSERT_EQ(list.status, 200) << list.raw_body;
  bool found = false;
  for (const auto& a : list.body["agents"]) {
    if (a.value("id", "") == agent) {
      found = true;
      EXPECT_EQ(a.value("name", ""), name) << a.dump();
    }
  }
  EXPECT_TRUE(found) << "the paired host is listed: " << list.raw_body;
  expect_alive();
}

TEST_F(HostileInput, DeepJsonOnWebSocketDialectsIsRefusedInTheirOwnForm) {
  const std::string deep = nested_arrays(100000);

  WsClient op(ws());
  ASSERT_EQ(op.connect("/ws/operator"), 101);
  op.send_text(R"({"type":"req","method":"whoami","id":)" + deep + "}");
  auto res = op.read(10s);
  ASSERT_TRUE(res) << gw_.log_text();
  EXPECT_EQ((*res)["type"], "res");
  EXPECT_EQ((*res)["ok"], false);
  EXPECT_EQ((*res)["error"]["code"], "INVALID_REQUEST");

  WsClient client(ws());
  ASSERT_EQ(
      client.connect("/ws/client?orgId=" + org_id_, {{"Authorization", "Bearer " + member_token_}}),
      101);
  client.send_text(R"({"type":"session_join","sessionId":)" + deep + "}");
  auto err = client.read_type("session_error", 10s);
  ASSERT_TRUE(err) << gw_.log_text();
  EXPECT_EQ((*err)["code"], "BAD_REQUEST");

  PairedAgent a = pair("deep-host");
  WsClient agent(ws());
  ASSERT_EQ(agent.connect("/ws", {{"Authorization", "Bearer " + a.token}}), 101);
  agent.send_text(R"({"type":"hello","agentVersion":"1","name":"h","capabilities":)" + deep + "}");
  agent.send({{"type", "ping"}, {"ts", 7}});
  auto pong = agent.read_type("pong", 10s);
  ASSERT_TRUE(pong) << "the node host's connection stays in step\n" << gw_.log_text();
  EXPECT_EQ((*pong)["ts"], 7);
  expect_alive();
}

TEST_F(HostileInput, TextEndingInsideACharacterIsRefusedAsInvalidNotDelivered) {
  WsClient op(ws());
  ASSERT_EQ(op.connect("/ws/operator"), 101);
  // A text frame ending in the first byte of a three-byte character, then an empty final frame.
  op.send_fragmented({"{\"type\":\"req\",\"method\":\"whoami\",\"id\":\"\xe3", ""}, false);
  auto res = op.read(10s);
  ASSERT_TRUE(res) << gw_.log_text();
  EXPECT_EQ((*res)["type"], "res");
  EXPECT_EQ((*res)["ok"], false);
  EXPECT_EQ((*res)["error"]["code"], "INVALID_REQUEST");
  EXPECT_NE((*res)["error"]["message"].get<std::string>().find("ends inside a character"),
            std::string::npos)
      << res->dump();
  expect_alive();
}

TEST_F(HostileInput, ASecondRequesterCannotTakeOverAPendingBridgePairing) {
  auto real = bridge();
  real.pair_request("phone-7", {{"displayName", "Ann's phone"}, {"platform", "ios"}});
  json seen;
  std::string rid = pending_request("phone-7", &seen);
  ASSERT_FALSE(rid.empty());
  EXPECT_EQ(seen["displayName"], "Ann's phone");

  // A stranger asks for the same node id while the real device waits.
  auto stranger = bridge();
  stranger.pair_request("phone-7", {{"displayName", "Ann's phone (really)"}, {"platform", "x"}});
  auto refused = stranger.read_type("error", 5s);
  ASSERT_TRUE(refused);
  EXPECT_EQ((*refused)["code"], "UNAVAILABLE") << (*refused).dump();

  json now;
  EXPECT_EQ(pending_request("phone-7", &now), rid) << "the request id is unchanged";
  EXPECT_EQ(now["displayName"], "Ann's phone") << "the claims the operator sees are unchanged";

  // The operator approves what they saw: the real device gets the token, the stranger nothing.
  admin_.call("nodes.approve", {{"requestId", rid}, {"org", "acme"}});
  auto ok = real.read_type("pair-ok", 5s);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(real.read_type("hello-ok", 5s));
  EXPECT_FALSE(stranger.read_type("pair-ok", 500ms)) << "the token went to the stranger";
  json health = real.call("health");
  EXPECT_EQ(health["ok"], true);
}

TEST_F(HostileInput, ARequestWhoseConnectionIsGoneIsReplacedUnderANewId) {
  std::string first_id;
  {
    auto gone = bridge();
    gone.pair_request("tablet-2", {{"displayName", "first"}});
    first_id = pending_request("tablet-2");
    ASSERT_FALSE(first_id.empty());
    gone.close();
  }
  // The connection that made it is gone: a new requester may ask, but not under the old id.
  auto next = bridge();
  json now;
  for (int i = 0; i < 50; ++i) {
    next.pair_request("tablet-2", {{"displayName", "second"}});
    if (auto e = next.read(300ms); e && (*e)["type"] == "error") {
      std::this_thread::sleep_for(50ms);  // the close may not have been handled yet
      continue;
    }
    break;
  }
  std::string second_id;
  for (int i = 0; i < 100 && (second_id.empty() || second_id == first_id); ++i) {
    second_id = pending_request("tablet-2", &now);
    if (second_id == first_id) std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(second_id, first_id);
  EXPECT_EQ(now["displayName"], "second");
  EXPECT_THROW(admin_.call("nodes.approve", {{"requestId", first_id}, {"org", "acme"}}),
               std::exception)
      << "approving the old request must not reach the new requester";
  admin_.call("nodes.approve", {{"requestId", second_id}, {"org", "acme"}});
  EXPECT_TRUE(next.read_type("pair-ok", 5s));
}

TEST_F(HostileInput, ANodeHostTokenIsNoBridgeCredential) {
  PairedAgent a = pair("build-box");
  ASSERT_FALSE(a.id.empty());
  const std::string secret = a.token.substr(a.token.find('.') + 1);
  for (const std::string& presented : {secret, a.token}) {
    auto c = bridge();
    json r = c.hello(a.id, presented);
    EXPECT_EQ(r["type"], "error") << r.dump();
    EXPECT_EQ(r["code"], "UNAUTHORIZED") << r.dump();
    json sessions = c.call("sessions.list");
    EXPECT_EQ(sessions["ok"], false) << "a node host's token opened the bridge allowlist";
    EXPECT_EQ(sessions["error"]["code"], "UNAUTHORIZED");
  }
  // Nor can the node host's id be claimed by pairing a bridge device under it.
  auto c = bridge();
  c.pair_request(a.id, {{"displayName", "impostor"}});
  auto e = c.read_type("error", 5s);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "FORBIDDEN") << (*e).dump();
  EXPECT_EQ(pending_request(a.id), "");
  expect_alive();
}

TEST_F(HostileInput, ARevokedAccessTokenClosesTheSocketsThatHoldIt) {
  const json issued = admin_.call("tokens.create", {{"user", "bob"}});
  const std::string token = issued["token"], token_id = issued["tokenId"];

  WsClient client(ws());
  ASSERT_EQ(client.connect("/ws/client?orgId=" + org_id_, {{"Authorization", "Bearer " + token}}),
            101);
  WsClient op(ws());
  ASSERT_EQ(op.connect("/ws/operator", {{"Authorization", "Bearer " + token}}), 101);
  op.send({{"type", "req"}, {"id", 1}, {"method", "whoami"}});
  auto who = op.read_type("res", 5s);
  ASSERT_TRUE(who);
  EXPECT_EQ((*who)["ok"], true) << who->dump();

  const json revoked = admin_.call("tokens.revoke", {{"tokenId", token_id}});
  EXPECT_EQ(revoked["closedConnections"], 2) << revoked.dump();
  for (WsClient* c : {&client, &op}) {
    for (int i = 0; i < 50 && !c->closed(); ++i) c->read(100ms);
    EXPECT_TRUE(c->closed()) << "a socket kept a revoked token";
  }
  // And it opens nothing new.
  WsClient again(ws());
  EXPECT_EQ(again.connect("/ws/operator", {{"Authorization", "Bearer " + token}}), 401);
  expect_alive();
}

// Item 5: a field of the wrong JSON type is answered in the dialect's error form, naming the
// field, and a node host's malformed result still settles its request instead of being resent.
TEST_F(HostileInput, AFieldOfTheWrongTypeIsAnsweredInEveryDialect) {
  // bridge.v1: hello.token is a number.
  {
    auto c = bridge();
    c.send({{"type", "hello"}, {"nodeId", "kiosk-2"}, {"token", 5}});
    auto e = c.read(5s);
    ASSERT_TRUE(e) << "no answer to a hello with a numeric token\n" << gw_.log_text();
    EXPECT_EQ((*e)["type"], "error") << e->dump();
    EXPECT_EQ((*e)["code"], "INVALID_REQUEST") << e->dump();
    EXPECT_NE((*e)["message"].get<std::string>().find("hello.token"), std::string::npos)
        << e->dump();
  }
  // bridge.v1 after login: a string limit inside paramsJSON.
  {
    auto c = bridge();
    c.pair_request("kiosk-3", {{"displayName", "kiosk"}});
    std::string rid = pending_request("kiosk-3");
    ASSERT_FALSE(rid.empty());
    admin_.call("nodes.approve", {{"requestId", rid}, {"org", "acme"}});
    ASSERT_TRUE(c.read_type("hello-ok", 5s));
    c.send({{"type", "req"},
            {"id", "l"},
            {"method", "sessions.list"},
            {"paramsJSON", R"({"limit":"x"})"}});
    auto r = c.read_type("res", 5s);
    ASSERT_TRUE(r) << gw_.log_text();
    EXPECT_EQ((*r)["id"], "l");
    EXPECT_EQ((*r)["ok"], false);
    EXPECT_EQ((*r)["error"]["code"], "INVALID_REQUEST") << r->dump();
  }
  // vespid.node.v1: a hello with a numeric agentVersion, then a result whose status is 5.
  PairedAgent a = pair("typed-host");
  auto host = connect_agent(a);
  host->send({{"type", "hello"}, {"agentVersion", 5}});
  auto he = host->read_type("error", 5s);
  ASSERT_TRUE(he) << gw_.log_text();
  EXPECT_EQ((*he)["code"], "INVALID_REQUEST") << he->dump();

  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("typed")).status, 201);
  auto ex = host->read_type("execute", 5s);
  ASSERT_TRUE(ex);
  const std::string request_id = (*ex)["requestId"];
  host->send({{"type", "execute_result"}, {"requestId", request_id}, {"status", 5}});
  bool told = false, acked = false;
  for (int i = 0; i < 4 && !(told && acked); ++i) {
    auto m = host->read(5s);
    ASSERT_TRUE(m) << gw_.log_text();
    if ((*m)["type"] == "error" && (*m)["code"] == "INVALID_REQUEST") told = true;
    if ((*m)["type"] == "execute_ack" && (*m)["requestId"] == request_id) acked = true;
  }
  EXPECT_TRUE(told) << "the host was not told its result was malformed";
  EXPECT_TRUE(acked) << "a malformed result left unacknowledged is resent forever";
  HttpReply result = internal("GET", "/internal/v1/results/" + request_id);
  ASSERT_EQ(result.status, 200) << result.raw_body;
  EXPECT_EQ(result.body["status"], "failed") << result.raw_body;

  // vespid.client.v1: a numeric message; a structured id is not echoed back.
  WsClient client(ws());
  ASSERT_EQ(
      client.connect("/ws/client?orgId=" + org_id_, {{"Authorization", "Bearer " + member_token_}}),
      101);
  client.send({{"type", "session_send"}, {"sessionId", "s"}, {"message", 5}, {"id", {1, 2}}});
  auto ce = client.read_type("session_error", 5s);
  ASSERT_TRUE(ce) << gw_.log_text();
  EXPECT_EQ((*ce)["code"], "BAD_REQUEST") << ce->dump();
  EXPECT_FALSE(ce->contains("id") && (*ce)["id"].is_array()) << ce->dump();

  // operator.v1: a numeric parameter where a string belongs.
  WsClient op(ws());
  ASSERT_EQ(op.connect("/ws/operator", {{"Authorization", "Bearer " + admin_token_}}), 101);
  op.send({{"type", "req"},
           {"id", 9},
           {"method", "sessions.list"},
           {"params", {{"orgId", org_id_}, {"limit", "x"}}}});
  auto oe = op.read_type("res", 5s);
  ASSERT_TRUE(oe) << gw_.log_text();
  EXPECT_EQ((*oe)["id"], 9);
  EXPECT_EQ((*oe)["ok"], false);
  EXPECT_EQ((*oe)["error"]["code"], "INVALID_REQUEST") << oe->dump();

  // rest.v1: a numeric name in the pairing body.
  HttpReply r =
      http_request(api(), "POST", "/v1/agents/pair", {}, R"({"pairingToken":"x.y","name":5})");
  EXPECT_EQ(r.status, 400) << r.raw_body;
  expect_alive();
}

// Item 4: a token that expires closes the sockets that hold it, when it expires.
TEST_F(HostileInput, AnExpiringAccessTokenClosesTheSocketsThatHoldItWhenItExpires) {
  const json issued = admin_.call("tokens.create", {{"user", "bob"}, {"ttlSeconds", 2}});
  const std::string token = issued["token"];
  const auto issued_at = std::chrono::steady_clock::now();
  WsClient client(ws());
  ASSERT_EQ(client.connect("/ws/client?orgId=" + org_id_, {{"Authorization", "Bearer " + token}}),
            101);
  WsClient op(ws());
  ASSERT_EQ(op.connect("/ws/operator", {{"Authorization", "Bearer " + token}}), 101);
  op.send({{"type", "req"}, {"id", 1}, {"method", "whoami"}});
  auto who = op.read_type("res", 5s);
  ASSERT_TRUE(who);
  EXPECT_EQ((*who)["ok"], true) << who->dump();

  auto said_expired = [](const std::optional<json>& m) {
    return m && m->dump().find("expired") != std::string::npos;
  };
  EXPECT_TRUE(said_expired(op.read_type("res", 6s))) << "operator.v1 was not told";
  EXPECT_TRUE(said_expired(client.read_type("session_error", 6s))) << "the client was not told";
  for (WsClient* c : {&client, &op}) {
    for (int i = 0; i < 50 && !c->closed(); ++i) c->read(100ms);
    EXPECT_TRUE(c->closed()) << "a socket outlived its token";
  }
  EXPECT_GE(std::chrono::steady_clock::now() - issued_at, 1500ms) << "closed before expiry";
  expect_alive();
}

// Item 4: removing a member closes the connections that act in that org for them.
TEST_F(HostileInput, RemovingAMemberClosesTheirConnectionsInThatOrg) {
  WsClient client(ws());
  ASSERT_EQ(
      client.connect("/ws/client?orgId=" + org_id_, {{"Authorization", "Bearer " + member_token_}}),
      101);
  client.send({{"type", "client_hello"}, {"id", 1}});
  ASSERT_TRUE(client.read_type("client_hello_ok", 5s));

  const json removed = admin_.call("members.remove", {{"org", "acme"}, {"user", "bob"}});
  EXPECT_EQ(removed["closedConnections"], 1) << removed.dump();
  auto told = client.read_type("session_error", 5s);
  ASSERT_TRUE(told);
  EXPECT_EQ((*told)["code"], "FORBIDDEN") << told->dump();
  for (int i = 0; i < 50 && !client.closed(); ++i) client.read(100ms);
  EXPECT_TRUE(client.closed());
  WsClient again(ws());
  EXPECT_EQ(
      again.connect("/ws/client?orgId=" + org_id_, {{"Authorization", "Bearer " + member_token_}}),
      403);
  // Not a member any more: removing again is NOT_FOUND.
  EXPECT_THROW(admin_.call("members.remove", {{"org", "acme"}, {"user", "bob"}}), std::exception);
  expect_alive();
}

// A connection that revokes its own token hears that it worked, then is closed.
TEST_F(HostileInput, RevokingYourOwnTokenIsAnsweredBeforeTheClose) {
  const json issued = admin_.call("tokens.create", {{"user", "bob"}});
  const std::string token = issued["token"], token_id = issued["tokenId"];
  WsClient op(ws());
  ASSERT_EQ(op.connect("/ws/operator", {{"Authorization", "Bearer " + token}}), 101);
  op.send({{"type", "req"},
           {"id", 5},
           {"method", "tokens.revoke"},
           {"params", {{"tokenId", token_id}}}});
  auto res = op.read_type("res", 5s);
  ASSERT_TRUE(res) << "the reply was lost to the close\n" << gw_.log_text();
  EXPECT_EQ((*res)["id"], 5);
  EXPECT_EQ((*res)["ok"], true) << res->dump();
  for (int i = 0; i < 50 && !op.closed(); ++i) op.read(100ms);
  EXPECT_TRUE(op.closed());
}

}  // namespace
}  // namespace vespid::test
