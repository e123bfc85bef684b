// bridge.v1 through the real gateway and the real bridge plugin, with a raw JSONL client: no
// shortcut into the core.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "bridge_client.hpp"
#include "build_paths.hpp"
#include "gateway_process.hpp"
#include "operator_client.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Bridge : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = pick_free_port();
    tls_port_ = pick_free_port();
    json cfg = {
        {"plugins",
         {{"instances", json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                                     {{"name", "local"}, {"plugin", "unix"}},
                                     // The plain listener's I/O thread busy-polls
                                     // (docs/performance.md), so every test here drives that loop
                                     // through the real gateway; the TLS one keeps the default.
                                     {{"name", "bridge"},
                                      {"plugin", "bridge"},
                                      {"config", {{"port", port_}, {"busy_poll_us", 1000}}}},
                                     {{"name", "bridge-tls"},
                                      {"plugin", "bridge"},
                                      {"config", {{"port", tls_port_}, {"tls", true}}}}})}}},
        {"bridge", {{"ping_interval_ms", 60000}, {"idle_timeout_ms", 120000}}},
        // Five hundred devices pairing at once from one address (a fleet behind one NAT).
        {"pairing", {{"max_pending_per_peer", 1000}}},
        {"limits", {{"max_anonymous_per_peer", 1000}}}};
    std::ofstream(dir_.file("cfg.json")) << cfg.dump(2);
    gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
    ASSERT_TRUE(gw_.wait_ready());
    admin_ = cli::OperatorClient::connect(gw_.socket_path());
    admin_.call("orgs.create", {{"name", "acme"}});
  }

  BridgeClient node() { return BridgeClient::connect("127.0.0.1", port_); }

  // Pairs `node_id` declaring `commands` and returns its token; `c` ends up authenticated.
  std::string pair(BridgeClient& c, const std::string& node_id,
                   const json& commands = json::array({"echo"})) {
    c.pair_request(
        node_id,
        {{"displayName", node_id + " device"}, {"platform", "ios"}, {"commands", commands}});
    std::string request_id;
    for (int i = 0; i < 100 && request_id.empty(); ++i) {
      json pending = admin_.call("nodes.pending");
      for (const auto& p : pending["pending"]) {
        if (p["nodeId"] == node_id) request_id = p["requestId"];
      }
      if (request_id.empty()) std::this_thread::sleep_for(20ms);
    }
    EXPECT_FALSE(request_id.empty()) << node_id << " never showed up as pending";
    admin_.call("nodes.approve", {{"requestId", request_id}, {"org", "acme"}});
    auto ok = c.read_type("pair-ok", 5s);
    EXPECT_TRUE(ok) << "no pair-ok for " << node_id;
    auto hello = c.read_type("hello-ok", 5s);
    EXPECT_TRUE(hello) << "no hello-ok after pair-ok";
    read_voicewake_changed(c);
    return ok ? (*ok)["token"].get<std::string>() : "";
  }

  // What follows every hello-ok, as in the reference: the org's voice wake triggers.
  static void read_voicewake_changed(BridgeClient& c) {
    auto wake = c.read_until(
        [](const json& f) {
          return f.value("type", "") == "event" && f.value("event", "") == "voicewake.changed";
        },
        5s);
    EXPECT_TRUE(wake) << "no voicewake.changed after hello-ok";
  }

  CommandResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv{cli_bin(), "--state-dir", gw_.state_dir()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, {}, 30s);
  }

  TempDir dir_;
  GatewayProcess gw_;
  cli::OperatorClient admin_;
  int port_ = 0;
  int tls_port_ = 0;
};

TEST_F(Bridge, PairingOnTheSameSocketThenReconnectWithTheToken) {
  auto c = node();
  json first = c.hello("phone-1", std::nullopt, {{"displayName", "Ann's phone"}});
  EXPECT_EQ(first["type"], "error");
  EXPECT_EQ(first["code"], "NOT_PAIRED");

  // The operator side hears about the request as an event.
  auto watcher = cli::OperatorClient::connect(gw_.socket_path());
  watcher.call("whoami");
  std::string token = pair(c, "phone-1", json::array({"canvas.snapshot", "location.get"}));
  ASSERT_EQ(token.size(), 43u) << "32 random bytes, base64url";
  auto event = watcher.read_event(5s);
  ASSERT_TRUE(event);
  EXPECT_EQ((*event)["event"], "node.pair.requested");
  EXPECT_EQ((*event)["payload"]["nodeId"], "phone-1");
  EXPECT_EQ((*event)["seq"], 1);

  // Authenticated on the pairing socket already.
  json res = c.call("health");
  EXPECT_EQ(res["ok"], true);
  c.close();

  auto again = node();
  json hello = again.hello("phone-1", token, {{"protocol", 3}});
  ASSERT_EQ(hello["type"], "hello-ok") << hello.dump();
  EXPECT_EQ(hello["protocol"], 1) << "answers with the version it speaks";
  EXPECT_FALSE(hello["serverName"].get<std::string>().empty());

  auto wrong = node();
  json refused = wrong.hello("phone-1", std::string(43, 'A'));
  EXPECT_EQ(refused["type"], "error");
  EXPECT_EQ(refused["code"], "UNAUTHORIZED");
  // The socket stays usable for pair-request after a refusal.
  EXPECT_EQ(wrong.call("health")["error"]["code"], "UNAUTHORIZED");
  EXPECT_TRUE(wrong.connected());

  json nodes = admin_.call("nodes.list", {{"org", "acme"}})["nodes"];
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0]["status"], "online");
  EXPECT_EQ(nodes[0]["platform"], "ios");
  EXPECT_EQ(nodes[0].dump().find(token), std::string::npos) << "the token is never shown again";
}

TEST_F(Bridge, ScopedRpcAllowsTheNodeFamiliesOnly) {
  auto c = node();
  pair(c, "tablet");
  json health = c.call("health");
  ASSERT_EQ(health["ok"], true) << health.dump();
  EXPECT_EQ(BridgeClient::parse_field(health, "payloadJSON")["ok"], true);

  json cfg = BridgeClient::parse_field(c.call("config.get"), "payloadJSON");
  EXPECT_TRUE(cfg.contains("serverName"));
  EXPECT_FALSE(cfg.contains("tls")) << "public settings only";

  for (const char* m : {"config.set", "config.patch", "nodes.list", "orgs.create"}) {
    json r = c.call(m, json::object());
    EXPECT_EQ(r["ok"], false);
    EXPECT_EQ(r["error"]["code"], "FORBIDDEN") << m;
    EXPECT_EQ(r["error"]["message"], "Method not allowed");
    EXPECT_EQ(r["error"]["details"]["method"], m);
  }
  json set = c.call("voicewake.set", {{"triggers", {"hey vespid"}}});
  ASSERT_EQ(set["ok"], true) << set.dump();
  json got = BridgeClient::parse_field(c.call("voicewake.get"), "payloadJSON");
  EXPECT_EQ(got["triggers"], json::array({"hey vespid"}));
}

// Before hello, a frame the gateway cannot take is answered and the handshake can go on. After
// it, a refused frame is answered and the connection closed: the reference client takes any
// error but NOT_PAIRED / UNAUTHORIZED as the end of its connection (issue 20, point 8), so the
// node dials again and says hello with its token.
TEST_F(Bridge, MalformedInputGetsTheReferenceErrorsAndAnAuthenticatedNodeIsClosedWithThem) {
  auto c = node();
  c.send_raw("{this is not json\n");
  auto e = c.read();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "error");
  EXPECT_EQ((*e)["code"], "INVALID_REQUEST");

  c.send({{"type", "launch-missiles"}});
  e = c.read();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "UNAUTHORIZED") << "anything before hello is unauthorized";

  c.send({{"type", "req"}, {"id", "early"}, {"method", "health"}});
  e = c.read();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "res");
  EXPECT_EQ((*e)["id"], "early");
  EXPECT_EQ((*e)["error"]["code"], "UNAUTHORIZED");

  const std::string token = pair(c, "laptop");
  c.send({{"type", "res"}, {"id", "x"}, {"ok", true}});
  e = c.read();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "INVALID_REQUEST") << "nodes do not send res";
  EXPECT_TRUE(c.wait_closed(5s)) << "an error left an authenticated node's socket open";
  c = node();
  EXPECT_EQ(c.hello("laptop", token)["type"], "hello-ok");
  read_voicewake_changed(c);
  c.send({{"type", "invoke"}, {"id", "x"}, {"command", "y"}});
  e = c.read();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "INVALID_REQUEST") << "nodes do not send invoke";
  EXPECT_TRUE(c.wait_closed(5s));
  c = node();
  EXPECT_EQ(c.hello("laptop", token)["type"], "hello-ok");
  read_voicewake_changed(c);
  // A bad req is answered with res ok:false, and the connection stays.
  c.send({{"type", "req"}, {"id", "p"}, {"method", "health"}, {"paramsJSON", "{broken"}});
  e = c.read();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["error"]["code"], "INVALID_REQUEST");

  c.send({{"type", "ping"}, {"id", "p1"}});
  e = c.read_type("pong");
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["id"], "p1");
  EXPECT_EQ(c.call("health")["ok"], true) << "still usable";

  // An oversized line is answered, then the connection closes.
  c.send_raw(std::string(1024 * 1024 + 16, 'x') + "\n", 10s);
  auto big = c.read_type("error", 5s);
  ASSERT_TRUE(big);
  EXPECT_EQ((*big)["code"], "INVALID_REQUEST");
  EXPECT_NE((*big)["message"].get<std::string>().find("max_line_bytes"), std::string::npos);
  EXPECT_TRUE(c.wait_closed(5s));
}

TEST_F(Bridge, InvokeRoundTripThroughTheCli) {
  EXPECT_NE(gw_.log_text().find("I/O threads poll for 1000 us"), std::string::npos)
      << "the busy-polling listener did not say so at start";
  auto c = node();
  pair(c, "kiosk", json::array({"canvas.snapshot"}));
  std::thread answer([&] {
    auto inv = c.read_type("invoke", 10s);
    ASSERT_TRUE(inv);
    EXPECT_EQ((*inv)["command"], "canvas.snapshot");
    json params = BridgeClient::parse_field(*inv, "paramsJSON");
    c.send({{"type", "invoke-res"},
            {"id", (*inv)["id"]},
            {"ok", true},
            {"payloadJSON", json{{"format", params["format"]}, {"bytes", 1234}}.dump()}});
  });
  auto r = cli(
      {"nodes", "invoke", "kiosk", "canvas.snapshot", "--params", R"({"format":"png"})", "--json"});
  answer.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json out = json::parse(r.out);
  json payload = out.contains("payload") ? out["payload"] : out;
  EXPECT_EQ(payload["format"], "png");
  EXPECT_EQ(payload["bytes"], 1234);

  r = cli({"nodes", "invoke", "kiosk", "sms.send"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("UNAVAILABLE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did not declare"), std::string::npos) << r.err;

  r = cli({"nodes", "invoke", "kiosk", "canvas.snapshot", "--timeout", "300"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("did not answer within 300 ms"), std::string::npos) << r.err;

  // A node the registry does not know is named as such before anything is invoked.
  r = cli({"nodes", "invoke", "nobody", "canvas.snapshot"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("NOT_FOUND: no node \"nobody\""), std::string::npos) << r.err;
}

// A node's answer is passed on as text (not re-built), so what the operator receives must still
// be one valid JSON line whatever the node sent: escapes intact, a pretty-printed payload put on
// one line, an invalid one refused with the reason.
TEST_F(Bridge, WhateverTheNodeAnswersTheOperatorGetsOneValidLine) {
  auto c = node();
  pair(c, "scribe", json::array({"echo"}));
  const std::string tricky = "quote \" \\ backslash, tab \t, newline \n, caf\xc3\xa9";
  const std::vector<std::string> answers = {
      json{{"text", tricky}}.dump(),                     // escapes inside the embedded text
      json{{"lines", {1, 2, {{"x", tricky}}}}}.dump(2),  // pretty-printed: spans lines
      "{\"broken\": ",                                   // not JSON at all
      "[1] [2]"};                                        // two values
  std::thread answer([&] {
    for (const auto& a : answers) {
      auto inv = c.read_type("invoke", 10s);
      ASSERT_TRUE(inv);
      c.send({{"type", "invoke-res"}, {"id", (*inv)["id"]}, {"ok", true}, {"payloadJSON", a}});
    }
  });
  json first = admin_.call("nodes.invoke", {{"node", "scribe"}, {"command", "echo"}});
  EXPECT_EQ(first["payload"]["text"], tricky);
  json second = admin_.call("nodes.invoke", {{"node", "scribe"}, {"command", "echo"}});
  EXPECT_EQ(second["payload"], json::parse(answers[1]));
  for (int bad = 0; bad < 2; ++bad) {
    try {
      admin_.call("nodes.invoke", {{"node", "scribe"}, {"command", "echo"}});
      ADD_FAILURE() << "an invalid payloadJSON must fail the invoke";
    } catch (const cli::OperatorError& e) {
      EXPECT_EQ(e.code, "INVALID_REQUEST");
      EXPECT_NE(e.message.find("payloadJSON was not valid"), std::string::npos) << e.message;
      // The failure names what was invoked, as every nodes.invoke error does.
      EXPECT_EQ(e.details["node"], "scribe") << e.details.dump();
      EXPECT_EQ(e.details["command"], "echo") << e.details.dump();
    }
  }
  answer.join();
  // The admin connection is still in step: the next call answers normally.
  EXPECT_TRUE(admin_.call("health", json::object()).is_object());
}

// The local admin's nodes.invoke is read typed (no DOM) and its `params` go to the node as the
// text they came in; a request of any other shape (an escaped key, a null timeout) is read the
// DOM way. Either way the node must get the same value, and the caller the node's answer under
// its own id.
TEST_F(Bridge, InvokeParamsReachTheNodeAsSentWhateverTheRequestsShape) {
  auto c = node();
  pair(c, "mirror", json::array({"echo"}));
  struct Case {
    std::string line;
    json id;
    json expected;  // what the node receives and echoes; "none" when it got no paramsJSON
  };
  const std::vector<Case> cases = {
      {R"({"type":"req","id":1,"method":"nodes.invoke","params":{"node":"mirror","command":"echo","params":{"t":"caf\u00e9 \ud83d\ude00 \"q\"","n":[1,-2.5e3,true,null],"o":{}}}})",
       1,
       {{"t", "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\""},
        {"n", {1, -2500.0, true, nullptr}},
        {"o", json::object()}}},
      {R"({"type":"req","id":"two","method":"nodes.invoke","params":{"node":"mirror","command":"echo","params":{"x":1},"timeoutMs":null}})",
       "two",
       {{"x", 1}}},
      {R"({"type":"req","id":3,"method":"nodes.invoke","params":{"n\u006fde":"mirror","command":"echo","params":[1,2]}})",
       3,
       {1, 2}},
      {R"({"type":"req","id":4,"method":"nodes.invoke","params":{"node":"mirror","command":"echo"}})",
       4, "none"},
      {R"({"type":"req","id":5,"method":"nodes.invoke","params":{"node":"mirror","command":"echo","params":null,"timeoutMs":5000}})",
       5, "none"},
      {R"( { "type" : "req" , "id" : 6 , "method" : "nodes.invoke" , "params" : { "node" : "mirror" , "command" : "echo" , "params" : { "spaced" : [ 1 , 2 ] } } } )",
       6,
       {{"spaced", {1, 2}}}},
  };
  std::thread echo([&] {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      auto inv = c.read_type("invoke", 10s);
      ASSERT_TRUE(inv);
      const std::string got = inv->contains("paramsJSON")
                                  ? BridgeClient::parse_field(*inv, "paramsJSON").dump()
                                  : std::string("\"none\"");
      c.send({{"type", "invoke-res"}, {"id", (*inv)["id"]}, {"ok", true}, {"payloadJSON", got}});
    }
  });
  for (const Case& k : cases) {
    admin_.send_raw(k.line + "\n");
    std::optional<json> res;
    while (!res) {
      auto line = admin_.read_line(10s);
      ASSERT_TRUE(line) << "no answer to " << k.line;
      json f = json::parse(*line);
      if (f.value("type", "") == "res") res = f;
    }
    EXPECT_EQ((*res)["id"], k.id) << k.line;
    ASSERT_EQ((*res)["ok"], true) << res->dump();
    EXPECT_EQ((*res)["payload"]["payload"], k.expected) << k.line;
  }
  echo.join();
}

TEST_F(Bridge, PendingInvokesFailAtOnceWhenTheNodeDisconnects) {
  auto c = node();
  pair(c, "flaky");
  auto started = std::chrono::steady_clock::now();
  std::thread drop([&] {
    c.read_type("invoke", 10s);
    c.close();  // vanish without answering
  });
  try {
    admin_.call("nodes.invoke", {{"node", "flaky"}, {"command", "echo"}, {"timeoutMs", 20000}});
    FAIL() << "the invoke must fail";
  } catch (const cli::OperatorError& e) {
    EXPECT_EQ(e.code, "UNAVAILABLE");
    EXPECT_NE(e.message.find("disconnected"), std::string::npos) << e.message;
  }
  drop.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "not after the 20 s timeout";
}

TEST_F(Bridge, RevokeClosesTheSocketAndRefusesTheToken) {
  auto c = node();
  std::string token = pair(c, "stolen");
  auto r = cli({"nodes", "revoke", "stolen"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(c.wait_closed(3s)) << "revocation closes open connections at once";
  auto again = node();
  json hello = again.hello("stolen", token);
  EXPECT_EQ(hello["code"], "UNAUTHORIZED");
  EXPECT_EQ(admin_.call("nodes.describe", {{"node", "stolen"}})["node"]["status"], "revoked");
}

TEST_F(Bridge, ANewConnectionReplacesTheOldOne) {
  auto first = node();
  std::string token = pair(first, "dual");
  auto second = node();
  ASSERT_EQ(second.hello("dual", token)["type"], "hello-ok");
  EXPECT_TRUE(first.wait_closed(3s)) << "the older connection is closed";
  // Invokes now go to the new connection, and the old one's close did not unregister it.
  std::thread answer([&] {
    auto inv = second.read_type("invoke", 10s);
    ASSERT_TRUE(inv);
    second.send(
        {{"type", "invoke-res"}, {"id", (*inv)["id"]}, {"ok", true}, {"payloadJSON", "\"new\""}});
  });
  json out = admin_.call("nodes.invoke", {{"node", "dual"}, {"command", "echo"}});
  answer.join();
  EXPECT_EQ(out["payload"], "new");
}

TEST_F(Bridge, OperatorTagsAndNamesWinOverWhatTheNodeClaims) {
  auto c = node();
  std::string token = pair(c, "claimer");
  ASSERT_EQ(cli({"nodes", "rename", "claimer", "Front desk"}).exit_code, 0);
  ASSERT_EQ(cli({"nodes", "tag", "claimer", "lobby", "ios"}).exit_code, 0);
  c.close();
  auto again = node();
  ASSERT_EQ(again.hello("claimer", token,
                        {{"displayName", "I am root"}, {"commands", {"system.run"}}})["type"],
            "hello-ok");
  json n = admin_.call("nodes.describe", {{"node", "claimer"}})["node"];
  EXPECT_EQ(n["displayName"], "Front desk");
  EXPECT_EQ(n["tags"], json::array({"ios", "lobby"}));
  EXPECT_EQ(n["commands"], json::array({"echo"})) << "commands come from the approved pairing";
  try {
    admin_.call("nodes.invoke", {{"node", "claimer"}, {"command", "system.run"}});
    FAIL();
  } catch (const cli::OperatorError& e) {
    EXPECT_EQ(e.code, "UNAVAILABLE");
  }
}

TEST_F(Bridge, PendingPairingsSurviveARestartAndExpire) {
  auto c = node();
  c.pair_request("later", {{"displayName", "Later"}});
  for (int i = 0; i < 50 && admin_.call("nodes.pending")["pending"].empty(); ++i)
    std::this_thread::sleep_for(20ms);
  std::string request_id = admin_.call("nodes.pending")["pending"][0]["requestId"];
  c.pair_request("later", {{"displayName", "Later, retried"}});
  std::this_thread::sleep_for(200ms);
  json pending = admin_.call("nodes.pending")["pending"];
  ASSERT_EQ(pending.size(), 1u) << "one request per node id";
  EXPECT_EQ(pending[0]["requestId"], request_id) << "a retry reuses the request";
  EXPECT_EQ(pending[0]["displayName"], "Later, retried");
  // The gateway stops with the device still waiting: its request is kept (closing the
  // connection itself would withdraw it: stranger_limits_test).
  admin_.close();
  ASSERT_EQ(gw_.terminate(), 0);
  c.close();
  gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
  ASSERT_TRUE(gw_.wait_ready());
  admin_ = cli::OperatorClient::connect(gw_.socket_path());
  pending = admin_.call("nodes.pending")["pending"];
  ASSERT_EQ(pending.size(), 1u) << "pending requests are stored";
  EXPECT_EQ(pending[0]["requestId"], request_id);
  auto r = cli({"nodes", "reject", request_id});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(admin_.call("nodes.pending")["pending"].empty());
}

TEST_F(Bridge, TlsWithAPinnedFingerprint) {
  auto fp = run_command({gateway_bin(), "tls", "fingerprint", "--state-dir", gw_.state_dir()});
  ASSERT_EQ(fp.exit_code, 0) << fp.err;
  std::string pin = fp.out.substr(0, 64);
  ASSERT_EQ(pin.size(), 64u);
  TlsOptions tls;
  tls.enabled = true;
  tls.pin_sha256 = pin;
  auto c = BridgeClient::connect("127.0.0.1", tls_port_, tls);
  EXPECT_EQ(c.peer_cert_sha256(), pin);
  EXPECT_NE(c.tls_version().find("TLSv1."), std::string::npos);
  json first = c.hello("secure-1");
  EXPECT_EQ(first["code"], "NOT_PAIRED");
  pair(c, "secure-1");
  EXPECT_EQ(c.call("health")["ok"], true);

  TlsOptions wrong = tls;
  wrong.pin_sha256 = std::string(64, '0');
  EXPECT_THROW(BridgeClient::connect("127.0.0.1", tls_port_, wrong), BridgeError);
}

TEST_F(Bridge, FiveHundredNodesConnectedAtOnceAllAnswerInvokes) {
  constexpr int kNodes = 500;
  std::vector<BridgeClient> nodes;
  std::vector<std::string> tokens;
  nodes.reserve(kNodes);
  // Pair them all: every pair-request first, then approve the lot.
  for (int i = 0; i < kNodes; ++i) {
    nodes.push_back(node());
    nodes.back().pair_request("n" + std::to_string(i), {{"commands", {"echo"}}});
  }
  size_t seen = 0;
  for (int i = 0; i < 200 && seen < kNodes; ++i) {
    seen = admin_.call("nodes.pending")["pending"].size();
    if (seen < kNodes) std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(seen, static_cast<size_t>(kNodes));
  json pending = admin_.call("nodes.pending");  // named: iterating a temporary's member dangles
  for (const auto& p : pending["pending"]) {
    admin_.call("nodes.approve", {{"requestId", p["requestId"]}, {"org", "acme"}});
  }
  for (auto& n : nodes) ASSERT_TRUE(n.read_type("hello-ok", 10s));
  EXPECT_EQ(admin_.call("status")["nodesOnline"], kNodes);

  // One invoke per node, pipelined on one operator connection (invokes are concurrent).
  std::string batch;
  for (int i = 0; i < kNodes; ++i) {
    batch +=
        json{{"type", "req"},
             {"id", i},
             {"method", "nodes.invoke"},
             {"params",
              {{"node", "n" + std::to_string(i)}, {"command", "echo"}, {"params", {{"i", i}}}}}}
            .dump() +
        "\n";
  }
  admin_.send_raw(batch);
  for (auto& n : nodes) {
    auto inv = n.read_type("invoke", 10s);
    ASSERT_TRUE(inv);
    n.send({{"type", "invoke-res"},
            {"id", (*inv)["id"]},
            {"ok", true},
            {"payloadJSON", (*inv)["paramsJSON"]}});
  }
  std::vector<bool> answered(kNodes, false);
  for (int k = 0; k < kNodes; ++k) {
    auto line = admin_.read_line(10s);
    ASSERT_TRUE(line) << "answer " << k << " missing";
    json r = json::parse(*line);
    ASSERT_EQ(r["ok"], true) << *line;
    int i = r["id"];
    EXPECT_EQ(r["payload"]["payload"]["i"], i) << "each node answered its own invoke";
    answered[static_cast<size_t>(i)] = true;
  }
  EXPECT_EQ(std::count(answered.begin(), answered.end(), true), kNodes);
}

}  // namespace
}  // namespace vespid::test

namespace vespid::test {
namespace {

// Short timers, so the gateway's own liveness checks can be watched in a test.
class BridgeLiveness : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = pick_free_port();
    json cfg = {
        {"plugins",
         {{"instances",
           json::array(
               {{{"name", "storage"}, {"plugin", "sqlite"}},
                {{"name", "local"}, {"plugin", "unix"}},
                {{"name", "bridge"}, {"plugin", "bridge"}, {"config", {{"port", port_}}}}})}}},
        {"bridge",
         {{"handshake_timeout_ms", 400}, {"ping_interval_ms", 200}, {"idle_timeout_ms", 700}}}};
    std::ofstream(dir_.file("cfg.json")) << cfg.dump();
    gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
    ASSERT_TRUE(gw_.wait_ready());
  }
  TempDir dir_;
  GatewayProcess gw_;
  int port_ = 0;
};

TEST_F(BridgeLiveness, ASilentConnectionIsToldAndClosedAfterTheHandshakeTimeout) {
  auto c = BridgeClient::connect("127.0.0.1", port_);
  auto e = c.read_type("error", 3s);
  ASSERT_TRUE(e) << "no error after bridge.handshake_timeout_ms";
  EXPECT_EQ((*e)["code"], "UNAUTHORIZED");
  EXPECT_TRUE(c.wait_closed(3s));
}

TEST_F(BridgeLiveness, AQuietNodeIsPingedAndASilentOneIsDropped) {
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  admin.call("orgs.create", {{"name", "acme"}});
  auto c = BridgeClient::connect("127.0.0.1", port_);
  c.pair_request("sleepy", {{"commands", {"echo"}}});
  json pending;
  for (int i = 0; i < 50 && (pending = admin.call("nodes.pending"))["pending"].empty(); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(pending["pending"].empty());
  admin.call("nodes.approve", {{"requestId", pending["pending"][0]["requestId"]}, {"org", "acme"}});
  ASSERT_TRUE(c.read_type("hello-ok", 3s));
  // A node that answers pings stays connected well past the idle timeout.
  auto until = std::chrono::steady_clock::now() + 1500ms;
  int pings = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto p = c.read_type("ping", 500ms);
    if (!p) continue;
    pings++;
    c.send({{"type", "pong"}, {"id", (*p)["id"]}});
  }
  EXPECT_GE(pings, 2);
  EXPECT_EQ(admin.call("nodes.describe", {{"node", "sleepy"}})["node"]["status"], "online");
  // One that goes silent (a half-open socket, as far as the gateway can tell) is dropped.
  EXPECT_TRUE(c.wait_closed(3s)) << "a node silent past bridge.idle_timeout_ms must be dropped";
  json n;
  for (int i = 0; i < 50; ++i) {
    n = admin.call("nodes.describe", {{"node", "sleepy"}})["node"];
    if (n["status"] == "offline") break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(n["status"], "offline");
}

}  // namespace
}  // namespace vespid::test
